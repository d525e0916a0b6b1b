"""What the other commands print: the validate and apply summaries, state records, refresh
results and the dependency graph in DOT. Pure: values in, text out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from stackplan.addr import Address
from stackplan.kinds.registry import KINDS
from stackplan.state.model import RecordStatus, ResourceRecord

if TYPE_CHECKING:
    import networkx as nx

    from stackplan.spec.model import Desired


class ApplyTally(Protocol):
    """What an apply did (stackplan.apply.executor.ApplyResult has it)."""

    done: Sequence[Address]
    failed: Sequence[tuple[Address, str]]
    skipped: Sequence[Address]
    interrupted: bool
    settling: Sequence[Address]
    not_started: Sequence[Address]
    stopped: str

    @property
    def ok(self) -> bool: ...


def validate_summary(desired: Desired, online: bool) -> str:
    """`Spec web.yaml is valid: 3 servers, 1 keypair.`"""
    counts = {kind: 0 for kind in KINDS}  # in the registry's order: servers first
    for resource in desired.resources:
        counts[resource.kind] += 1
    parts = [f"{n} {KINDS[kind].label}{'s' if n != 1 else ''}" for kind, n in counts.items() if n]
    checked = " (names resolved in the cloud)" if online else ""
    return f"Spec {desired.spec_path} is valid{checked}: {', '.join(parts) or 'no resources'}."


def apply_summary(result: ApplyTally, counts: Mapping[str, int]) -> str:
    if result.interrupted or result.stopped:
        verb = "stopped (the state could not be written)" if result.stopped else "interrupted"
        lines = [
            f"Apply {verb}: {len(result.done)} done, {len(result.settling)} sent and "
            f"still settling, {len(result.failed)} failed, {len(result.not_started)} not started."
        ]
        if result.settling:
            lines.append(
                "  still settling (recorded in the state; the next plan sees whether they "
                "came up and replaces any that failed): " + ", ".join(map(str, result.settling))
            )
        if result.not_started:
            lines.append("  not started: " + ", ".join(map(str, result.not_started)))
        if result.stopped:
            lines.append(f"  {result.stopped}")
            lines.append(
                "The state is as last written; what was made since carries this stack's "
                "marker, and the next apply adopts it."
            )
        else:
            lines.append("The state records everything that was sent.")
        return "\n".join(lines)
    if result.ok:
        return (
            f"Apply complete! Resources: {counts['add']} added, {counts['change']} changed, "
            f"{counts['replace']} replaced, {counts['destroy']} destroyed."
        )
    lines = [
        f"Apply finished with errors: {len(result.done)} done, {len(result.failed)} failed, "
        f"{len(result.skipped)} skipped."
    ]
    lines += [f"  {address}: {message}" for address, message in result.failed]
    if result.skipped:
        lines.append("  skipped (a dependency failed): " + ", ".join(map(str, result.skipped)))
    lines.append(
        "A resource that failed to build is kept as tainted and replaced by the next apply; "
        "any other failed change is planned again by the next plan."
    )
    return "\n".join(lines)


def record_text(record: ResourceRecord) -> str:
    """`stackplan state show`: the record as indented JSON."""
    doc = {
        "address": str(record.address),
        "id": record.id,
        "status": record.status.value,
        "attributes": dict(record.attributes),
        "dependencies": [str(a) for a in record.dependencies],
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str)


def record_line(record: ResourceRecord) -> str:
    """`stackplan state list`: address, ID and a status other than ok."""
    flag = "" if record.status is RecordStatus.OK else f"  ({record.status.value})"
    return f"{record.address}  {record.id or '-'}{flag}"


def refresh_lines(
    gone: Iterable[Address], tainted: Iterable[Address], updated: Iterable[Address]
) -> list[str]:
    lines = [f"{a}: gone from the cloud; removed from the state" for a in gone]
    lines += [f"{a}: failed in the cloud; tainted (the next apply replaces it)" for a in tainted]
    lines += [f"{a}: attributes updated from the cloud" for a in updated]
    return lines


def render_dot(graph: nx.DiGraph) -> str:
    """A dependency graph in Graphviz DOT: an edge points at what is needed."""
    lines = ["digraph stackplan {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  "{node}";' for node in sorted(graph.nodes, key=Address.sort_key)]
    edges = sorted(graph.edges, key=lambda e: (e[0].sort_key(), e[1].sort_key()))
    lines += [f'  "{a}" -> "{b}";' for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
