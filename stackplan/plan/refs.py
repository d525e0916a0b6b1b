"""References between resources (`${server.db.id}`) filled into attribute values.

Pure: the caller says what each reference is worth through `lookup`. The diff fills
what the prior state knows; the executor calls `interpolate` again at apply time, when
every referenced resource exists. The `${...}` syntax itself lives in `spec.interpolate`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from stackplan.addr import Address
from stackplan.spec.interpolate import Reference, fill_references, references_in
from stackplan.state.model import State

__all__ = [
    "KNOWN_AFTER_APPLY",
    "UNKNOWN",
    "Lookup",
    "has_references",
    "interpolate",
    "state_lookup",
]


class _Unknown:
    """A value that exists only once apply has created (or replaced) its resource."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Final = _Unknown()
KNOWN_AFTER_APPLY: Final = "(known after apply)"

# What a reference is worth now: a plain value, or UNKNOWN.
Lookup = Callable[[Reference], Any]


def reference_address(ref: Reference) -> Address | None:
    """The address a reference points at (None for a `[*]` splat: many addresses)."""
    if isinstance(ref.index, str):
        return None
    return Address(ref.kind, ref.name, ref.index)


def has_references(value: Any) -> bool:
    """Whether `value` (a string, or lists and maps of them) still holds a reference."""
    if isinstance(value, str):
        return bool(references_in(value))
    if isinstance(value, Mapping):
        return any(has_references(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(has_references(v) for v in value)
    return False


def interpolate(attrs: Mapping[str, Any], lookup: Lookup) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`attrs` with every reference whose value is known filled in, and the dotted paths
    (`metadata.db_id`) of the strings still holding an unknown one.

    A string is filled only when all its references are known; otherwise it stays as
    written, so that apply can fill it later.
    """
    unknown: list[str] = []
    filled = {key: _fill(value, key, lookup, unknown) for key, value in attrs.items()}
    return filled, tuple(unknown)


def _fill(value: Any, path: str, lookup: Lookup, unknown: list[str]) -> Any:
    if isinstance(value, str):
        refs = references_in(value)
        if not refs:
            return value
        values = {ref: lookup(ref) for ref in refs}
        if any(v is UNKNOWN for v in values.values()):
            unknown.append(path)
            return value
        return fill_references(value, lambda ref: _as_text(values[ref]))
    if isinstance(value, Mapping):
        return {k: _fill(v, f"{path}.{k}", lookup, unknown) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, f"{path}[{i}]", lookup, unknown) for i, v in enumerate(value)]
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def state_lookup(state: State) -> Lookup:
    """A lookup reading what `state` records: `id`, and any recorded attribute."""

    def lookup(ref: Reference) -> Any:
        address = reference_address(ref)
        if address is None:  # a [*] splat: every instance, in index order
            base = Address(ref.kind, ref.name)
            found = [r.address for r in state.records if r.address.base == base]
            values = [lookup(Reference(ref.kind, ref.name, a.index, ref.attr)) for a in found]
            return UNKNOWN if any(v is UNKNOWN for v in values) else values
        record = state.record(address)
        if record is None or record.id is None:
            return UNKNOWN
        return record.id if ref.attr == "id" else record.attributes.get(ref.attr, UNKNOWN)

    return lookup
