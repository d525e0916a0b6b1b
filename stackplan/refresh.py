"""What the cloud holds now, read with list calls: a few per kind, never one per resource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackplan.frozen import frozen_map
from stackplan.kinds.base import Kind, Observed, ObservedResource
from stackplan.state.model import State


def refresh(prior: State | None, cloud: Any, kinds: Mapping[str, Kind], lineage: str) -> Observed:
    """Every resource the state knows, and every one carrying this lineage's marker."""
    ids: dict[str, set[str]] = {name: set() for name in kinds}
    for record in prior.records if prior else ():
        if record.id:
            ids.setdefault(record.kind, set()).add(record.id)
    found: dict[str, ObservedResource] = {}
    for name, kind in kinds.items():
        for resource in kind.read_many(cloud, ids.get(name, set()), lineage):
            found[resource.id] = resource
    return Observed(by_id=frozen_map(found), refreshed=True)


def unrefreshed() -> Observed:
    """With --no-refresh: nothing observed, the diff trusts the state."""
    return Observed(refreshed=False)
