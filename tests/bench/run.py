"""Benchmarks of stackplan against the embedded cloud (not a test; `make bench` runs it).

    .venv/bin/python tests/bench/run.py [--out bench-results.json] [--latency-ms 20]
        [--build-seconds 5] [--delete-seconds 0] [--plan-sizes 10,100,1000]
        [--apply-sizes 10,100] [--full-sizes 10,100,1000] [--big-servers 10000]
        [--cases help,validate,plan,apply,full,big,writes] [--sim-arg=--flag ...]

Everything runs as it does for a user: the cloud is `stackplan sim serve` in a
subprocess, each command is `python -m stackplan ...` in a subprocess, and API requests
are counted by the cloud itself (`/_sim/stats`). Measured (issues 6 and 16):

- `validate` of a 1,000-server spec (wall time);
- a no-change `plan` with 10, 100 and 1,000 managed servers: API requests, wall time and
  the peak memory (max RSS) of the plan process. The servers are made beforehand by an
  apply on a cloud without latency, which is then restarted with latency on the same
  SQLite file;
- `apply --auto-approve` creating 10 and 100 servers with `--build-seconds`: wall time,
  API requests, poll requests, and the ratio to the lower bound
  `build time + requests x latency / parallelism`; then `destroy` of the same servers;
- the full stack (`full_stack.py`) at 10, 100 and 1,000 servers: apply, no-change plan
  and destroy, each with its requests, wall time, critical-path lower bound, polls per
  kind and peak RSS;
- `validate` and a no-change `plan` of a 10,000-server spec (`big_spec.py`);
- `stackplan --help` start-up time (median of 5);
- one state write of a 1,000-resource stack on PostgreSQL (issue 13: under 20 ms), against
  a private server started from the system's PostgreSQL, and to a local file beside it.

Every wall time is printed with the one-minute load average beside it: the figures of a
shared machine mean little without it. Prints a table and writes the figures as JSON
(`--out`, git-ignored by default).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.helpers, tests.bench

from tests.bench.big_spec import bench_big_plan, bench_validate  # noqa: E402
from tests.bench.full_stack import bench_full_stack  # noqa: E402
from tests.bench.harness import (  # noqa: E402
    PARALLELISM,
    STACKPLAN,
    CloudSettings,
    cloud,
    load_average,
    machine,
    run,
    wire_note,
    wire_split,
)

POLL_ROUTE = "GET /compute/v2.1/servers/detail"
CASES = ("help", "validate", "plan", "apply", "full", "big", "writes")

SPEC = """\
stack: bench
variables:
  n: 10
servers:
  web:
    count: ${var.n}
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    security_groups: [default]
    metadata: {role: web, tier: bench}
"""


def write_spec(work: Path) -> Path:
    spec = work / "bench.yaml"
    spec.write_text(SPEC)
    return spec


def bench_help(env: dict[str, str]) -> dict[str, Any]:
    times = [run([*STACKPLAN, "--help"], env, REPO).seconds for _ in range(5)]
    return {"median_seconds": round(statistics.median(times), 3), "runs": 5, "load": load_average()}


def bench_plan(work: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """A no-change plan of `n` managed servers, made on a fast cloud, planned on a slow one."""
    spec = write_spec(work)
    db, state = work / f"plan-{n}.sqlite", work / f"plan-{n}.json"
    common = ["-f", str(spec), "--state", str(state), "--var", f"n={n}"]
    with cloud(db, CloudSettings()) as fast:
        made = run(
            [*STACKPLAN, "apply", "--auto-approve", "--parallelism", "50", *common],
            fast.env(), work,
        )  # fmt: skip
    with cloud(db, CloudSettings(args.latency_ms, args.build_seconds)) as slow:
        slow.reset_stats()
        result = run([*STACKPLAN, "plan", "--detailed-exitcode", *common], slow.env(), work)
        stats = slow.stats()
    return {
        "servers": n,
        "requests": stats["total"],
        "routes": stats["routes"],
        "seconds": round(result.seconds, 3),
        "max_rss_mib": round(result.max_rss_mib, 1),
        "load": load_average(),
        "setup_apply_seconds": round(made.seconds, 1),
    }


def bench_apply(work: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """`apply --auto-approve` creating `n` servers on an empty cloud, then `destroy`."""
    spec = write_spec(work)
    db, state = work / f"apply-{n}.sqlite", work / f"apply-{n}.json"
    common = ["-f", str(spec), "--state", str(state), "--var", f"n={n}"]
    with cloud(db, CloudSettings(args.latency_ms, args.build_seconds)) as sim:
        env = sim.env()
        sim.reset_stats()
        applied = run([*STACKPLAN, "apply", "--auto-approve", *common], env, work)
        stats = sim.stats()
        load = load_average()
        sim.reset_stats()
        destroyed = run([*STACKPLAN, "destroy", "--auto-approve", *common], env, work)
        destroy_stats = sim.stats()
    requests = stats["total"]
    bound = args.build_seconds + requests * args.latency_ms / 1000 / PARALLELISM
    return {
        "servers": n,
        "seconds": round(applied.seconds, 3),
        "requests": requests,
        # The plan before the apply lists the (empty) project once; the rest are polls.
        "poll_requests": stats["routes"].get(POLL_ROUTE, 0) - 1,
        "lower_bound_seconds": round(bound, 3),
        "ratio": round(applied.seconds / bound, 2),
        **wire_split(applied, stats),
        "max_rss_mib": round(applied.max_rss_mib, 1),
        "load": load,
        "routes": stats["routes"],
        "destroy_seconds": round(destroyed.seconds, 3),
        "destroy_requests": destroy_stats["total"],
        "destroy_load": load_average(),
    }


def bench_state_writes(work: Path, resources: int = 1000, writes: int = 30) -> dict[str, Any]:
    """Median and 90th percentile of one state write (a record changed, serial + 1)."""
    from stackplan.addr import Address
    from stackplan.state import LocalStateStore, ResourceRecord, State
    from stackplan.state.pg_url import parse_backend_url
    from stackplan.state.postgres import PostgresStateStore
    from tests.helpers import PostgresServer

    state = State.new("bench")
    for i in range(resources):
        attrs = {
            "name": f"web-{i}",
            "image_id": "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01",
            "flavor_id": "1",
            "metadata": {"role": "web", "tier": "bench"},
            "networks": [{"network_id": "5a7c1b2e-0000-4000-8000-000000000001"}],
            "security_groups": ["8e1f0c2d-0000-4000-8000-000000000002"],
            "access_ip_v4": f"10.0.{i // 250}.{i % 250 + 2}",
        }
        state = state.with_record(ResourceRecord(Address("server", "web", i), f"id-{i}", attrs))

    def timed(store: Any) -> list[float]:
        current = state.next_serial()
        store.write(current)
        took = []
        for n in range(writes):
            record = ResourceRecord(Address("server", "web", n), f"id-new-{n}", {"name": "x"})
            current = current.with_record(record).next_serial()
            started = time.perf_counter()
            store.write(current)
            took.append((time.perf_counter() - started) * 1000)
        return sorted(took)

    server = PostgresServer().start()
    os.environ.update(server.env)
    try:
        postgres = timed(PostgresStateStore(parse_backend_url(server.url), "bench"))
    finally:
        server.stop()
    local = timed(LocalStateStore(work / "writes.json"))
    p90 = int(writes * 0.9)
    return {
        "resources": resources,
        "writes": writes,
        "postgres_median_ms": round(statistics.median(postgres), 1),
        "postgres_p90_ms": round(postgres[p90], 1),
        "local_median_ms": round(statistics.median(local), 1),
        "local_p90_ms": round(local[p90], 1),
        "load": load_average(),
    }


def _polls(polls: dict[str, int]) -> str:
    return ", ".join(f"{kind} {n}" for kind, n in polls.items() if n) or "none"


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table (printed, and pasted into the README)."""
    rows = [("what", "wall time", "load", "API requests", "notes")]

    def add(what: str, seconds: float, load: Any, requests: Any, notes: str) -> None:
        rows.append((what, f"{seconds:.2f} s", f"{load}", str(requests), notes))

    if "help" in results:
        h = results["help"]
        add("`stackplan --help`", h["median_seconds"], h["load"], "-", "median of 5")
    for v in results.get("validate", []):
        add(f"`validate`, {v['servers']:,} servers", v["seconds"], v["load"], "-",
            f"offline; peak RSS {v['max_rss_mib']:.0f} MiB")  # fmt: skip
    for p in results.get("plan", []):
        add(f"no-change `plan`, {p['servers']:,} servers", p["seconds"], p["load"],
            p["requests"], f"peak RSS {p['max_rss_mib']:.0f} MiB")  # fmt: skip
    if "big_plan" in results:
        p = results["big_plan"]
        add(f"no-change `plan`, {p['servers']:,}-server spec", p["seconds"], p["load"],
            p["requests"], f"peak RSS {p['max_rss_mib']:.0f} MiB")  # fmt: skip
    for a in results.get("apply", []):
        add(f"`apply`, create {a['servers']:,} servers", a["seconds"], a["load"],
            a["requests"], f"{a['ratio']:.2f}x lower bound {a['lower_bound_seconds']:.2f} s; "
            f"{wire_note(a)}{a['poll_requests']} polls")  # fmt: skip
    for a in results.get("apply", []):
        add(f"`destroy`, {a['servers']:,} servers", a["destroy_seconds"], a["destroy_load"],
            a["destroy_requests"], "")  # fmt: skip
    for f in results.get("full", []):
        for what in ("plan", "apply", "destroy"):
            m = f[what]
            verb = {"plan": "no-change `plan`", "apply": "`apply`", "destroy": "`destroy`"}[what]
            bound = (
                f"{m['ratio']:.2f}x lower bound {m['lower_bound_seconds']:.2f} s; "
                if what != "plan" else ""
            )  # fmt: skip
            add(f"full stack {f['servers']:,}: {verb}", m["seconds"], m["load"], m["requests"],
                f"{bound}{wire_note(m)}polls: {_polls(m['polls'])}; "
                f"RSS {m['max_rss_mib']:.0f} MiB")  # fmt: skip
    if "state_writes" in results:
        w = results["state_writes"]
        for where, key in (("PostgreSQL", "postgres"), ("local file", "local")):
            rows.append((
                f"state write, {w['resources']:,} resources, {where}",
                f"{w[key + '_median_ms']:.1f} ms", f"{w['load']}", "-",
                f"median of {w['writes']}; p90 {w[key + '_p90_ms']:.1f} ms",
            ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in rows]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def _sizes(text: str) -> list[int]:
    return [int(n) for n in text.split(",") if n]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench-results.json")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--build-seconds", type=float, default=5.0)
    parser.add_argument(
        "--delete-seconds", type=float, default=0.0, help="the full stack's deletes"
    )
    parser.add_argument(
        "--attach-seconds", type=float, default=0.0,
        help="what an attachment takes to settle in the cloud (for the lower bound)",
    )  # fmt: skip
    parser.add_argument("--plan-sizes", default="10,100,1000")
    parser.add_argument("--apply-sizes", default="10,100")
    parser.add_argument("--full-sizes", default="10,100,1000")
    parser.add_argument("--big-servers", type=int, default=10000)
    parser.add_argument("--cases", default=",".join(CASES), help="a comma-separated subset")
    parser.add_argument(
        "--sim-arg", action="append", default=[],
        help="a further `sim serve` flag for the full stack (--sim-arg=--flag=value)",
    )  # fmt: skip
    args = parser.parse_args()
    unknown = set(args.cases.split(",")) - set(CASES)
    if unknown:
        parser.error(f"unknown cases {sorted(unknown)}; known: {', '.join(CASES)}")
    return args


def main() -> None:
    args = parse_args()
    cases = set(args.cases.split(","))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "latency_ms": args.latency_ms,
            "build_seconds": args.build_seconds,
            "delete_seconds": args.delete_seconds,
            "parallelism": PARALLELISM,
        },
        "command": "make bench  # .venv/bin/python tests/bench/run.py " + " ".join(sys.argv[1:]),
    }

    def say(text: str) -> None:
        print(f"{text}  (load {load_average()})", flush=True)

    with tempfile.TemporaryDirectory(prefix="stackplan-bench-") as tmp:
        work = Path(tmp)
        if "help" in cases:
            results["help"] = bench_help(env)
            say(f"--help: {results['help']['median_seconds']:.3f} s")
        if "validate" in cases:
            results["validate"] = [bench_validate(work, env, 1000)]
            if "big" in cases and args.big_servers:
                results["validate"].append(bench_validate(work, env, args.big_servers))
            for v in results["validate"]:
                say(f"validate {v['servers']}: {v['seconds']:.3f} s")
        if "plan" in cases:
            results["plan"] = []
            for n in _sizes(args.plan_sizes):
                results["plan"].append(bench_plan(work, n, args))
                p = results["plan"][-1]
                say(f"plan {n}: {p['requests']} requests, {p['seconds']:.3f} s")
        if "big" in cases and args.big_servers:
            results["big_plan"] = p = bench_big_plan(work, args.big_servers, args)
            say(f"plan of a {p['servers']}-server spec: {p['requests']} requests, "
                f"{p['seconds']:.3f} s, {p['max_rss_mib']:.0f} MiB")  # fmt: skip
        if "apply" in cases:
            results["apply"] = []
            for n in _sizes(args.apply_sizes):
                results["apply"].append(bench_apply(work, n, args))
                a = results["apply"][-1]
                say(f"apply {n}: {a['seconds']:.3f} s, ratio {a['ratio']} ({wire_note(a)[:-2]})")
        if "full" in cases:
            results["full"] = []
            for n in _sizes(args.full_sizes):
                results["full"].append(f := bench_full_stack(work, n, args))
                for what in ("plan", "apply", "destroy"):
                    m = f[what]
                    say(f"full {n} {what}: {m['requests']} requests, {m['seconds']:.3f} s, "
                        f"ratio {m['ratio']} ({wire_note(m)[:-2]})")  # fmt: skip
        if "writes" in cases:
            results["state_writes"] = w = bench_state_writes(work)
            say(f"state write 1000 (PostgreSQL): {w['postgres_median_ms']} ms")
    results["table"] = table(results)
    m = results["machine"]
    print(f"\n{m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['date']}")
    print(f"latency {args.latency_ms:g} ms, build {args.build_seconds:g} s, "
          f"delete {args.delete_seconds:g} s, parallelism {PARALLELISM}\n")  # fmt: skip
    print(results["table"])
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures written to {args.out}")


if __name__ == "__main__":
    main()
