"""`${...}` expressions in spec strings: parsed, variables filled in, references kept.

Three forms: `${var.NAME}`, `${count.index}` and references `${KIND.NAME.ATTR}`,
`${KIND.NAME[INDEX].ATTR}`, `${KIND.NAME[*].ATTR}`. `$${` is a literal `${`. References
stay in the text to be filled at apply time (`fill_references`); this module knows
nothing of which resources exist, only of the syntax.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from stackplan.suggest import did_you_mean

_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}")
_VAR = re.compile(r"^var\.(?P<name>[A-Za-z0-9_-]+)$")
_REF = re.compile(
    r"^(?P<kind>[a-z_]+)\.(?P<name>[A-Za-z0-9_-]+)"
    r"(?:\[(?P<index>\d+|\*)\])?\.(?P<attr>[A-Za-z0-9_]+)$"
)
_WHOLE_VAR = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")
SPLAT = "*"


@dataclass(frozen=True, slots=True)
class Reference:
    """`${server.web[0].id}`: a value another resource has only once it exists."""

    kind: str
    name: str
    index: int | str | None  # an int, SPLAT, or None
    attr: str

    @property
    def text(self) -> str:
        index = "" if self.index is None else f"[{self.index}]"
        return f"${{{self.kind}.{self.name}{index}.{self.attr}}}"


@dataclass(frozen=True, slots=True)
class Substituted:
    """A string after filling variables: its new value, the references it keeps, errors."""

    value: Any
    references: tuple[Reference, ...] = ()
    errors: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Scope:
    """What `${var.X}` and `${count.index}` mean here; `missing` are variables with no value."""

    variables: Mapping[str, Any]
    count_index: int | None = None
    missing: frozenset[str] = frozenset()


def substitute(text: str, scope: Scope) -> Substituted:
    """Fill variables and count.index into `text`; a whole-string `${var.x}` keeps its type."""
    if "$" not in text:
        return Substituted(text)  # most values of a big spec: nothing to fill
    whole = _WHOLE_VAR.match(text)
    if whole and whole[1] in scope.variables:
        return Substituted(scope.variables[whole[1]])
    refs: list[Reference] = []
    errors: list[str] = []
    if _unclosed(text):
        errors.append("'${' is never closed with '}' (write $${ for a literal ${)")

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$${":
            return match[0]  # unescaped below, once we know whether references remain
        filled = _fill(match[1].strip(), scope, refs, errors)
        return match[0] if filled is None else filled

    result = _TOKEN.sub(replace, text)
    if not refs:
        result = result.replace("$${", "${")
    return Substituted(result, tuple(dict.fromkeys(refs)), tuple(errors))


def _fill(expr: str, scope: Scope, refs: list[Reference], errors: list[str]) -> str | None:
    """The text for one `${expr}`, or None to keep it as written (a reference, an error)."""
    if var := _VAR.match(expr):
        name = var["name"]
        if name not in scope.variables:
            if name not in scope.missing:
                hint = did_you_mean(name, [*scope.variables, *scope.missing])
                errors.append(f"undeclared variable '{name}'{hint}")
            return None
        return _as_text(name, scope.variables[name], errors)
    if expr == "count.index":
        if scope.count_index is None:
            errors.append("${count.index} is only allowed in a resource with count")
            return None
        return str(scope.count_index)
    if ref := parse_reference(expr):
        refs.append(ref)
        return None
    errors.append(
        f"cannot understand '${{{expr}}}': expected ${{var.NAME}}, ${{count.index}} or "
        "${KIND.NAME.ATTR} (write $${ for a literal ${)"
    )
    return None


def parse_reference(expr: str) -> Reference | None:
    """`server.web[0].id` (without `${}`) as a Reference, or None if it is not one."""
    match = _REF.match(expr)
    if not match or match["kind"] in ("var", "count"):
        return None
    index: int | str | None = match["index"]
    if index is not None and index != SPLAT:
        index = int(index)
    return Reference(match["kind"], match["name"], index, match["attr"])


def references_in(text: str) -> tuple[Reference, ...]:
    """The references a filled-in string still holds, in order of appearance."""
    found = (parse_reference(m[1].strip()) for m in _TOKEN.finditer(text) if m[1] is not None)
    return tuple(dict.fromkeys(r for r in found if r is not None))


def fill_references(text: str, value_of: Callable[[Reference], str]) -> str:
    """`text` with each reference replaced by `value_of(ref)` and `$${` unescaped (for apply)."""

    def replace(match: re.Match[str]) -> str:
        if match[0] == "$${":
            return "${"
        ref = parse_reference(match[1].strip())
        return match[0] if ref is None else value_of(ref)

    return _TOKEN.sub(replace, text)


def _as_text(name: str, value: Any, errors: list[str]) -> str | None:
    if isinstance(value, list | dict):
        errors.append(
            f"variable '{name}' is a {type(value).__name__}; only a whole-string "
            f"${{var.{name}}} can use it"
        )
        return None
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    return str(value)


def _unclosed(text: str) -> bool:
    """Whether a `${` is left once every complete `${...}` and `$${` is taken out."""
    return "${" in _TOKEN.sub("", text)
