"""YAML files loaded as plain JSON values plus the line and column of every node.

pyyaml alone forgets positions and keeps the last of two duplicate keys; this module
composes the node tree instead, so every later message can point at a line.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from yaml.events import StreamEndEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from stackplan.errors import Problem, SpecError, StackplanError

PathPart = str | int
Path_ = tuple[PathPart, ...]


def render_path(path: Path_) -> str:
    """`servers.web.security_groups[0]`: the form every message uses."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True, slots=True)
class Position:
    line: int  # 1-based, as editors count
    column: int


Mark = tuple[int, int]  # (line, column) as kept per node: a Position on demand


@dataclass(frozen=True, slots=True)
class LoadedYaml:
    """One YAML document: its value, and where each path's key and value start."""

    file: str  # the path as the user gave it, for messages
    data: Any
    values: Mapping[Path_, Mark] = field(default_factory=lambda: MappingProxyType({}))
    keys: Mapping[Path_, Mark] = field(default_factory=lambda: MappingProxyType({}))

    def position(self, path: Path_, *, prefer_key: bool = False) -> Position:
        """Where `path` is written, or its nearest written ancestor (1:1 for none)."""
        while True:
            if prefer_key and path in self.keys:
                return Position(*self.keys[path])
            if path in self.values:
                return Position(*self.values[path])
            if not path:
                return Position(1, 1)
            path = path[:-1]

    def problem(self, path: Path_, message: str, *, prefer_key: bool = False) -> Problem:
        pos = self.position(path, prefer_key=prefer_key)
        return Problem(self.file, pos.line, pos.column, render_path(path), message)

    def where(self, path: Path_, *, prefer_key: bool = True) -> str:
        pos = self.position(path, prefer_key=prefer_key)
        return f"{self.file}:{pos.line}:{pos.column}"


def read_yaml_file(path: Path, what: str = "spec") -> tuple[LoadedYaml, bytes]:
    """Load the file at `path` (named in messages as given) and return it with its bytes."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        hint = "give the spec with -f FILE" if what == "spec" else None
        raise StackplanError(f"{what} file {str(path)!r} does not exist", hint=hint) from None
    except OSError as exc:
        raise StackplanError(f"cannot read {what} file {str(path)!r}: {exc.strerror}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = Problem(str(path), 1, 1, "", f"not UTF-8 text (byte {exc.start})")
        raise SpecError([problem]) from None
    return load_yaml(text, str(path)), data


def load_yaml(text: str, file: str) -> LoadedYaml:
    """Parse one YAML document; every problem (syntax, duplicates...) raises `SpecError`."""
    root, loader = _compose(text, file)
    builder = _Builder(file, loader)
    data = None if root is None else builder.build(root, ())
    if data is None:  # no document, or `---` alone
        raise SpecError([Problem(file, 1, 1, "", "the file is empty; expected a YAML mapping")])
    if builder.problems:
        raise SpecError(builder.problems)
    return LoadedYaml(file, data, MappingProxyType(builder.values), MappingProxyType(builder.keys))


# libyaml's parser, where PyYAML was built with it: about 4x faster on a big spec, with the
# same nodes and marks. What is wrong with a file the pure-Python parser says, in the words
# and at the places it always has.
class _CachedResolver:
    """The implicit tag of a plain scalar, worked out once per text: libyaml's parser asks
    the pure-Python resolver (a chain of regular expressions) for every scalar, and a big
    spec says `m1.tiny` ten thousand times."""

    _tags: dict[tuple[Any, str, Any], str] = {}

    def resolve(self, kind: Any, value: str, implicit: Any) -> str:
        key = (kind, value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = super().resolve(kind, value, implicit)  # type: ignore[misc]
            if len(self._tags) < 100_000:
                self._tags[key] = tag
        return tag


_FAST_LOADER = (
    type("_FastLoader", (_CachedResolver, yaml.CSafeLoader), {}) if yaml.__with_libyaml__ else None
)


def _compose(text: str, file: str) -> tuple[Node | None, Any]:
    """The node tree of the file's one document, and the loader that built it."""
    if _FAST_LOADER is not None:
        fast = _FAST_LOADER(text)
        try:
            root = fast.get_node() if fast.check_node() else None
            if not fast.check_node():
                return root, fast
        except yaml.YAMLError:
            pass  # reported below
        finally:
            fast.dispose()
    loader = yaml.SafeLoader(text)
    try:
        return _compose_single(loader, file), loader
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_syntax_problem(exc, file)]) from None
    finally:
        loader.dispose()


def _compose_single(loader: yaml.SafeLoader, file: str) -> Node | None:
    """The stream's only document; a second one is an error at its start."""
    loader.get_event()  # StreamStartEvent
    root = None if loader.check_event(StreamEndEvent) else loader.compose_document()
    if not loader.check_event(StreamEndEvent):
        mark = loader.peek_event().start_mark
        raise SpecError(
            [
                Problem(
                    file,
                    mark.line + 1,
                    mark.column + 1,
                    "",
                    "a second YAML document starts here; a file holds exactly one",
                )
            ]
        )
    return root


def _syntax_problem(exc: yaml.MarkedYAMLError, file: str) -> Problem:
    """A parser error as a Problem, worded for people who did not write the parser."""
    problem = exc.problem or "invalid YAML"
    mark = exc.problem_mark or exc.context_mark
    if "'\\t'" in problem:
        problem = "tab character: YAML indentation must use spaces"
    elif "end of stream" in problem and exc.context_mark is not None:
        # An unclosed quote or bracket: the useful line is where it was opened.
        what = "quoted string" if "quoted" in (exc.context or "") else "bracket"
        problem = f"this {what} is never closed"
        mark = exc.context_mark
    elif exc.context and exc.context_mark is not None:
        context = exc.context.removeprefix("while ")
        problem = f"{problem} ({context} started at line {exc.context_mark.line + 1})"
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    return Problem(file, line, column, "", f"YAML syntax error: {problem}")


class _Builder:
    """Turns a node tree into JSON values, recording positions and duplicate keys."""

    def __init__(self, file: str, loader: yaml.SafeLoader):
        self.file = file
        self.loader = loader
        self.values: dict[Path_, Mark] = {}
        self.keys: dict[Path_, Mark] = {}
        self.problems: list[Problem] = []

    def build(self, node: Node, path: Path_) -> Any:
        self.values[path] = _pos(node)
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        if isinstance(node, SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self._scalar(node)

    def _mapping(self, node: MappingNode, path: Path_) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self._add(key_node, path, "a key must be a plain value, not a list or mapping")
                continue
            # Keys keep the text as written: `yes:` is the key "yes", not True.
            key = key_node.value
            if key in result:
                first_line = self.keys[(*path, key)][0]
                message = f"duplicate key (first given at line {first_line})"
                self._add(key_node, (*path, key), message)
                continue
            self.keys[(*path, key)] = _pos(key_node)
            result[key] = self.build(value_node, (*path, key))
        return result

    def _scalar(self, node: Node) -> Any:
        if node.tag == _STR:
            return node.value  # most scalars: no constructor needed
        value = self.loader.construct_object(node, deep=True)
        # Dates, timestamps and binary are not JSON values; keep the text as written.
        if isinstance(value, datetime.date | bytes):
            return node.value
        return value

    def _add(self, node: Node, path: Path_, message: str) -> None:
        line, column = _pos(node)
        self.problems.append(Problem(self.file, line, column, render_path(path), message))


_STR = "tag:yaml.org,2002:str"


def _pos(node: Node) -> Mark:
    mark = node.start_mark
    return (mark.line + 1, mark.column + 1)
