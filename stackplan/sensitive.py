"""Sensitive values (`sensitive: true` variables): where they end up in a resource's
attributes, how a plan shows them, and the digest the state keeps instead of them.

A leaf module. Paths are the dotted form the plans use (`metadata.admin_pass`, `user_data`);
a field built from a sensitive value (a URL with the password in it) is sensitive whole.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

SHOWN = "(sensitive)"
_DIGEST = "(sensitive) sha256:"


def texts_of(values: Iterable[Any]) -> tuple[str, ...]:
    """The strings a sensitive variable's values appear as once filled into a spec."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, Mapping):
            for item in value.values():
                walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, bool) or value is None:
            return  # true/false/null are everywhere: not a secret one could find
        elif str(value):
            found.append(str(value))

    for value in values:
        walk(value)
    return tuple(dict.fromkeys(found))


def paths_holding(attrs: Mapping[str, Any], texts: Iterable[str]) -> tuple[str, ...]:
    """The paths of the strings in `attrs` that hold one of `texts`."""
    texts = tuple(t for t in texts if t)
    if not texts:
        return ()
    found: list[str] = []

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            if any(t in value for t in texts):
                found.append(path)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}")
        elif isinstance(value, list | tuple) and any(walk_list(i) for i in value):
            found.append(path)  # a list is one value to the plan: sensitive whole

    def walk_list(item: Any) -> bool:
        return isinstance(item, str) and any(t in item for t in texts)

    for key, value in attrs.items():
        walk(value, key)
    return tuple(found)


def masked(attrs: Mapping[str, Any] | None, paths: Iterable[str]) -> dict[str, Any] | None:
    """`attrs` with the value at each of `paths` shown as (sensitive)."""
    return None if attrs is None else _replace(attrs, tuple(paths), lambda _: SHOWN)


def digested(attrs: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    """`attrs` with the value at each of `paths` replaced by its digest: what the state
    keeps, and what the diff compares (a digest compares equal to the value it stands for)."""
    return _replace(attrs, tuple(paths), digest)


def digest(value: Any) -> Any:
    """The digest form of one value; a digest stays as it is."""
    if value is None or (isinstance(value, str) and value.startswith(_DIGEST)):
        return value
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return _DIGEST + hashlib.sha256(text.encode()).hexdigest()


def touches(paths: Iterable[str], key: str) -> bool:
    """Whether any of `paths` is the attribute `key` or inside it."""
    return any(p == key or p.startswith((f"{key}.", f"{key}[")) for p in paths)


def _replace(attrs: Mapping[str, Any], paths: tuple[str, ...], how: Any) -> dict[str, Any]:
    out = dict(attrs)
    for path in paths:
        head, *rest = path.split(".")
        if head not in out:
            continue
        if not rest:
            out[head] = how(out[head])
        elif isinstance(out[head], Mapping):
            out[head] = _replace(out[head], (".".join(rest),), how)
    return out
