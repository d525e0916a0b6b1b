"""The plan as Markdown for a pull-request comment: summary table, then folded details,
destructive changes first, cut to fit a comment. Pure: `Plan -> str`.
"""

from __future__ import annotations

from stackplan.plan.model import Action, Change, Plan
from stackplan.plan.render import (
    action_word,
    attribute_lines,
    delta_line,
    drift_only,
    headline,
    review_order,
    summary_line,
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
            f"… {len(changes) - rows} more resources not shown; "
            "run `stackplan plan` for the full plan.",
        ]
    elif details < len(changes):
        out.append(
            f"… details of {len(changes) - details} more resources not shown; "
            "run `stackplan plan` for the full plan."
        )
    return "\n".join(out) + "\n"


def _head(plan: Plan) -> str:
    title = summary_line(plan).removeprefix("Plan: ").rstrip(".")
    if plan.destroy:
        title = "destroy, " + title
    digest = plan.spec_digest.removeprefix("sha256:")[:12]
    lines = [
        f"### stackplan: {title}",
        "",
        f"Stack `{plan.stack}` · state serial {plan.serial} · spec `{digest}`",
        "",
    ]
    notes = [f"> **Quota:** {p}" for p in plan.quota.problems]
    notes += [f"> **Warning:** {w}" for w in plan.warnings]
    drifted = drift_only(plan)
    if drifted:
        notes.append(
            "> Changed outside stackplan, back in line with the spec: "
            + ", ".join(f"`{c.address}` ({', '.join(c.drift)})" for c in drifted)
        )
    delta = delta_line(plan.delta)
    if delta:
        notes.append(f"> {delta}")
    for note in notes:
        lines += [note, ">"] if note is not notes[-1] else [note, ""]
    return "\n".join(lines)


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
