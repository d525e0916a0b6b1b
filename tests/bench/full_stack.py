"""The full-stack case of the benchmark (issue 16): a network, its subnet and router, three
security groups of 10 rules, and per server a port, a floating IP and a data volume.

Apply, no-change plan and destroy at one size on one cloud, with their lower bounds: the
settle times along the longest dependency chain plus requests x latency / parallelism.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tests.bench.harness import (
    PARALLELISM,
    STACKPLAN,
    CloudSettings,
    Run,
    cloud,
    load_average,
    polls_by_kind,
    run,
    wire_split,
)

# The seeded `public` holds a /24: too few floating IPs for 1,000 servers, so the bench
# makes an external network of its own (as the admin) before it starts.
EXTERNAL = "bench-public"
EXTERNAL_CIDR = "172.16.0.0/16"


def full_spec(groups: int = 3, rules: int = 10) -> str:
    lines = [
        "stack: full",
        "variables:",
        "  n: 10",
        "networks:",
        "  app: {}",
        "subnets:",
        "  app:",
        "    network: app",
        "    cidr: 10.30.0.0/16",
        "    gateway_ip: 10.30.0.1",
        "routers:",
        "  edge:",
        f"    external_network: {EXTERNAL}",
        "    interfaces: [app]",
        "security_groups:",
    ]
    for g in range(groups):
        lines += [f"  g{g}:", f"    description: bench group {g}", "    rules:"]
        lines += [f"      - {{protocol: tcp, port: {1000 * (g + 1) + r}}}" for r in range(rules)]
    names = ", ".join(f"g{g}" for g in range(groups))
    lines += [
        "ports:",
        "  srv:",
        "    count: ${var.n}",
        "    network: app",
        # Naming the subnet orders the port after it: on a network without one, a port
        # gets no address and Nova refuses it.
        "    fixed_ips: [{subnet: app}]",
        f"    security_groups: [{names}]",
        "volumes:",
        "  data:",
        "    count: ${var.n}",
        "    size: 1",
        "servers:",
        "  srv:",
        "    count: ${var.n}",
        "    image: cirros-0.6.2-x86_64-disk",
        "    flavor: m1.tiny",
        '    networks: [{port: "srv[${count.index}]"}]',
        '    volumes: [{volume: "data[${count.index}]"}]',
        "    metadata: {role: bench}",
        "floating_ips:",
        "  srv:",
        "    count: ${var.n}",
        f"    network: {EXTERNAL}",
        '    server: "srv[${count.index}]"',
    ]
    return "\n".join(lines) + "\n"


def settings(args: argparse.Namespace) -> CloudSettings:
    return CloudSettings(
        latency_ms=args.latency_ms,
        build_seconds=args.build_seconds,
        delete_seconds=args.delete_seconds,
        extra=tuple(args.sim_arg),
    )


def apply_chain(args: argparse.Namespace) -> float:
    """Settle time along the longest chain of an apply: network → subnet → router
    interface → port → server (builds) → volume attachment → floating IP. Only the
    server's build settles in the simulator; its volume builds beside it."""
    return args.build_seconds + args.attach_seconds


def destroy_chain(args: argparse.Namespace) -> float:
    """floating IP → server (deleted in `delete_seconds`) → port → router interface →
    subnet → network; the volume, detached, is deleted beside the server."""
    return args.delete_seconds


def bound(settle: float, requests: int, args: argparse.Namespace) -> float:
    return settle + requests * args.latency_ms / 1000 / PARALLELISM


def _measured(
    result: Run, stats: dict[str, Any], settle: float, args: argparse.Namespace
) -> dict[str, Any]:
    lower = bound(settle, stats["total"], args)
    return {
        "seconds": round(result.seconds, 3),
        "requests": stats["total"],
        "lower_bound_seconds": round(lower, 3),
        "ratio": round(result.seconds / lower, 2) if lower else None,
        "polls": polls_by_kind(stats["routes"]),
        **wire_split(result, stats),
        "max_rss_mib": round(result.max_rss_mib, 1),
        "load": load_average(),
        "routes": stats["routes"],
    }


def bench_full_stack(work: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """Apply `n` servers' full stack on an empty cloud, plan it unchanged, destroy it."""
    spec = work / f"full-{n}.yaml"
    spec.write_text(full_spec())
    db, state = work / f"full-{n}.sqlite", work / f"full-{n}.json"
    common = ["-f", str(spec), "--state", str(state), "--var", f"n={n}"]
    with cloud(db, settings(args)) as sim:
        made = sim.admin_post(
            "/networking/v2.0/networks", {"network": {"name": EXTERNAL, "router:external": True}}
        )
        sim.admin_post(
            "/networking/v2.0/subnets",
            {
                "subnet": {
                    "name": f"{EXTERNAL}-subnet",
                    "network_id": made["network"]["id"],
                    "cidr": EXTERNAL_CIDR,
                    "ip_version": 4,
                    "enable_dhcp": False,
                }
            },
        )
        env = sim.env()
        out: dict[str, Any] = {"servers": n}
        sim.reset_stats()
        applied = run([*STACKPLAN, "apply", "--auto-approve", *common], env, work)
        out["apply"] = _measured(applied, sim.stats(), apply_chain(args), args)
        sim.reset_stats()
        planned = run([*STACKPLAN, "plan", "--detailed-exitcode", *common], env, work)
        out["plan"] = _measured(planned, sim.stats(), 0.0, args)
        sim.reset_stats()
        destroyed = run([*STACKPLAN, "destroy", "--auto-approve", *common], env, work)
        out["destroy"] = _measured(destroyed, sim.stats(), destroy_chain(args), args)
    return out
