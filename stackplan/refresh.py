"""What the cloud holds now, read with list calls: a few per kind, never one per resource."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from concurrent.futures import ThreadPoolExecutor

from stackplan.frozen import frozen_map
from stackplan.kinds.base import Kind, Observed, ObservedResource, Reads
from stackplan.state.model import ResourceRecord, State

READERS = 4  # kinds read at once


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
    read = [(name, kind) for name, kind in kinds.items() if records[name] or name in wanted]
    # Side by side: each kind's listings are round trips (pages of 1,000 servers, all
    # the ports), and one kind's wait is another's turn. A listing two kinds share is
    # fetched once (`Reads`).
    with ThreadPoolExecutor(max_workers=min(READERS, len(read)) or 1) as pool:
        futures = [
            pool.submit(kind.read_many, reads, records[name], lineage) for name, kind in read
        ]
        found: dict[str, ObservedResource] = {}
        for future in futures:  # in the kinds' order, whichever finished first
            for resource in future.result():
                found[resource.id] = resource
    return Observed(by_id=frozen_map(found), refreshed=True)


def unrefreshed() -> Observed:
    """With --no-refresh: nothing observed, the diff trusts the state."""
    return Observed(refreshed=False)
