"""A validated spec expanded into `Desired`: variables filled, count expanded, files read,
references checked and turned into dependencies.

Reads the files the spec names (through `FileReader`) and nothing else; the shape of
the spec was checked against the schema before, so this module trusts it. Every problem
found is collected and raised at once as a `SpecError`.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackplan.addr import Address
from stackplan.errors import Problem, SpecError
from stackplan.frozen import frozen_map
from stackplan.spec.files import FileReader, public_key_problem, user_data_problem
from stackplan.spec.graph import dependency_cycles, dependency_graph
from stackplan.spec.interpolate import SPLAT, Reference, Scope, substitute
from stackplan.spec.load import LoadedYaml, Path_
from stackplan.spec.model import Desired, DesiredResource, Lifecycle
from stackplan.spec.variables import Variables
from stackplan.suggest import did_you_mean

SECTIONS = {"server": "servers", "keypair": "keypairs"}
# Attributes a `${KIND.NAME.ATTR}` reference may read once the resource exists.
REFERENCE_ATTRS = {
    "server": (
        "id",
        "name",
        "access_ip_v4",
        "access_ip_v6",
        "status",
        "image_id",
        "flavor_id",
        "key_name",
        "availability_zone",
    ),
    "keypair": ("id", "name", "fingerprint", "public_key"),
}
METADATA_VALUE_LIMIT = 255
# Spec names of server fields, where the attribute in `Desired` is called differently.
_ATTR_NAMES = {"key_pair": "key_name"}
_KEYPAIR_REF = re.compile(r"\$\{keypair\.([A-Za-z0-9_-]+)\.name\}")


def expand(doc: LoadedYaml, spec_bytes: bytes, variables: Variables, reader: FileReader) -> Desired:
    """`Desired` for a schema-valid spec; raises `SpecError` with every problem found."""
    expander = _Expander(doc, variables, reader)
    resources = expander.keypairs() + expander.servers()
    outputs = expander.outputs()
    # Each instance of a counted server repeats its problems: report them once.
    problems = list(dict.fromkeys([*variables.problems, *expander.problems]))
    resources = tuple(sorted(resources, key=lambda r: r.address.sort_key()))
    desired = Desired(
        stack=doc.data.get("stack") or Path(doc.file).stem,
        spec_path=Path(doc.file),
        digest=spec_digest(spec_bytes, variables.values, reader),
        resources=resources,
        outputs=frozen_map(outputs),
        variables=variables.values,
    )
    if not problems:
        problems = _cycle_problems(doc, desired)
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


class _Expander:
    """One pass over the spec; collects problems instead of stopping at the first."""

    def __init__(self, doc: LoadedYaml, variables: Variables, reader: FileReader):
        self.doc = doc
        self.variables = variables
        self.reader = reader
        self.problems: list[Problem] = []
        self.section = {kind: doc.data.get(sec) or {} for kind, sec in SECTIONS.items()}
        self.broken: set[str] = set()  # servers whose count is wrong (already reported)
        self.counts = {name: self._count(name, s) for name, s in self.section["server"].items()}

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

        `deps=None` means references are not allowed here (a name needed at plan time).
        """
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
                    "outputs (other values are needed before anything is created)"
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
        if ref.attr not in REFERENCE_ATTRS[ref.kind]:
            hint = did_you_mean(ref.attr, REFERENCE_ATTRS[ref.kind])
            attrs = ", ".join(REFERENCE_ATTRS[ref.kind])
            return self._bad(
                path,
                f"{ref.text}: {ref.kind} has no attribute '{ref.attr}'"
                f"{hint or f'; it has {attrs}'}",
            )
        if ref.index == SPLAT and not splat:
            return self._bad(path, f"{ref.text}: [*] is only allowed in outputs")
        index = None if ref.index == SPLAT else ref.index
        return self.instances(ref.kind, ref.name, index, path, whole=ref.index == SPLAT)

    def instances(
        self, kind: str, name: str, index: Any, path: Path_, *, whole: bool = False
    ) -> list[Address]:
        """The addresses of `KIND.NAME[index]`, or of all instances when `whole`."""
        count = self.counts.get(name) if kind == "server" else None
        if kind == "server" and name in self.broken:
            return []
        base = Address(kind, name)
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

    # -- keypairs ------------------------------------------------------------------------

    def keypair_name(self, name: str) -> str:
        return self.section["keypair"][name].get("name") or name

    def keypairs(self) -> list[DesiredResource]:
        resources = []
        for name, spec in self.section["keypair"].items():
            path = ("keypairs", name)
            scope = self.scope()
            cloud_name = self.sub(spec.get("name") or name, (*path, "name"), scope)
            if "public_key" in spec:
                key_path = (*path, "public_key")
                key = self.sub(spec["public_key"], key_path, scope)
            else:
                key_path = (*path, "public_key_file")
                key = self.read(self.sub(spec["public_key_file"], key_path, scope), key_path)
            if isinstance(key, str) and (problem := public_key_problem(key)):
                self.problems.append(self.doc.problem(key_path, problem))
            attrs = {"name": cloud_name, "public_key": (key or "").strip()}
            resources.append(
                DesiredResource(
                    Address("keypair", name), frozen_map(attrs), where=self.doc.where(path)
                )
            )
        return resources

    def read(self, name: Any, path: Path_) -> str | None:
        if not isinstance(name, str):
            return None
        try:
            return self.reader.read_text(name)
        except (OSError, ValueError) as exc:
            self.problems.append(self.doc.problem(path, str(exc)))
            return None

    # -- servers -------------------------------------------------------------------------

    def _count(self, name: str, spec: Mapping[str, Any]) -> int | None:
        if "count" not in spec:
            return None
        path = ("servers", name, "count")
        value = self.sub(spec["count"], path, self.scope(), want_str=False)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            if not (isinstance(value, str) and "${" in value):  # else already reported
                self.problems.append(
                    self.doc.problem(path, f"count is {value!r}; it must be a whole number >= 0")
                )
            self.broken.add(name)
            return None
        return value

    def servers(self) -> list[DesiredResource]:
        resources = []
        for name, spec in self.section["server"].items():
            if name in self.broken:
                continue
            explicit = self.depends_on(name, spec)
            count = self.counts[name]
            indexes: list[int | None] = [None] if count is None else list(range(count))
            for index in indexes:
                deps = list(explicit)
                attrs = self.server_attrs(name, spec, index, deps)
                resources.append(
                    DesiredResource(
                        address=Address("server", name, index),
                        attrs=frozen_map(attrs),
                        depends_on=tuple(dict.fromkeys(deps)),
                        lifecycle=_lifecycle(spec.get("lifecycle") or {}),
                        where=self.doc.where(("servers", name)),
                    )
                )
        return resources

    def depends_on(self, name: str, spec: Mapping[str, Any]) -> list[Address]:
        found = []
        for i, text in enumerate(spec.get("depends_on") or []):
            path = ("servers", name, "depends_on", i)
            target = Address.parse(text)  # the schema checked the syntax
            if target.name not in self.section[target.kind]:
                known = [f"{target.kind}.{n}" for n in self.section[target.kind]]
                hint = did_you_mean(str(target.base), known)
                self.problems.append(self.doc.problem(path, f"no resource {target.base}{hint}"))
                continue
            found += self.instances(
                target.kind, target.name, target.index, path, whole=target.index is None
            )
        return found

    def server_attrs(
        self, name: str, spec: Mapping[str, Any], index: int | None, deps: list[Address]
    ) -> dict[str, Any]:
        path: Path_ = ("servers", name)
        scope = self.scope(index)

        def field(key: str) -> Any:
            return self.sub(spec.get(key), (*path, key), scope)

        metadata = {
            key: self.sub(value, (*path, "metadata", key), scope, deps, want_str=False)
            for key, value in (spec.get("metadata") or {}).items()
        }
        groups = field("security_groups")
        return {
            "name": self.server_name(name, spec, index, scope),
            "image": _image(field("image")),
            "flavor": _flavor(field("flavor")),
            "key_name": self.key_name(spec.get("key_pair"), (*path, "key_pair"), scope, deps),
            "security_groups": ["default"] if groups is None else sorted(set(groups)),
            "metadata": self.metadata(metadata, (*path, "metadata")),
            "user_data": self.user_data(spec, path, scope, deps),
            "availability_zone": field("availability_zone"),
            "image_update": spec.get("image_update", "replace"),
        }

    def server_name(
        self, name: str, spec: Mapping[str, Any], index: int | None, scope: Scope
    ) -> str:
        raw = spec.get("name") or name
        value = self.sub(raw, ("servers", name, "name"), scope)
        if index is None or "count.index" in raw or not isinstance(value, str):
            return value
        return f"{value}-{index}"

    def key_name(
        self, raw: str | None, path: Path_, scope: Scope, deps: list[Address]
    ) -> str | None:
        """A spec keypair's cloud name (and a dependency on it), else a cloud keypair's name."""
        if raw is None:
            return None
        # `${keypair.deploy.name}` is the long way of writing `deploy`.
        if match := _KEYPAIR_REF.fullmatch(raw.strip()):
            if not self.reference(Reference("keypair", match[1], None, "name"), path):
                return None
            raw = match[1]
        value = self.sub(raw, path, scope)
        if value in self.section["keypair"]:
            deps.append(Address("keypair", value))
            return self.keypair_name(value)
        return value

    def metadata(self, metadata: Mapping[str, Any], path: Path_) -> dict[str, str]:
        result = {}
        for key, value in metadata.items():
            text = json.dumps(value) if isinstance(value, bool) else str(value)
            if len(text) > METADATA_VALUE_LIMIT:
                message = (
                    f"is {len(text)} characters long once variables are filled in; "
                    f"at most {METADATA_VALUE_LIMIT} are allowed"
                )
                self.problems.append(self.doc.problem((*path, key), message))
            result[key] = text
        return result

    def user_data(
        self, spec: Mapping[str, Any], path: Path_, scope: Scope, deps: list[Address]
    ) -> str | None:
        if "user_data" in spec:
            where: Path_ = (*path, "user_data")
            text = self.sub(spec["user_data"], where, scope, deps)
        elif "user_data_file" in spec:
            where = (*path, "user_data_file")
            # The file's text is taken as it is: cloud-init scripts use ${...} themselves.
            text = self.read(self.sub(spec["user_data_file"], where, scope), where)
        else:
            return None
        if isinstance(text, str) and (problem := user_data_problem(text)):
            self.problems.append(self.doc.problem(where, problem))
        return text

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


def _image(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": value, "most_recent": False}
    if "id" in value:
        return {"id": value["id"]}
    return {"name": value["name"], "most_recent": bool(value.get("most_recent", False))}


def _flavor(value: Any) -> dict[str, str]:
    return {"name": value} if isinstance(value, str) else {"id": value["id"]}


def _lifecycle(spec: Mapping[str, Any]) -> Lifecycle:
    ignored = (_ATTR_NAMES.get(a, a) for a in spec.get("ignore_changes", ()))
    return Lifecycle(
        prevent_destroy=spec.get("prevent_destroy", False),
        create_before_destroy=spec.get("create_before_destroy", False),
        ignore_changes=tuple(dict.fromkeys(ignored)),
    )


def _cycle_problems(doc: LoadedYaml, desired: Desired) -> list[Problem]:
    problems = []
    for cycle in dependency_cycles(dependency_graph(desired)):
        first = cycle[0]
        members = ", ".join(str(a) for a in cycle[:-1]) + f" and {cycle[-1]}"
        if len(cycle) == 1:
            message = f"{first} depends on itself"
        else:
            message = f"dependency cycle between {members}"
        problems.append(doc.problem((SECTIONS[first.kind], first.name), message, prefer_key=True))
    return problems
