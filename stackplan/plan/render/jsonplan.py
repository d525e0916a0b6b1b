"""The plan as public JSON (`plan --format json`), documented by schemas/plan.schema.json.

Its `format_version` is its own, apart from the plan file's. Values kept only for apply
(user_data text) are left out: a digest stands for them. Pure: `Plan -> str`.
"""

from __future__ import annotations

import json
from typing import Any

from stackplan.plan.model import Change, Plan
from stackplan.plan.render import shown, unknown_paths
from stackplan.sensitive import masked

JSON_FORMAT_VERSION = "1.2"  # 1.1: delta and quota by the kinds' measures; 1.2: policy


def render_json(plan: Plan) -> str:
    return json.dumps(plan_document(plan), indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def plan_document(plan: Plan) -> dict[str, Any]:
    """The JSON value `render_json` prints."""
    return {
        "format_version": JSON_FORMAT_VERSION,
        "stack": plan.stack,
        "lineage": plan.lineage,
        "serial": plan.serial,
        "spec_digest": plan.spec_digest,
        "created_at": plan.created_at,
        "destroy": plan.destroy,
        "has_changes": plan.has_changes,
        "summary": plan.counts(),
        "policy": _policy(plan),
        "resource_changes": [_change(c) for c in plan.changes],
        "delta": {
            f"{item.name}_{way}": getattr(item, way)
            for item in plan.delta.items
            for way in ("added", "removed")
        },
        "quota": {
            "limits": {k: v.max for k, v in plan.quota.limits.items()},
            "used": {k: v.used for k, v in plan.quota.limits.items()},
            "problems": list(plan.quota.problems),
        },
        "warnings": list(plan.warnings),
        "outputs": masked(dict(plan.outputs), plan.sensitive_outputs),
    }


def _policy(plan: Plan) -> dict[str, Any] | None:
    """What `--policy` found: listed before the changes, as in the other formats."""
    report = plan.policy
    if report is None:
        return None
    return {
        "file": report.file,
        "digest": report.digest,
        "passed": not report.violations,
        "violations": [
            {
                "rule": v.rule,
                "message": v.message,
                "where": v.where,
                "offenders": [{"address": a, "detail": d} for a, d in v.offenders],
            }
            for v in report.violations
        ],
    }


def _change(change: Change) -> dict[str, Any]:
    after = shown(change.after, change.sensitive)
    return {
        "address": str(change.address),
        "kind": change.address.kind,
        "name": change.address.name,
        "index": change.address.index,
        "action": change.action.value,
        "reason": change.reason.value,
        "id": change.id,
        "before": _plain(shown(change.before, change.sensitive)),
        "after": _plain(after),
        "after_unknown": unknown_paths(after) if after else [],
        "changed_paths": list(change.changed_paths),
        "replace_paths": list(change.replace_paths),
        "drift": list(change.drift),
        "depends_on": [str(a) for a in change.depends_on],
        "sensitive": list(change.sensitive),
        "note": change.note,
    }


def _plain(value: Any) -> Any:
    """Read-only maps and tuples as plain JSON values, keys sorted."""
    if isinstance(value, dict) or hasattr(value, "items"):
        return {k: _plain(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
