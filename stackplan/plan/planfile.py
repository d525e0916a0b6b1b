"""The saved plan file (`plan --out`): a Plan to JSON and back, checksummed, and the check
that it still fits the state and spec it was made from.

The file holds everything apply needs, user_data text included, so it is written with
mode 0600; a sha256 over its content refuses a file edited after it was saved.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from stackplan.addr import Address
from stackplan.atomic import write_atomic
from stackplan.errors import PlanError, StackplanError, StalePlanError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Limit
from stackplan.plan.model import (
    PLAN_FORMAT_VERSION,
    Action,
    Change,
    DeltaItem,
    Plan,
    PolicyReport,
    QuotaCheck,
    Reason,
    ResourceDelta,
    Violation,
)
from stackplan.state.model import State

__all__ = ["check_fresh", "dump_plan", "load_plan", "parse_plan", "save_plan"]

_REPLAN = "make a new plan with `stackplan plan --out PLANFILE`"


def save_plan(plan: Plan, path: str | Path) -> None:
    """Write `plan` to `path` atomically (temp file, fsync, rename), readable by the owner."""
    write_atomic(Path(path), dump_plan(plan).encode("utf-8"), 0o600)


def load_plan(path: str | Path) -> Plan:
    """The plan saved at `path`; PlanError if it is unreadable, foreign or was edited."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise PlanError(f"cannot read the plan file: {exc.strerror}", where=str(path)) from exc
    return parse_plan(text, str(path))


def dump_plan(plan: Plan) -> str:
    body = _plan_doc(plan)
    doc = {"format_version": PLAN_FORMAT_VERSION, "checksum": _checksum(body), "plan": body}
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def parse_plan(text: str, source: str = "<plan>") -> Plan:
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PlanError(
            f"not a plan file: not valid JSON ({exc.msg})", where=source, hint=_REPLAN
        ) from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("plan"), dict):
        raise PlanError("not a plan file: no plan in it", where=source, hint=_REPLAN)
    version = doc.get("format_version")
    if version != PLAN_FORMAT_VERSION:
        raise PlanError(
            f"plan file format {version!r} is not the {PLAN_FORMAT_VERSION} this stackplan reads",
            where=source,
            hint=_REPLAN,
        )
    if doc.get("checksum") != _checksum(doc["plan"]):
        raise PlanError(
            "the plan file was changed after it was saved (checksum mismatch); "
            "refusing to apply it",
            where=source,
            hint=_REPLAN,
        )
    try:
        return _plan(doc["plan"])
    except (KeyError, TypeError, ValueError, StackplanError) as exc:
        raise PlanError(f"not a plan file: {exc}", where=source, hint=_REPLAN) from exc


def check_fresh(plan: Plan, state: State | None, spec_digest: str) -> None:
    """Refuse a saved plan when the state or the spec moved on since it was made."""
    moved = []
    if state is None or (state.serial == 0 and not state.resources):
        if plan.serial > 0:
            moved.append(f"the state is gone (the plan was made from serial {plan.serial})")
    elif state.lineage != plan.lineage:
        moved.append(
            f"the state is another one (lineage {state.lineage}; the plan was made "
            f"for lineage {plan.lineage})"
        )
    elif state.serial != plan.serial:
        moved.append(f"the state has moved on: serial {plan.serial} → {state.serial}")
    if spec_digest != plan.spec_digest:
        moved.append("the spec changed since the plan was made")
    if moved:
        raise StalePlanError("the saved plan is stale: " + "; ".join(moved), hint=_REPLAN)


def _checksum(body: Mapping[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return "sha256:" + hashlib.sha256(canonical.encode()).hexdigest()


def _plan_doc(plan: Plan) -> dict[str, Any]:
    return {
        "stack": plan.stack,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "spec_digest": plan.spec_digest,
        "created_at": plan.created_at,
        "destroy": plan.destroy,
        "changes": [_change_doc(c) for c in plan.changes],
        "outputs": dict(plan.outputs),
        "delta": [asdict(item) for item in plan.delta.items],
        "quota": {
            "limits": {k: asdict(v) for k, v in plan.quota.limits.items()},
            "problems": list(plan.quota.problems),
        },
        "warnings": list(plan.warnings),
        "variables": _plain(plan.variables),
        "sensitive_outputs": list(plan.sensitive_outputs),
        "policy": None if plan.policy is None else _plain(asdict(plan.policy)),
    }


def _change_doc(change: Change) -> dict[str, Any]:
    return {
        "address": str(change.address),
        "action": change.action.value,
        "reason": change.reason.value,
        "id": change.id,
        "before": _plain(change.before),
        "after": _plain(change.after),
        "changed_paths": list(change.changed_paths),
        "replace_paths": list(change.replace_paths),
        "drift": list(change.drift),
        "depends_on": [str(a) for a in change.depends_on],
        "sensitive": list(change.sensitive),
        "note": change.note,
        "late": list(change.late),
        "late_depends_on": [str(a) for a in change.late_depends_on],
    }


def _plan(doc: Mapping[str, Any]) -> Plan:
    return Plan(
        stack=doc["stack"],
        lineage=doc["lineage"],
        serial=int(doc["serial"]),
        spec_digest=doc["spec_digest"],
        changes=tuple(_change(c) for c in doc["changes"]),
        destroy=bool(doc["destroy"]),
        created_at=doc["created_at"],
        outputs=frozen_map(doc["outputs"]),
        delta=ResourceDelta(tuple(DeltaItem(**item) for item in doc["delta"])),
        quota=QuotaCheck(
            frozen_map({k: Limit(**v) for k, v in doc["quota"]["limits"].items()}),
            tuple(doc["quota"]["problems"]),
        ),
        warnings=tuple(doc["warnings"]),
        variables=frozen_map(doc["variables"]),
        sensitive_outputs=tuple(doc["sensitive_outputs"]),
        policy=_policy(doc["policy"]),
    )


def _policy(doc: Mapping[str, Any] | None) -> PolicyReport | None:
    if doc is None:
        return None
    violations = tuple(
        Violation(v["rule"], v["message"], v["where"], tuple((a, d) for a, d in v["offenders"]))
        for v in doc["violations"]
    )
    return PolicyReport(doc["file"], doc["digest"], violations)


def _change(doc: Mapping[str, Any]) -> Change:
    before, after = doc["before"], doc["after"]
    return Change(
        address=Address.parse(doc["address"]),
        action=Action(doc["action"]),
        reason=Reason(doc["reason"]),
        id=doc["id"],
        before=None if before is None else frozen_map(before),
        after=None if after is None else frozen_map(after),
        changed_paths=tuple(doc["changed_paths"]),
        replace_paths=tuple(doc["replace_paths"]),
        drift=tuple(doc["drift"]),
        depends_on=tuple(Address.parse(a) for a in doc["depends_on"]),
        sensitive=tuple(doc["sensitive"]),
        note=doc["note"],
        late=tuple(doc["late"]),
        late_depends_on=tuple(Address.parse(a) for a in doc["late_depends_on"]),
    )


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
