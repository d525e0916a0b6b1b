"""What the cloud holds now, read with list calls: a few per kind, never one per resource."""

from __future__ import annotations

from collections.abc import Collection, Mapping

from stackplan.frozen import frozen_map
from stackplan.kinds.base import Kind, Observed, ObservedResource, Reads
from stackplan.state.model import ResourceRecord, State


def refresh(
    prior: State | None,
    reads: Reads,
    kinds: Mapping[str, Kind],
    lineage: str,
    wanted: Collection[str] = (),
) -> Observed:
    """Every resource the state knows, and every one carrying this lineage's marker.

    A kind is read when the state holds some of it or `wanted` (the spec's kinds) names
    it: a lost create always left its intent in the state, so a kind neither names has
    nothing of this stack to find.
    """
    records: dict[str, list[ResourceRecord]] = {name: [] for name in kinds}
    for record in prior.records if prior else ():
        records.setdefault(record.kind, []).append(record)
    found: dict[str, ObservedResource] = {}
    for name, kind in kinds.items():
        if not (records[name] or name in wanted):
            continue
        for resource in kind.read_many(reads, records[name], lineage):
            found[resource.id] = resource
    return Observed(by_id=frozen_map(found), refreshed=True)


def unrefreshed() -> Observed:
    """With --no-refresh: nothing observed, the diff trusts the state."""
    return Observed(refreshed=False)
