"""A validated spec expanded into `Desired`: variables filled, count expanded, files read,
references checked and turned into dependencies.

What is generic lives here: sections, `count`, `depends_on`, `lifecycle`, `${...}`
references, fields that name another resource, outputs, cycles. What one entry's attributes
are is its kind's (`SpecKind.expand`, given an `Entry`); the kinds are passed in, so this
module names none. It reads the files the spec names (through `FileReader`) and nothing
else; the shape was checked against the schema before, so it trusts it. Every problem found
is collected and raised at once as a `SpecError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from stackplan.addr import Address
from stackplan.errors import Problem, SpecError
from stackplan.frozen import frozen_map
from stackplan.sensitive import paths_holding, texts_of
from stackplan.spec.files import FileReader
from stackplan.spec.graph import dependency_cycles, dependency_graph
from stackplan.spec.interpolate import SPLAT, Reference, Scope, parse_reference, substitute
from stackplan.spec.load import LoadedYaml, Path_, render_path
from stackplan.spec.model import Desired, DesiredResource, Lifecycle
from stackplan.spec.schema import SchemaKind
from stackplan.spec.variables import Variables
from stackplan.suggest import did_you_mean

METADATA_VALUE_LIMIT = 255
# A value naming the cloud's resource, until the resolver finds it: {CLOUD_REF: kind,
# "name" or "id": ..., FIELD: the spec field it came from, for messages}.
CLOUD_REF, FIELD = "$ref", "$field"


def target_key(value: Any) -> str:
    """What a field's value names, as text: two values naming the same resource have the
    same key (the field a cloud reference came from is for messages only)."""
    if isinstance(value, dict):
        value = {k: v for k, v in value.items() if k != FIELD}
    return json.dumps(value, sort_keys=True)


def same_target(a: Any, b: Any) -> bool:
    """Whether two fields' values name the same resource."""
    return a is not None and target_key(a) == target_key(b)


_KEYED = re.compile(r"^(?P<name>[A-Za-z0-9_-]+)(?:\[(?P<index>\d+)\])?$")


class SpecKind(SchemaKind, Protocol):
    """What expansion needs of a kind (stackplan.kinds.base.Kind provides it)."""

    label: str  # what messages call it ("server group")
    references: Mapping[str, str]  # spec field -> the kind it names
    reference_attrs: tuple[str, ...]
    ref_attr: str
    ignorable: Mapping[str, str]

    def expand(self, entry: Entry) -> Mapping[str, Any]: ...

    def implied(
        self, resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
    ) -> Iterable[Address]: ...


def expand(
    doc: LoadedYaml,
    spec_bytes: bytes,
    variables: Variables,
    reader: FileReader,
    kinds: Mapping[str, SpecKind],
) -> Desired:
    """`Desired` for a schema-valid spec; raises `SpecError` with every problem found."""
    expander = _Expander(doc, variables, reader, kinds)
    texts = texts_of(variables.values[n] for n in variables.sensitive if n in variables.values)
    made = [r for kind in kinds.values() for r in expander.entries(kind)]
    # By kind: each resource looks only at the kinds it may need (a floating IP at the
    # routers), so finding what is implied stays linear in the size of the spec.
    by_kind: dict[str, list[DesiredResource]] = {}
    for r in made:
        by_kind.setdefault(r.kind, []).append(r)
    resources = [
        replace(
            r,
            sensitive=paths_holding(r.attrs, texts),
            depends_on=tuple(dict.fromkeys([*r.depends_on, *kinds[r.kind].implied(r, by_kind)])),
        )
        for r in made
    ]
    outputs = expander.outputs()
    # Each instance of a counted resource repeats its problems: report them once.
    problems = list(dict.fromkeys([*variables.problems, *expander.problems]))
    desired = Desired(
        stack=doc.data.get("stack") or Path(doc.file).stem,
        spec_path=Path(doc.file),
        digest=spec_digest(spec_bytes, variables.values, reader),
        resources=tuple(sorted(resources, key=lambda r: r.address.sort_key())),
        outputs=frozen_map(outputs),
        variables=variables.values,
        sensitive_texts=texts,
        sensitive_outputs=tuple(sorted(paths_holding(outputs, texts))),
        backend=frozen_map(doc.data.get("backend") or {}, deep=True),
    )
    if not problems:
        problems = _cycle_problems(doc, desired, kinds)
    if problems:
        raise SpecError(problems)
    return desired


def spec_digest(spec_bytes: bytes, values: Mapping[str, Any], reader: FileReader) -> str:
    """sha256 over the spec, the effective variables and each file read (by relative name)."""
    digest = hashlib.sha256(spec_bytes)
    digest.update(b"\0variables\0" + json.dumps(dict(values), sort_keys=True).encode())
    for name, data in sorted(reader.files().items()):
        digest.update(b"\0file\0" + name.encode() + b"\0" + data)
    return digest.hexdigest()


class Entry:
    """One instance of one spec entry, as its kind's `expand` sees it.

    Fields are read through it, so that variables are filled, references checked,
    dependencies noted and problems reported at the field's own line.
    """

    def __init__(
        self,
        expander: _Expander,
        kind: SpecKind,
        name: str,
        raw: Mapping[str, Any],
        index: int | None,
    ):
        self._x = expander
        self.kind = kind
        self.name = name
        self.raw = raw
        self.index = index
        self.deps: list[Address] = []
        self.late_deps: list[Address] = []
        self._scope = expander.scope(index)

    @contextmanager
    def late(self) -> Iterator[None]:
        """Within: what the fields read names is needed only once this resource exists
        (the kind sets those fields after its create), so it is no cycle to name itself
        or a resource that names this one back."""
        before = len(self.deps)
        try:
            yield
        finally:
            self.late_deps.extend(self.deps[before:])
            del self.deps[before:]

    def path(self, field: str | None = None) -> Path_:
        base: Path_ = (self.kind.section, self.name)
        return base if field is None else (*base, field)

    def has(self, field: str) -> bool:
        return field in self.raw

    def problem(self, field: str | None, message: str) -> None:
        self._x.problems.append(self._x.doc.problem(self.path(field), message))

    def value(self, field: str, default: Any = None, *, want_str: bool = True) -> Any:
        """The field with variables filled in; references are not allowed (the value is
        needed before anything exists)."""
        if field not in self.raw:
            return default
        return self._x.sub(self.raw[field], self.path(field), self._scope, want_str=want_str)

    def value_at(self, raw: Any, *at: str | int) -> Any:
        """`raw`, found at `at` within the entry, with variables filled in (as `value`)."""
        return self._x.sub(raw, (*self.path(), *at), self._scope)

    def with_refs(self, field: str, *, want_str: bool = True) -> Any:
        """The field with variables filled in and `${KIND.NAME.ATTR}` references kept (filled
        at apply time); each reference is a dependency."""
        if field not in self.raw:
            return None
        return self._x.sub(
            self.raw[field], self.path(field), self._scope, self.deps, want_str=want_str
        )

    def cloud_name(self) -> str:
        """The resource's name in the cloud: `name:` or the key, `-INDEX` added with count
        (unless the name uses ${count.index} itself)."""
        raw = self.raw.get("name") or self.name
        value = self._x.sub(raw, self.path("name"), self._scope)
        if self.index is None or "count.index" in raw or not isinstance(value, str):
            return value
        return f"{value}-{self.index}"

    def metadata(self, field: str = "metadata") -> dict[str, str]:
        """A map of strings (references allowed in values), each at most 255 characters once
        filled in, as Nova and Cinder take metadata."""
        result = {}
        for key, raw in (self.raw.get(field) or {}).items():
            path = (*self.path(field), key)
            value = self._x.sub(raw, path, self._scope, self.deps, want_str=False)
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            if len(text) > METADATA_VALUE_LIMIT:
                message = (
                    f"is {len(text)} characters long once variables are filled in; "
                    f"at most {METADATA_VALUE_LIMIT} are allowed"
                )
                self._x.problems.append(self._x.doc.problem(path, message))
            result[key] = text
        return result

    def read_file(self, field: str) -> str | None:
        """The text of the file the field names (relative to the spec), taken as it is."""
        name = self.value(field)
        if not isinstance(name, str):
            return None
        try:
            return self._x.reader.read_text(name)
        except (OSError, ValueError) as exc:
            self.problem(field, str(exc))
            return None

    def reference(self, field: str) -> Any:
        """A field naming a resource of the kind `references[field]` says (see `ref`);
        None when the field is absent."""
        if field not in self.raw:
            return None
        return self.ref(self.kind.references[field], self.raw[field], field)

    def refs(self, field: str) -> list[Any] | None:
        """A list field whose items each name a resource of `references[field]`."""
        if field not in self.raw:
            return None
        kind = self.kind.references[field]
        return [self.ref(kind, item, field, i) for i, item in enumerate(self.raw[field] or ())]

    def ref(self, kind: str, raw: Any, *at: str | int) -> Any:
        """What a value naming a resource of `kind` (at `at` within the entry) holds.

        The spec's own resource (`NAME`, `NAME[INDEX]`, or `${KIND.NAME.ATTR}`) becomes the
        reference `${KIND.NAME.<ref_attr>}`, filled at apply time, and a dependency; else
        `{"$ref": KIND, "name": ...}` (or `"id"`) for the resolver to find in the cloud.
        """
        return self._x.named(kind, raw, (*self.path(), *at), self)


class _Expander:
    """One pass over the spec; collects problems instead of stopping at the first."""

    def __init__(
        self,
        doc: LoadedYaml,
        variables: Variables,
        reader: FileReader,
        kinds: Mapping[str, SpecKind],
    ):
        self.doc = doc
        self.variables = variables
        self.reader = reader
        self.kinds = kinds
        self.problems: list[Problem] = []
        self.section = {name: doc.data.get(k.section) or {} for name, k in kinds.items()}
        self.broken: set[Address] = set()  # bases whose count is wrong (already reported)
        self.counts = {
            Address(kind, name): self._count(kind, name, spec)
            for kind, entries in self.section.items()
            for name, spec in entries.items()
        }

    # -- strings -------------------------------------------------------------------------

    def scope(self, index: int | None = None) -> Scope:
        return Scope(self.variables.values, index, self.variables.missing)

    def sub(
        self,
        value: Any,
        path: Path_,
        scope: Scope,
        deps: list[Address] | None = None,
        *,
        splat: bool = False,
        want_str: bool = True,
    ) -> Any:
        """`value` with variables filled in; references are checked and added to `deps`.

        `deps=None` means references are not allowed here (a value needed at plan time).
        """
        if isinstance(value, str) and "$" not in value:
            return value  # most values of a big spec: nothing to fill, nothing to check
        if isinstance(value, dict):
            return {k: self.sub(v, (*path, k), scope, deps, splat=splat) for k, v in value.items()}
        if isinstance(value, list):
            return [self.sub(v, (*path, i), scope, deps, splat=splat) for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        result = substitute(value, scope)
        for error in result.errors:
            self.problems.append(self.doc.problem(path, error))
        for ref in result.references:
            if deps is None:
                message = (
                    f"{ref.text}: references are only allowed in metadata, user_data and "
                    "outputs, and as the whole value of a field naming another resource "
                    "(other values are needed before anything is created)"
                )
                self.problems.append(self.doc.problem(path, message))
            else:
                deps.extend(self.reference(ref, path, splat=splat))
        if want_str and not isinstance(result.value, str):
            kind = type(result.value).__name__
            self.problems.append(self.doc.problem(path, f"{value} is a {kind}; a string is needed"))
        return result.value

    def reference(self, ref: Reference, path: Path_, *, splat: bool = False) -> list[Address]:
        """The addresses `ref` points at; a problem (and none) if it points at nothing."""
        names = self.section.get(ref.kind)
        if names is None or ref.name not in names:
            known = [f"{k}.{n}" for k, section in self.section.items() for n in section]
            hint = did_you_mean(f"{ref.kind}.{ref.name}", known)
            return self._bad(path, f"{ref.text}: no resource {ref.kind}.{ref.name}{hint}")
        attrs = self.kinds[ref.kind].reference_attrs
        if ref.attr not in attrs:
            hint = did_you_mean(ref.attr, attrs)
            listed = ", ".join(attrs)
            hint = hint or f"; it has {listed}"
            return self._bad(path, f"{ref.text}: {ref.kind} has no attribute '{ref.attr}'{hint}")
        if ref.index == SPLAT and not splat:
            return self._bad(path, f"{ref.text}: [*] is only allowed in outputs")
        index = None if ref.index == SPLAT else ref.index
        return self.instances(ref.kind, ref.name, index, path, whole=ref.index == SPLAT)

    def instances(
        self, kind: str, name: str, index: Any, path: Path_, *, whole: bool = False
    ) -> list[Address]:
        """The addresses of `KIND.NAME[index]`, or of all instances when `whole`."""
        base = Address(kind, name)
        if base in self.broken:
            return []
        count = self.counts.get(base)
        if count is None:
            if index is not None:
                return self._bad(path, f"{base} has no count; write {base} without an index")
            return [base]
        if whole:
            return [Address(kind, name, i) for i in range(count)]
        if index is None:
            return self._bad(path, f"{base} has count; name one instance as {base}[INDEX]")
        if index >= count:
            return self._bad(path, f"{base}[{index}] does not exist: {base} has count {count}")
        return [Address(kind, name, index)]

    def _bad(self, path: Path_, message: str) -> list[Address]:
        self.problems.append(self.doc.problem(path, message))
        return []

    def named(self, target: str, raw: Any, path: Path_, entry: Entry) -> Any:
        """What a field naming a `target` resource holds (see `Entry.reference`)."""
        field = render_path(path[2:])
        if isinstance(raw, dict):  # {id: ...} / {name: ...}: the cloud's, explicitly
            return {CLOUD_REF: target, **self.sub(raw, path, entry._scope), FIELD: field}
        kind = self.kinds[target]
        whole = parse_reference(raw.strip()[2:-1]) if raw.strip().startswith("${") else None
        if whole is not None and raw.strip().endswith("}") and raw.strip().count("${") == 1:
            if whole.kind != target or whole.attr not in ("id", "name"):
                self._bad(
                    path,
                    f"{raw.strip()}: this field names a {kind.label}: write the key of one in "
                    f"the spec's {kind.section}, or the cloud's name",
                )
                return None
            if not self.reference(whole, path):
                return None
            text = whole.name if whole.index is None else f"{whole.name}[{whole.index}]"
        else:
            text = self.sub(raw, path, entry._scope)
            if not isinstance(text, str):
                return None
        keyed = _KEYED.match(text)
        if keyed is None or keyed["name"] not in self.section.get(target, {}):
            # None of the spec's: the cloud's, found by the resolver.
            return {CLOUD_REF: target, "name": text, FIELD: field}
        index = int(keyed["index"]) if keyed["index"] is not None else None
        found = self.instances(target, keyed["name"], index, path)
        if not found:
            return None
        entry.deps.append(found[0])
        at = "" if found[0].index is None else f"[{found[0].index}]"
        return f"${{{target}.{found[0].name}{at}.{kind.ref_attr}}}"

    # -- entries -------------------------------------------------------------------------

    def _count(self, kind: str, name: str, spec: Mapping[str, Any]) -> int | None:
        if "count" not in spec:
            return None
        path = (self.kinds[kind].section, name, "count")
        value = self.sub(spec["count"], path, self.scope(), want_str=False)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            if not (isinstance(value, str) and "${" in value):  # else already reported
                self.problems.append(
                    self.doc.problem(path, f"count is {value!r}; it must be a whole number >= 0")
                )
            self.broken.add(Address(kind, name))
            return None
        return value

    def entries(self, kind: SpecKind) -> list[DesiredResource]:
        resources = []
        for name, spec in self.section[kind.name].items():
            base = Address(kind.name, name)
            if base in self.broken:
                continue
            explicit = self.depends_on(kind, name, spec)
            count = self.counts[base]
            indexes: list[int | None] = [None] if count is None else list(range(count))
            for index in indexes:
                entry = Entry(self, kind, name, spec, index)
                entry.deps.extend(explicit)
                attrs = kind.expand(entry)
                resources.append(
                    DesiredResource(
                        address=Address(kind.name, name, index),
                        attrs=frozen_map(attrs),
                        depends_on=tuple(dict.fromkeys(entry.deps)),
                        late_depends_on=tuple(dict.fromkeys(entry.late_deps)),
                        lifecycle=_lifecycle(kind, spec.get("lifecycle") or {}),
                        where=self.doc.where(entry.path()),
                        fields=frozen_map(
                            {f: self.doc.where(entry.path(f), prefer_key=False) for f in spec}
                        ),
                    )
                )
        return resources

    def depends_on(self, kind: SpecKind, name: str, spec: Mapping[str, Any]) -> list[Address]:
        found = []
        for i, text in enumerate(spec.get("depends_on") or []):
            path = (kind.section, name, "depends_on", i)
            target = Address.parse(text)  # the schema checked the syntax and the kind
            if target.name not in self.section[target.kind]:
                known = [f"{target.kind}.{n}" for n in self.section[target.kind]]
                hint = did_you_mean(str(target.base), known)
                self.problems.append(self.doc.problem(path, f"no resource {target.base}{hint}"))
                continue
            found += self.instances(
                target.kind, target.name, target.index, path, whole=target.index is None
            )
        return found

    # -- outputs -------------------------------------------------------------------------

    def outputs(self) -> dict[str, str]:
        result = {}
        for name, spec in (self.doc.data.get("outputs") or {}).items():
            path: Path_ = ("outputs", name)
            if isinstance(spec, dict):
                path, spec = (*path, "value"), spec["value"]
            value = self.sub(spec, path, self.scope(), deps=[], splat=True, want_str=False)
            result[name] = value if isinstance(value, str) else json.dumps(value)
        return result


def _lifecycle(kind: SpecKind, spec: Mapping[str, Any]) -> Lifecycle:
    ignored = (kind.ignorable.get(a, a) for a in spec.get("ignore_changes", ()))
    return Lifecycle(
        prevent_destroy=spec.get("prevent_destroy", False),
        create_before_destroy=spec.get("create_before_destroy", False),
        ignore_changes=tuple(dict.fromkeys(ignored)),
    )


def _cycle_problems(
    doc: LoadedYaml, desired: Desired, kinds: Mapping[str, SpecKind]
) -> list[Problem]:
    problems = []
    for cycle in dependency_cycles(dependency_graph(desired)):
        first = cycle[0]
        members = ", ".join(str(a) for a in cycle[:-1]) + f" and {cycle[-1]}"
        if len(cycle) == 1:
            message = f"{first} depends on itself"
        else:
            message = f"dependency cycle between {members}"
        path = (kinds[first.kind].section, first.name)
        problems.append(doc.problem(path, message, prefer_key=True))
    return problems
