"""The big-spec case of the benchmark (issue 16): `validate` and a no-change `plan` of a
spec of 10,000 separately written servers (wall time, peak RSS). The servers are made
beforehand by an apply on a cloud without latency or builds."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tests.bench.harness import STACKPLAN, CloudSettings, cloud, load_average, run


def write_big_spec(work: Path, servers: int) -> Path:
    """A spec of `servers` separately written servers (no count)."""
    lines = ["stack: big", "servers:"]
    for i in range(servers):
        lines += [
            f"  s{i:05d}:",
            "    image: cirros-0.6.2-x86_64-disk",
            f"    flavor: {('m1.tiny', 'm1.small')[i % 2]}",
            "    security_groups: [default]",
            f"    metadata: {{role: web, index: '{i}'}}",
        ]
    path = work / f"big-{servers}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_validate(work: Path, env: dict[str, str], servers: int) -> dict[str, Any]:
    spec = write_big_spec(work, servers)
    result = run([*STACKPLAN, "validate", "-f", str(spec)], env, work)
    return {
        "servers": servers,
        "seconds": round(result.seconds, 3),
        "max_rss_mib": round(result.max_rss_mib, 1),
        "load": load_average(),
    }


def bench_big_plan(work: Path, servers: int, args: argparse.Namespace) -> dict[str, Any]:
    """A no-change plan of the big spec, its servers made on a fast cloud first."""
    spec = write_big_spec(work, servers)
    db, state = work / f"big-{servers}.sqlite", work / f"big-{servers}.json"
    common = ["-f", str(spec), "--state", str(state)]
    # 10,000 ports on `private`: a /18.
    fast = CloudSettings(private_cidr="10.0.0.0/18")
    slow = CloudSettings(args.latency_ms, args.build_seconds, private_cidr="10.0.0.0/18")
    with cloud(db, fast) as sim:
        made = run(
            [*STACKPLAN, "apply", "--auto-approve", "--parallelism", "50", *common],
            sim.env(), work,
        )  # fmt: skip
    with cloud(db, slow) as sim:
        sim.reset_stats()
        result = run([*STACKPLAN, "plan", "--detailed-exitcode", *common], sim.env(), work)
        stats = sim.stats()
    return {
        "servers": servers,
        "requests": stats["total"],
        "routes": stats["routes"],
        "seconds": round(result.seconds, 3),
        "max_rss_mib": round(result.max_rss_mib, 1),
        "load": load_average(),
        "setup_apply_seconds": round(made.seconds, 1),
    }
