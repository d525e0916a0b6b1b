"""The plan as terminal text, in the shape Terraform users know. Pure: `Plan -> str`.

ANSI colour only when asked (the CLI passes `sys.stdout.isatty()`).
"""

from __future__ import annotations

from stackplan.plan.model import Action, Change, Plan
from stackplan.plan.render import (
    AttrLine,
    attribute_lines,
    delta_line,
    drift_only,
    headline,
    policy_verdict,
    summary_line,
    violation_lines,
)

_LEGEND = {
    "+": "create",
    "~": "change in place (update, resize or rebuild: see each resource)",
    "-": "delete",
    "-/+": "delete, then create a replacement",
    "+/-": "create a replacement, then delete the old one",
}
_COLOURS = {"+": "32", "~": "33", "-": "31", "-/+": "31", "+/-": "31"}
_ARROW = "→"


def render_text(plan: Plan, color: bool = False) -> str:
    """The whole plan as text: legend, each change, drift, delta, quota, warnings, summary."""
    paint = _painter(color)
    out: list[str] = []
    verdict = policy_verdict(plan)
    if verdict:
        failed = bool(plan.policy and plan.policy.violations)
        out.append(paint(verdict, "1;31" if failed else "1;32"))
        out += [f"  - {line}" for line in violation_lines(plan)]
        out.append("")
    actionable = plan.actionable
    if actionable:
        used = sorted({c.action.symbol for c in actionable}, key=list(_LEGEND).index)
        out.append("Resource actions are shown with these symbols:")
        out += [f"{paint(sym.rjust(3), _COLOURS[sym])} {_LEGEND[sym]}" for sym in used]
        out += ["", "stackplan will perform these actions:", ""]
        for change in actionable:
            out += _change_lines(change, paint)
            out.append("")
    drifted = drift_only(plan)
    if drifted:
        out.append("Changed outside stackplan, and back in line with the spec (nothing to do):")
        out += [f"  {c.address}: {', '.join(c.drift)}" for c in drifted]
        out.append("")
    delta = delta_line(plan.delta)
    if delta:
        out += [delta, ""]
    if plan.quota.problems:
        out.append(paint("Quota: this plan does not fit the project's limits:", "1;31"))
        out += [f"  - {p}" for p in plan.quota.problems]
        out.append("")
    for warning in plan.warnings:
        out += [paint("Warning: ", "1;33") + warning, ""]
    out.append(paint(summary_line(plan), "1"))
    return "\n".join(out) + "\n"


def _change_lines(change: Change, paint: _Paint) -> list[str]:
    symbol = change.action.symbol
    why = headline(change)
    head = f"{paint(symbol.rjust(3), _COLOURS[symbol])} {change.address}"
    lines = [f"{head} ({why})" if why else head]
    if change.id and change.action is not Action.CREATE:
        lines.append(f"      id: {change.id}")
    if change.drift:
        lines.append(f"      # changed outside stackplan: {', '.join(change.drift)}")
    attrs = attribute_lines(change)
    width = max((len(a.label) for a in attrs), default=0)
    lines += [_attr_line(a, width, paint) for a in attrs]
    return lines


def _attr_line(attr: AttrLine, width: int, paint: _Paint) -> str:
    label = (attr.label + ":").ljust(width + 1)
    if attr.before is None:
        text = f"{paint('+', '32')} {label} {attr.after}"
    elif attr.after is None:
        text = f"{paint('-', '31')} {label} {attr.before}"
    else:
        text = f"{paint('~', '33')} {label} {attr.before} {_ARROW} {attr.after}"
    if attr.forces:
        text += paint(f"  # forces {attr.forces}", "31")
    return "      " + text


class _Paint:
    def __init__(self, enabled: bool):
        self.enabled = enabled

    def __call__(self, text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.enabled else text


def _painter(color: bool) -> _Paint:
    return _Paint(color)
