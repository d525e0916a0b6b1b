"""Small loaders: golden-case JSON inputs -> Desired, State, Observed, DiffOptions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from stackplan.addr import Address
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Limit, Marker, Observed, ObservedResource
from stackplan.plan.diff import DiffOptions
from stackplan.spec.model import Desired, DesiredResource, Lifecycle
from stackplan.state.model import FORMAT_VERSION, ResourceRecord, State

CASES = Path(__file__).resolve().parents[2] / "data" / "plans"


def desired_from(doc: dict[str, Any]) -> Desired:
    resources = tuple(
        DesiredResource(
            address=Address.parse(r["address"]),
            attrs=frozen_map(r["attrs"]),
            depends_on=tuple(Address.parse(a) for a in r.get("depends_on", ())),
            lifecycle=Lifecycle(
                **{
                    k: tuple(v) if isinstance(v, list) else v
                    for k, v in r.get("lifecycle", {}).items()
                }
            ),
        )
        for r in doc["resources"]
    )
    return Desired(
        doc["stack"],
        Path("stackplan.yaml"),
        doc["digest"],
        resources,
        frozen_map(doc.get("outputs", {})),
    )


def state_from(doc: dict[str, Any] | None) -> State | None:
    if doc is None:
        return None
    records = {}
    for r in doc["resources"]:
        record = ResourceRecord(
            address=Address.parse(r["address"]),
            id=r["id"],
            attributes=r["attributes"],
            dependencies=tuple(Address.parse(a) for a in r.get("dependencies", ())),
            status=r.get("status", "ok"),
        )
        records[record.address] = record
    return State(FORMAT_VERSION, doc["lineage"], doc["serial"], doc["stack"], records)


def observed_from(doc: dict[str, Any]) -> Observed:
    found = {}
    for r in doc["resources"]:
        marker = Marker(**r["marker"]) if r.get("marker") else None
        found[r["id"]] = ObservedResource(
            r["kind"], r["id"], frozen_map(r["attrs"]), r.get("status", ""), None, marker
        )
    return Observed(frozen_map(found), doc.get("refreshed", True))


def options_from(doc: dict[str, Any]) -> DiffOptions:
    return DiffOptions(
        targets=tuple(Address.parse(a) for a in doc.get("targets", ())),
        replace=tuple(Address.parse(a) for a in doc.get("replace", ())),
        destroy=doc.get("destroy", False),
        created_at=doc.get("created_at", ""),
        lineage=doc.get("lineage", ""),
        limits=_limits(doc.get("limits")),
    )


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _limits(doc: dict[str, Any] | None) -> dict[str, Limit] | None:
    """`{"instances": {"max": 10, "used": 9}, ...}`: the project's quota by measure."""
    return None if doc is None else {k: Limit(**v) for k, v in doc.items()}
