"""Capacity a plan adds and frees, and whether it fits the project's quota. Pure: the kinds
say what each resource uses (`Kind.usage`) and the caller passes the limits in.

A change brings in what its `after` uses and takes away what its `before` used: a create
only adds, a delete only frees, a replace or an in-place change (a resize) does both.
"""

from __future__ import annotations

from collections.abc import Mapping

from stackplan.frozen import frozen_map
from stackplan.kinds.base import Kind, Limit, Measure
from stackplan.plan.model import Action, Change, DeltaItem, Plan, QuotaCheck, ResourceDelta

__all__ = ["check_quota", "resource_delta"]


def resource_delta(plan: Plan, kinds: Mapping[str, Kind]) -> ResourceDelta:
    """What the plan's resources add and remove of each measure the delta shows."""
    added: dict[str, int] = {}
    removed: dict[str, int] = {}
    for change in plan.actionable:
        plus, minus = moves(change, kinds[change.kind])
        for name, amount in plus.items():
            added[name] = added.get(name, 0) + amount
        for name, amount in minus.items():
            removed[name] = removed.get(name, 0) + amount
    items = tuple(
        DeltaItem(
            m.name, m.delta_label, m.delta_singular, added.get(m.name, 0), removed.get(m.name, 0)
        )
        for m in _measures(kinds)
        if m.delta_label
    )
    return ResourceDelta(items)


def check_quota(plan: Plan, limits: Mapping[str, Limit], kinds: Mapping[str, Kind]) -> QuotaCheck:
    """The plan's needs against the project's `limits` (by measure; max -1 is unlimited).

    A create-then-delete replace needs its new resource before the old one goes; every
    other freed resource counts as freed (the limits are checked for the plan as a whole).
    """
    needs: dict[str, int] = {}
    for change in plan.actionable:
        plus, minus = moves(change, kinds[change.kind])
        if change.action is Action.CREATE_THEN_DELETE:
            minus = {}  # the old one is still there when the new one is created
        for name in {*plus, *minus}:
            needs[name] = needs.get(name, 0) + plus.get(name, 0) - minus.get(name, 0)
    problems = []
    for measure in _measures(kinds):
        limit = limits.get(measure.name)
        need = needs.get(measure.name, 0)
        if limit is None or limit.max < 0 or need <= 0 or not measure.quota_label:
            continue
        left = max(limit.max - limit.used, 0)
        if need > left:
            unit = measure.unit
            problems.append(
                f"{measure.quota_label}: the plan needs {need}{unit} more, the project has "
                f"{left}{unit} of {limit.max}{unit} left"
            )
    return QuotaCheck(frozen_map(dict(limits)), tuple(problems))


def _measures(kinds: Mapping[str, Kind]) -> list[Measure]:
    seen: dict[str, Measure] = {}
    for kind in kinds.values():
        for measure in kind.measures:
            seen.setdefault(measure.name, measure)
    return list(seen.values())


def moves(change: Change, kind: Kind) -> tuple[Mapping[str, int], Mapping[str, int]]:
    """What the change brings in and what it takes away, by measure."""
    after = kind.usage(change.after) if change.after else {}
    before = kind.usage(change.before) if change.before else {}
    if change.action is Action.CREATE:
        return after, {}
    if change.action is Action.DELETE:
        return {}, before
    if change.action.is_replace:
        return after, before
    if after and before and after != before:
        return after, before
    return {}, {}
