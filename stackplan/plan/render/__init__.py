"""Renderers: pure `Plan -> str` (text for a terminal, JSON for tools, Markdown for a PR).

This module holds what they share: which attributes are shown and how, the words for each
action and reason, and the order a reviewer reads changes in. A value whose digest sits
beside it (`user_data` next to `user_data_sha256`) is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from stackplan.kinds.base import Kind
from stackplan.kinds.registry import kind_of
from stackplan.plan.model import Action, Change, Plan, Reason, ResourceDelta
from stackplan.plan.refs import KNOWN_AFTER_APPLY, has_references, holding_references
from stackplan.sensitive import masked

__all__ = ["render_json", "render_markdown", "render_text"]

_ORDER = {
    Action.DELETE: 0,
    Action.DELETE_THEN_CREATE: 1,
    Action.CREATE_THEN_DELETE: 1,
    Action.REBUILD: 2,
    Action.RESIZE: 3,
    Action.UPDATE: 4,
    Action.CREATE: 5,
    Action.NO_OP: 6,
}


def shown(
    attrs: Mapping[str, Any] | None, sensitive: tuple[str, ...] = ()
) -> dict[str, Any] | None:
    """`attrs` as a reviewer may see them: without the values kept only for apply (those
    with a `_sha256` digest), and with sensitive values shown as (sensitive)."""
    if attrs is None:
        return None
    kept = {k: v for k, v in attrs.items() if f"{k}_sha256" not in attrs}
    return masked(kept, sensitive)


@dataclass(frozen=True, slots=True)
class AttrLine:
    """One attribute as a reviewer sees it; `before`/`after` are display text or None."""

    label: str
    before: str | None
    after: str | None
    forces: str = ""  # what this attribute forces: "replacement", "rebuild" or ""
    drift: bool = False  # the cloud changed it outside stackplan


def attribute_lines(change: Change) -> list[AttrLine]:
    """The attributes worth showing: all of a create or delete, the changed ones otherwise."""
    kind = kind_of(change.kind)
    before, after = shown(change.before, change.sensitive), shown(change.after, change.sensitive)
    if change.action is Action.CREATE or (after is not None and before is None):
        keys = [k for k in sorted(after or {}) if k not in kind.folded and after[k] is not None]
        return [AttrLine(_label(kind, k), None, value_text(kind, k, after)) for k in keys]
    if change.action is Action.DELETE:
        keys = [k for k in sorted(before or {}) if k not in kind.folded and before[k] is not None]
        return [AttrLine(_label(kind, k), value_text(kind, k, before), None) for k in keys]
    forcing = (
        "replacement"
        if change.action.is_replace
        else "rebuild"
        if change.action is Action.REBUILD
        else ""
    )
    return [
        AttrLine(
            _label(kind, k),
            *_sides(kind, k, before, after),
            forces=forcing if k in change.replace_paths else "",
            drift=k in change.drift,
        )
        for k in sorted(change.changed_paths)
    ]


def _sides(
    kind: Kind, key: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[str, str]:
    """Before and after of a changed attribute; of a set, only the members that go and
    those that come (with how many stay)."""
    old = kind.items(key, (before or {}).get(key))
    new = kind.items(key, (after or {}).get(key))
    if old is None or new is None:
        return value_text(kind, key, before), value_text(kind, key, after)
    gone = [m for m in old if m not in new]
    come = [m for m in new if m not in old]
    kept = len(old) - len(gone)
    stay = f" ({kept} unchanged)" if kept else ""
    return _members(gone, "removed"), _members(come, "added") + stay


def attribute_sides(
    kind: Kind, key: str, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
) -> tuple[str, str]:
    """How one changed attribute reads before and after (of a set: the members that go
    and those that come)."""
    return _sides(kind, key, before, after)


def _members(members: list[str], verb: str) -> str:
    if not members:
        return f"none {verb}"
    return f"{verb} " + json.dumps(members, ensure_ascii=False, separators=(", ", ": "))


def value_text(kind: Kind, key: str, attrs: Mapping[str, Any] | None) -> str:
    """How one attribute's value reads: JSON, a name beside its ID, or (known after apply)."""
    attrs = attrs or {}
    value = attrs.get(key)
    members = kind.items(key, value)
    if members is not None:
        return json.dumps(members, ensure_ascii=False, separators=(", ", ": "))
    if isinstance(value, Mapping | list) and has_references(value):
        # A map or list with some values known: show those, and which wait for apply.
        text = json.dumps(
            _waiting(value), sort_keys=True, ensure_ascii=False, separators=(", ", ": ")
        )
        return text.replace(json.dumps(_WAITING), KNOWN_AFTER_APPLY)
    if has_references(value):
        return KNOWN_AFTER_APPLY
    if key in kind.display and value is not None:
        name = attrs.get(kind.display[key][1])
        return f"{name} ({value})" if name else json.dumps(value)
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(", ", ": "))


_WAITING = "\x00known after apply\x00"  # a placeholder no spec value can hold


def _waiting(value: Any) -> Any:
    """`value` with each part that waits for apply replaced by the placeholder."""
    if isinstance(value, Mapping):
        return {k: _waiting(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_waiting(v) for v in value]
    return _WAITING if has_references(value) else value


def _label(kind: Kind, key: str) -> str:
    return kind.display[key][0] if key in kind.display else key


def headline(change: Change) -> str:
    """Why and how, in a few words: `resize: reboots, keeps its ID`; "" for a plain create."""
    action, reason = change.action, change.reason
    if action is Action.CREATE:
        tainted = "tainted: created again" + (f" ({change.note})" if change.note else "")
        return {
            Reason.GONE_FROM_CLOUD: "deleted outside stackplan: will be created again",
            Reason.TAINTED: tainted,
        }.get(reason, "")
    if action is Action.DELETE:
        why = {Reason.NOT_IN_SPEC: "not in the spec", Reason.DESTROY: "destroy"}.get(
            reason, reason.value
        )
        if change.note:
            why += f"; {change.note}"
        elif change.before is None:
            why += "; already gone from the cloud, apply only forgets it"
        return why
    adopted = reason is Reason.ADOPTED
    adopt = "adopted: found by its stackplan tag, missing from the state" if adopted else ""
    if action.is_replace:
        verb = "replace"
        if action is Action.CREATE_THEN_DELETE:
            verb += " (create before destroy)"
        if change.replace_paths:
            paths = ", ".join(change.replace_paths)
            why = f"{paths} force{'s' if len(change.replace_paths) == 1 else ''} replacement"
            if change.note:
                why += f" ({change.note})"
        else:
            why = {
                Reason.TAINTED: f"tainted ({change.note})" if change.note else "tainted",
                Reason.REPLACE_REQUESTED: "requested with --replace",
            }.get(reason, reason.value)
        text = f"{verb}: {why}"
    else:
        text = {
            Action.UPDATE: "update in place",
            Action.RESIZE: "resize: reboots, keeps its ID",
            Action.REBUILD: "rebuild: root disk wiped",
            Action.NO_OP: "no change",
        }[action]
        if reason is Reason.ADOPTED and action is Action.UPDATE and not change.changed_paths:
            return adopt + "; apply records it"
        if reason is Reason.FOREIGN:
            return "made outside this stack: used as it is, never deleted; apply records it"
        if reason is Reason.RESUME:
            text += "; first finishes the update a killed apply left midway"
    return f"{adopt}; {text}" if adopt else text


def action_word(action: Action) -> str:
    return {
        Action.CREATE: "create",
        Action.UPDATE: "update",
        Action.RESIZE: "resize",
        Action.REBUILD: "rebuild",
        Action.DELETE: "delete",
        Action.DELETE_THEN_CREATE: "replace",
        Action.CREATE_THEN_DELETE: "replace",
        Action.NO_OP: "no-op",
    }[action]


def review_order(changes: tuple[Change, ...]) -> list[Change]:
    """Destructive changes first (deletes, replaces, rebuilds), then the rest, by address."""
    return sorted(changes, key=lambda c: (_ORDER[c.action], c.address.sort_key()))


def summary_line(plan: Plan) -> str:
    if not plan.has_changes:
        return "No changes. The cloud matches the spec."
    n = plan.counts()
    return (
        f"Plan: {n['add']} to add, {n['change']} to change, {n['replace']} to replace, "
        f"{n['destroy']} to destroy."
    )


def delta_line(delta: ResourceDelta) -> str:
    """`Compute: +2 vCPUs, +1024 MB RAM, +2 GB disk; -1 vCPU, ...`, or "" when nothing moves."""
    halves = []
    for sign, amount in (("+", lambda i: i.added), ("-", lambda i: i.removed)):
        if any(amount(i) for i in delta.items):
            parts = [
                f"{sign}{amount(i)} {i.singular if amount(i) == 1 and i.singular else i.label}"
                for i in delta.items
                if amount(i)
            ]
            halves.append(", ".join(parts))
    return "Compute: " + "; ".join(halves) if halves else ""


def drift_only(plan: Plan) -> list[Change]:
    """Unchanged resources the cloud changed outside stackplan (back in line with the spec)."""
    return [c for c in plan.changes if c.action is Action.NO_OP and c.drift]


def unknown_paths(value: Any) -> list[str]:
    """Dotted paths of the values in `value` still waiting for a reference."""
    return list(holding_references(value))


def render_text(plan: Plan, color: bool = False) -> str:
    from stackplan.plan.render.text import render_text as render

    return render(plan, color)


def render_json(plan: Plan) -> str:
    from stackplan.plan.render.jsonplan import render_json as render

    return render(plan)


def render_markdown(plan: Plan) -> str:
    from stackplan.plan.render.markdown import render_markdown as render

    return render(plan)


def policy_verdict(plan: Plan) -> str:
    """`Policy policy.yaml: 2 violations (apply refuses this plan)`; "" without --policy."""
    report = plan.policy
    if report is None:
        return ""
    count = len(report.violations)
    if not count:
        return f"Policy {report.file}: passed."
    return (
        f"Policy {report.file}: {count} violation{'s' if count != 1 else ''} "
        "(the plan fails; apply refuses it):"
    )


def violation_lines(plan: Plan) -> list[str]:
    """One line per violated rule: `MESSAGE: server.db (replace), server.web[0] (...)`."""
    report = plan.policy
    if report is None:
        return []
    return [
        f"{v.message}: " + ", ".join(f"{a} ({d})" for a, d in v.offenders)
        for v in report.violations
    ]
