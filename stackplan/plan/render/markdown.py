"""The plan as Markdown for a pull-request comment: summary table, then folded details,
destructive changes first, cut to fit a comment. Pure: `Plan -> str`.
"""

from __future__ import annotations

from stackplan.plan.model import Action, Change, Plan
from stackplan.plan.render import (
    action_word,
    attribute_lines,
    drift_only,
    headline,
    policy_verdict,
    review_order,
    violation_lines,
)

# GitHub refuses comments over 65,536 characters; keep a margin for the closing note.
LIMIT = 65_000
_NOTE_ROOM = 300


def render_markdown(plan: Plan, limit: int = LIMIT) -> str:
    changes = review_order(plan.actionable)
    head = _head(plan)
    if not changes:
        return head + "\n"
    budget = limit - _NOTE_ROOM
    out = [head, "| Action | Resource | Why |", "| --- | --- | --- |"]
    size = sum(len(p) + 1 for p in out)
    rows = 0
    for change in changes:
        row = _row(change)
        if size + len(row) + 1 > budget:
            break
        out.append(row)
        size += len(row) + 1
        rows += 1
    details = 0
    if rows == len(changes):
        out.append("")
        size += 1
        for change in changes:
            block = _details(change)
            if size + len(block) + 1 > budget:
                break
            out.append(block)
            size += len(block) + 1
            details += 1
    if rows < len(changes):
        out += [
            "",
            f"… {len(changes) - rows} more resources not shown ({_left_out(changes[rows:])}); "
            "run `stackplan plan` for the full plan.",
        ]
    elif details < len(changes):
        out.append(
            f"… details of {len(changes) - details} more resources not shown "
            f"({_left_out(changes[details:])}); run `stackplan plan` for the full plan."
        )
    return "\n".join(out) + "\n"


def _left_out(changes: list[Change]) -> str:
    """What a cut left out, named by resource and action: `delete server.web (120)`."""
    counted: dict[tuple[str, str], int] = {}
    for change in changes:
        key = (action_word(change.action), str(change.address.base))
        counted[key] = counted.get(key, 0) + 1
    parts = [f"{word} {base}" + (f" ({n})" if n > 1 else "") for (word, base), n in counted.items()]
    text = ", ".join(parts[:20])
    return text + (f", and {len(parts) - 20} more" if len(parts) > 20 else "")


def _head(plan: Plan) -> str:
    title = verdict(plan)
    if plan.destroy:
        title = "destroy: " + title
    digest = plan.spec_digest.removeprefix("sha256:")[:12]
    lines = [
        f"### stackplan: {title}",
        "",
        f"Stack `{plan.stack}` · state serial {plan.serial} · spec `{digest}`",
        "",
    ]
    notes = []
    if plan.policy is not None:
        listed = "".join(f"<br>• {_html(v)}" for v in violation_lines(plan))
        notes.append(f"> **{policy_verdict(plan)}**{listed}")
    notes += [f"> **Quota:** {p}" for p in plan.quota.problems]
    notes += [f"> **Warning:** {w}" for w in plan.warnings]
    drifted = drift_only(plan)
    if drifted:
        notes.append(
            "> Changed outside stackplan, back in line with the spec: "
            + ", ".join(f"`{c.address}` ({', '.join(c.drift)})" for c in drifted)
        )
    delta = net_delta(plan)
    if delta:
        notes.append(f"> Net: {delta}")
    for note in notes:
        lines += [note, ">"] if note is not notes[-1] else [note, ""]
    return "\n".join(lines)


def verdict(plan: Plan) -> str:
    """The plan in one line: `3 to add, 1 to replace (server.db: image changed), policy: 2
    violations`; counts that are 0 are left out."""
    if not plan.has_changes:
        parts = ["no changes"]
    else:
        n = plan.counts()
        parts = [f"{n[key]} to {word}" for key, word in _COUNTS if n[key]]
        replaced = [c for c in plan.actionable if c.action.is_replace]
        if replaced:
            why = [
                f"{c.address}: {', '.join(c.replace_paths) or c.reason.value} changed"
                for c in replaced[:3]
            ]
            more = f", {len(replaced) - 3} more" if len(replaced) > 3 else ""
            at = next(i for i, (key, _) in enumerate(_COUNTS) if key == "replace")
            index = sum(1 for key, _ in _COUNTS[:at] if n[key])
            parts[index] += f" ({'; '.join(why)}{more})"
    report = plan.policy
    if report is not None:
        count = len(report.violations)
        parts.append(
            f"policy: {count} violation{'s' if count != 1 else ''}" if count else "policy passed"
        )
    if plan.quota.problems:
        parts.append("over quota")
    return ", ".join(parts)


_COUNTS = (("add", "add"), ("change", "change"), ("replace", "replace"), ("destroy", "destroy"))


def net_delta(plan: Plan) -> str:
    """What the plan adds net, by measure: `+2 vCPUs, -512 MB RAM` ("" when nothing moves)."""
    parts = []
    for item in plan.delta.items:
        net = item.added - item.removed
        if net:
            label = item.singular if abs(net) == 1 and item.singular else item.label
            parts.append(f"{net:+d} {label}")
    return ", ".join(parts)


def _row(change: Change) -> str:
    word = action_word(change.action)
    if change.action.is_destructive:
        word = f"**{word}**"
    why = headline(change) or ("new" if change.action is Action.CREATE else "")
    return f"| {change.action.symbol} {word} | `{change.address}` | {_cell(why)} |"


def _details(change: Change) -> str:
    why = headline(change)
    summary = f"<code>{change.action.symbol} {change.address}</code>"
    if why:
        summary += f" {_html(why)}"
    lines = [f"<details><summary>{summary}</summary>", "", "```diff"]
    if change.id and change.action is not Action.CREATE:
        lines.append(f"  id: {change.id}")
    if change.drift:
        lines.append(f"  # changed outside stackplan: {', '.join(change.drift)}")
    for attr in attribute_lines(change):
        forces = f"  # forces {attr.forces}" if attr.forces else ""
        if attr.before is not None:
            lines.append(f"- {attr.label}: {attr.before}")
        if attr.after is not None:
            lines.append(f"+ {attr.label}: {attr.after}{forces}")
    lines += ["```", "", "</details>", ""]
    return "\n".join(
        line.replace("```", "'''") if i > 2 and line != "```" else line
        for i, line in enumerate(lines)
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
