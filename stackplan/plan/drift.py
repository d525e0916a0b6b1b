"""What changed in the cloud behind stackplan's back, against the state alone (not the
spec): `stackplan drift` for a scheduled CI job. Pure: a state and what refresh observed
in, a report out; the same comparison rules as the plan's drift.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackplan.kinds.base import Kind, Observed
from stackplan.plan.diff import drifted
from stackplan.sensitive import masked
from stackplan.state.model import RecordStatus, State


@dataclass(frozen=True, slots=True)
class DriftedAttribute:
    name: str
    recorded: Any  # as the state holds it (sensitive values masked)
    now: Any  # as the cloud reports it


@dataclass(frozen=True, slots=True)
class Drifted:
    """One resource of the state the cloud no longer holds as it was written."""

    address: str
    kind: str
    id: str
    deleted: bool  # gone from the cloud
    attributes: tuple[DriftedAttribute, ...] = ()
    recorded: Mapping[str, Any] | None = None  # the record's attributes, for display
    now: Mapping[str, Any] | None = None  # the cloud's


@dataclass(frozen=True, slots=True)
class DriftReport:
    stack: str
    serial: int
    lineage: str
    resources: tuple[Drifted, ...] = ()
    checked: int = 0  # resources of the state compared with the cloud

    @property
    def has_drift(self) -> bool:
        return bool(self.resources)


def find_drift(state: State, observed: Observed, kinds: Mapping[str, Kind]) -> DriftReport:
    """Every resource of `state` the cloud deleted, or changed in an attribute the plan
    compares, since the state was written."""
    found: list[Drifted] = []
    checked = 0
    for record in state.records:
        if record.id is None or record.status not in (RecordStatus.OK, RecordStatus.FOREIGN):
            continue  # a create still pending, or tainted: the next plan deals with it
        checked += 1
        kind = kinds[record.kind]
        now = observed.get(record.kind, record.id)
        if now is None or now.gone:
            found.append(Drifted(str(record.address), record.kind, record.id, True))
            continue
        keys = drifted(kind, record, now)
        if not keys:
            continue
        recorded = masked(dict(record.attributes), record.sensitive)
        seen = masked(dict(now.attrs), record.sensitive)
        found.append(
            Drifted(
                str(record.address),
                record.kind,
                record.id,
                False,
                tuple(DriftedAttribute(k, recorded.get(k), seen.get(k)) for k in keys),
                recorded,
                seen,
            )
        )
    return DriftReport(state.stack, state.serial, state.lineage, tuple(found), checked)
