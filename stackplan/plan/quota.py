"""Compute capacity a plan adds and frees (from flavors), and whether it fits the project's
Nova limits. Pure: the workflow fetches `/limits` and passes the absolute values in.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackplan.frozen import frozen_map
from stackplan.plan.model import Action, Change, Plan, QuotaCheck, ResourceDelta

__all__ = ["check_quota", "resource_delta"]

_SIZES = ("flavor_vcpus", "flavor_ram", "flavor_disk")
# (what, limit name, used name, unit) in Nova's absolute limits.
_LIMITS = (
    ("instances", "maxTotalInstances", "totalInstancesUsed", ""),
    ("cores", "maxTotalCores", "totalCoresUsed", ""),
    ("RAM", "maxTotalRAMSize", "totalRAMUsed", " MB"),
)


def resource_delta(plan: Plan) -> ResourceDelta:
    """vCPUs, RAM and disk the plan's flavors add and remove: creates add, deletes remove,
    replaces do both, and so do resizes (and any change whose flavor differs)."""
    added = [0, 0, 0]
    removed = [0, 0, 0]
    for change in plan.actionable:
        plus, minus = _flavor_moves(change)
        for i, key in enumerate(_SIZES):
            added[i] += _size(plus, key)
            removed[i] += _size(minus, key)
    return ResourceDelta(added[0], removed[0], added[1], removed[1], added[2], removed[2])


def check_quota(plan: Plan, limits: Mapping[str, int]) -> QuotaCheck:
    """The plan's needs against Nova `/limits` absolute values (-1: unlimited).

    A create-then-delete replace needs its new server before the old one goes; every
    other freed resource counts as freed (the limits are checked for the plan as a whole).
    """
    needs = {"instances": 0, "cores": 0, "RAM": 0}
    for change in plan.actionable:
        plus, minus = _flavor_moves(change)
        if change.action is Action.CREATE_THEN_DELETE:
            minus = None  # the old one is still there when the new one is created
        if plus is not None and change.action in (Action.CREATE, Action.CREATE_THEN_DELETE):
            needs["instances"] += 1
        if minus is not None and change.action is Action.DELETE:
            needs["instances"] -= 1
        needs["cores"] += _size(plus, "flavor_vcpus") - _size(minus, "flavor_vcpus")
        needs["RAM"] += _size(plus, "flavor_ram") - _size(minus, "flavor_ram")
    problems = []
    for what, max_name, used_name, unit in _LIMITS:
        if max_name not in limits or limits[max_name] < 0 or needs[what] <= 0:
            continue
        left = max(limits[max_name] - limits.get(used_name, 0), 0)
        if needs[what] > left:
            problems.append(
                f"{what}: the plan needs {needs[what]}{unit} more, the project has "
                f"{left}{unit} of {limits[max_name]}{unit} left"
            )
    return QuotaCheck(frozen_map(dict(limits)), tuple(problems))


def _flavor_moves(change: Change) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The flavored attributes the change brings in and takes away (None: nothing)."""
    after = change.after if change.after and _sized(change.after) else None
    before = change.before if change.before and _sized(change.before) else None
    if change.action is Action.CREATE:
        return after, None
    if change.action is Action.DELETE:
        return None, before
    if change.action.is_replace:
        return after, before
    if after and before and after.get("flavor_id") != before.get("flavor_id"):
        return after, before
    return None, None


def _sized(attrs: Mapping[str, Any]) -> bool:
    return any(key in attrs for key in _SIZES)


def _size(attrs: Mapping[str, Any] | None, key: str) -> int:
    value = attrs.get(key) if attrs else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
