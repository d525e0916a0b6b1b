"""`stackplan drift` rendered: text for a terminal, JSON for tools, Markdown for an issue or
a chat message. Pure: `DriftReport -> str`."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackplan.kinds.registry import kind_of
from stackplan.plan.drift import Drifted, DriftReport
from stackplan.plan.render import attribute_sides

DRIFT_FORMAT_VERSION = "1.0"


def render_drift(report: DriftReport, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(drift_document(report), indent=2, ensure_ascii=False, default=_plain)
    if fmt == "markdown":
        return _markdown(report)
    return _text(report)


def verdict(report: DriftReport) -> str:
    if not report.has_drift:
        return f"No drift: the cloud holds the {report.checked} resources as the state says."
    deleted = sum(1 for r in report.resources if r.deleted)
    changed = len(report.resources) - deleted
    parts = [f"{changed} changed" if changed else "", f"{deleted} deleted" if deleted else ""]
    return "Drift: " + ", ".join(p for p in parts if p) + " outside stackplan."


def _lines(item: Drifted) -> list[tuple[str, str, str]]:
    """(attribute, as recorded, as the cloud has it) for each drifted attribute."""
    kind = kind_of(item.kind)
    return [
        (a.name, *attribute_sides(kind, a.name, item.recorded, item.now)) for a in item.attributes
    ]


def _text(report: DriftReport) -> str:
    out = [verdict(report)]
    for item in report.resources:
        out.append("")
        if item.deleted:
            out.append(f"  - {item.address} (deleted outside stackplan)")
            out.append(f"      id: {item.id}")
            continue
        out.append(f"  ~ {item.address} (changed outside stackplan)")
        out.append(f"      id: {item.id}")
        for name, recorded, now in _lines(item):
            out.append(f"      ~ {name}: {recorded} → {now}")
    if report.has_drift:
        out += ["", "`stackplan plan` shows how apply would bring them back in line with the spec."]
    return "\n".join(out) + "\n"


def _markdown(report: DriftReport) -> str:
    out = [
        f"### stackplan drift: {verdict(report).removeprefix('Drift: ').rstrip('.')}",
        "",
        f"Stack `{report.stack}` · state serial {report.serial}",
        "",
    ]
    if not report.has_drift:
        return "\n".join(out) + "\n"
    out += ["| Resource | What happened |", "| --- | --- |"]
    for item in report.resources:
        what = (
            "**deleted** outside stackplan"
            if item.deleted
            else "changed: " + ", ".join(f"`{a.name}`" for a in item.attributes)
        )
        out.append(f"| `{item.address}` | {what} |")
    out.append("")
    for item in report.resources:
        if item.deleted:
            continue
        out += [f"<details><summary><code>~ {item.address}</code></summary>", "", "```diff"]
        for name, recorded, now in _lines(item):
            out += [f"- {name}: {recorded}", f"+ {name}: {now}"]
        out += ["```", "", "</details>", ""]
    return "\n".join(out) + "\n"


def drift_document(report: DriftReport) -> dict[str, Any]:
    return {
        "format_version": DRIFT_FORMAT_VERSION,
        "stack": report.stack,
        "lineage": report.lineage,
        "serial": report.serial,
        "checked": report.checked,
        "has_drift": report.has_drift,
        "resources": [
            {
                "address": item.address,
                "kind": item.kind,
                "id": item.id,
                "deleted": item.deleted,
                "attributes": [
                    {"name": a.name, "recorded": a.recorded, "now": a.now} for a in item.attributes
                ],
            }
            for item in report.resources
        ],
    }


def _plain(value: Any) -> Any:
    """The frozen maps and tuples of attribute values, as JSON takes them."""
    return dict(value) if isinstance(value, Mapping) else list(value)
