"""References between resources (`${server.db.id}`) filled into attribute values.

Pure: the caller says what each reference is worth through `lookup`. The diff fills
what the prior state knows; the executor calls `interpolate` again at apply time, when
every referenced resource exists. The `${...}` syntax itself lives in `spec.interpolate`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final

from stackplan.addr import Address
from stackplan.spec.interpolate import Reference, fill_references, references_in
from stackplan.state.model import State

__all__ = [
    "KNOWN_AFTER_APPLY",
    "UNKNOWN",
    "Lookup",
    "has_references",
    "holding_references",
    "interpolate",
    "splat",
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


def holding_references(value: Any, path: str = "") -> Iterator[str]:
    """The dotted paths (`metadata.db_id`, `a[0]`) of the strings in `value` (a string, or
    lists and maps of them) that still hold a reference: the one walk over nested values."""
    if isinstance(value, str):
        if references_in(value):
            yield path
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from holding_references(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            yield from holding_references(item, f"{path}[{i}]")


def has_references(value: Any) -> bool:
    """Whether `value` still holds a reference anywhere."""
    return next(holding_references(value), None) is not None


def splat(ref: Reference, addresses: Iterable[Address], lookup: Lookup) -> Any:
    """What `${KIND.NAME[*].ATTR}` is worth: the value of every instance of KIND.NAME among
    `addresses`, in index order, or UNKNOWN when one of them is."""
    base = Address(ref.kind, ref.name)
    instances = sorted({a for a in addresses if a.base == base}, key=Address.sort_key)
    values = [lookup(Reference(ref.kind, ref.name, a.index, ref.attr)) for a in instances]
    return UNKNOWN if any(v is UNKNOWN for v in values) else values


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
        if address is None:
            return splat(ref, state.resources, lookup)
        record = state.record(address)
        if record is None or record.id is None:
            return UNKNOWN
        return record.id if ref.attr == "id" else record.attributes.get(ref.attr, UNKNOWN)

    return lookup
