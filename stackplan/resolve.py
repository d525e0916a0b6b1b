"""Names → IDs: every desired resource resolved against the cloud, each listing read once.

Generic: for each resource, the fields that name another kind's cloud resource (`{name:}`
or `{id:}`, left there by `expand`) are looked up in that kind's listing, then the kind
resolves its own names (a server's image and flavor). Listings come through one `Reads`
per run, so a hundred servers cost the same few calls as one. Every problem is collected
and reported at once, and identical problems of `count` copies share a line.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from stackplan.errors import ResolveError
from stackplan.kinds.base import Kind, Named, Reads
from stackplan.spec.expand import CLOUD_REF, FIELD
from stackplan.spec.model import Desired, DesiredResource
from stackplan.suggest import names_hint, near


@dataclass(frozen=True, slots=True, order=True)
class _Problem:
    where: str
    address: str
    message: str
    hint: str = ""


class _Context:
    """What one resource's resolution sees: the run's reads, and its own problems."""

    def __init__(self, reads: Reads, kind: Kind, resource: DesiredResource, out: list[_Problem]):
        self.reads = reads
        self._kind = kind
        self._resource = resource
        self._out = out

    @property
    def address(self) -> str:
        return str(self._resource.address)

    def problem(self, field: str, message: str, hint: str = "") -> None:
        """A problem with `field` (the spec's name, `a[0].b` inside one), at its line."""
        r = self._resource
        at = r.fields.get(field.split(".")[0].split("[")[0]) or r.where
        path = f"{self._kind.section}.{r.address.name}.{field}"
        where = f"{at}: {path}" if at else path
        self._out.append(_Problem(where, str(r.address), message, hint))


def resolve(desired: Desired, reads: Reads, kinds: Mapping[str, Kind]) -> Desired:
    """`desired` with every name it gives the cloud turned into an ID; one `ResolveError`
    names every problem."""
    problems: list[_Problem] = []
    resolved = []
    spec_names: dict[str, set[str]] = {}
    for resource in desired.resources:
        spec_names.setdefault(resource.kind, set()).add(resource.address.name)
    _prefetch(desired, reads, kinds)
    for resource in desired.resources:
        kind = kinds[resource.kind]
        ctx = _Context(reads, kind, resource, problems)
        attrs = {k: _walk(v, ctx, kinds, spec_names) for k, v in resource.attrs.items()}
        attrs = dict(kind.resolve(attrs, ctx))
        resolved.append(resource if attrs == dict(resource.attrs) else resource.with_attrs(attrs))
    if problems:
        raise _error(problems)
    return desired.with_resources(tuple(resolved))


def _prefetch(desired: Desired, reads: Reads, kinds: Mapping[str, Kind]) -> None:
    """Start every listing the resolution will read, each in the background: walked one
    resource after another, they were a chain of round trips (groups, then networks,
    then images...). Each is fetched once; an error surfaces where it is read."""
    named: dict[str, None] = {}
    for resource in desired.resources:
        _targets(resource.attrs, named)
    for name in named:
        target = kinds[name]
        reads.soon(f"resolve.{name}", lambda target=target: target.lookup(reads))
    for name in dict.fromkeys(r.kind for r in desired.resources):
        kinds[name].prefetch(reads)


def _targets(value: Any, out: dict[str, None]) -> None:
    """The kinds `value` names cloud resources of, into `out` (an ordered set)."""
    if isinstance(value, Mapping):
        if CLOUD_REF in value:
            out[str(value[CLOUD_REF])] = None
        else:
            for v in value.values():
                _targets(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            _targets(v, out)


def _walk(
    value: Any, ctx: _Context, kinds: Mapping[str, Kind], spec_names: Mapping[str, set[str]]
) -> Any:
    """`value` with every cloud reference in it (at any depth) resolved."""
    if isinstance(value, Mapping) and CLOUD_REF in value:
        target = kinds[value[CLOUD_REF]]
        own = spec_names.get(target.name, set())
        return _reference(ctx, target, str(value.get(FIELD, "")), value, own)
    if isinstance(value, Mapping):
        return {k: _walk(v, ctx, kinds, spec_names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, ctx, kinds, spec_names) for v in value]
    return value


def _reference(
    ctx: _Context, target: Kind, field: str, ref: Mapping[str, Any], own: set[str]
) -> Any:
    """The value a field naming a cloud resource of `target` takes, or the ref unchanged
    (and a problem) when nothing, or more than one thing, has that name. A name close to
    one of the spec's own (`own`) is suggested first: that is the likelier typo."""
    found = find_named(target.lookup(ctx.reads), ref)
    if isinstance(found, Named):
        return found.ref
    message, hint = found
    close = near(str(ref.get("name", "")), own) if "name" in ref else []
    if close:
        hint = f"did you mean {close[0]!r}, the spec's own {target.label}?"
    ctx.problem(field, message.replace("{what}", target.label), hint)
    return dict(ref)


def find_named(items: Sequence[Named], ref: Mapping[str, Any]) -> Named | tuple[str, str]:
    """The item `ref` ({id} or {name}) names: by ID, else by exact name (as openstacksdk's
    `find`); else (message, hint), the message with `{what}` for the kind's noun."""
    if "id" in ref:
        wanted = str(ref["id"])
        by_id = next((i for i in items if i.id == wanted), None)
        if by_id is None:
            return f"the cloud has no {{what}} with ID {wanted!r}", "check the ID in the cloud"
        return by_id
    name = str(ref.get("name", ""))
    by_id = next((i for i in items if i.id == name), None)
    if by_id is not None:
        return by_id
    matches = [i for i in items if i.name == name]
    if len(matches) == 1:
        return matches[0]
    if matches:
        listed = "; ".join(f"{i.id}{f' ({i.note})' if i.note else ''}" for i in matches)
        return (
            f"{len(matches)} {{what}}s are named {name!r}: {listed}",
            "name one of them with {id: ...}",
        )
    hint = names_hint(name, [i.name for i in items if i.name])
    return f"no {{what}} named {name!r} in the spec or the cloud", hint


def _error(problems: list[_Problem]) -> ResolveError:
    grouped: dict[tuple[str, str, str], list[str]] = {}
    for p in sorted(problems):
        grouped.setdefault((p.where, p.message, p.hint), []).append(p.address)
    lines = []
    for (where, message, hint), addresses in grouped.items():
        shown = ", ".join(addresses[:3])
        if len(addresses) > 3:
            shown += f" and {len(addresses) - 3} more"
        lines.append(f"{where}: {shown}: {message}" + (f"\n    hint: {hint}" if hint else ""))
    count = len(grouped)
    summary = f"{count} problem{'s' if count != 1 else ''} resolving names in the cloud"
    error = ResolveError("\n".join([*lines, summary]))
    error.problems = tuple(problems)  # type: ignore[attr-defined]
    return error
