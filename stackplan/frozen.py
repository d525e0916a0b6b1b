"""Read-only maps: the one way every room freezes the attribute maps its values hold.

A leaf module: imports nothing from stackplan.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any


def frozen_map(data: Mapping[str, Any] | None = None, *, deep: bool = False) -> Mapping[str, Any]:
    """A read-only view of a copy of `data`; `deep` copies nested values too.

    Nested values stay plain JSON (lists, dicts) so that they compare equal to other plain
    JSON; `deep` is for values that outlive their maker (a state record), where nobody
    else may hold a nested list.
    """
    copied = copy.deepcopy(dict(data or {})) if deep else dict(data or {})
    return MappingProxyType(copied)
