"""Benchmarks of stackplan against the embedded cloud (not a test; `make bench` runs it).

    .venv/bin/python tests/bench/run.py [--out bench-results.json] [--latency-ms 20]
                                        [--build-seconds 5] [--sizes 10,100,1000]

Everything runs as it does for a user: the cloud is `stackplan sim serve` in a
subprocess, each command is `python -m stackplan ...` in a subprocess, and API requests
are counted by the cloud itself (`/_sim/stats`). Measured (issue 6):

- `validate` of a 1,000-server spec (wall time);
- a no-change `plan` with 10, 100 and 1,000 managed servers: API requests, wall time and
  the peak memory (max RSS) of the plan process. The servers are made beforehand by an
  apply on a cloud without latency, which is then restarted with latency on the same
  SQLite file;
- `apply --auto-approve` creating 10 and 100 servers with `--build-seconds`: wall time,
  API requests, poll requests, and the ratio to the lower bound
  `build time + requests x latency / parallelism`; then `destroy` of the same servers;
- `stackplan --help` start-up time (median of 5);
- one state write of a 1,000-resource stack on PostgreSQL (issue 13: under 20 ms), against
  a private server started from the system's PostgreSQL, and to a local file beside it.

Prints a table and writes the figures as JSON (`--out`, git-ignored by default).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))  # tests.helpers
STACKPLAN = [sys.executable, "-m", "stackplan"]
PARALLELISM = 10  # apply's default, which the lower bound uses
POLL_ROUTE = "GET /compute/v2.1/servers/detail"

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


@dataclass(frozen=True)
class Run:
    """One finished command: exit code, wall seconds, peak RSS in MiB, its output."""

    returncode: int
    seconds: float
    max_rss_mib: float
    output: str


def run(args: list[str], env: dict[str, str], cwd: Path, check: bool = True) -> Run:
    """Run `args`, measuring wall time and the peak memory of that process alone."""
    with tempfile.TemporaryFile("w+") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if check and proc.returncode != 0:
        raise SystemExit(f"{shlex.join(args)} exited {proc.returncode}:\n{text[-3000:]}")
    return Run(proc.returncode, seconds, usage.ru_maxrss / 1024, text)


class Cloud:
    """`stackplan sim serve` in a subprocess on a free port."""

    def __init__(self, db: Path, latency_ms: float, build_seconds: float):
        # The spec's servers name no network, so the cloud seeds one (no `shared`), and
        # each of 1,000 servers holds a port on `private`: a /20, not devstack's /26.
        args = [
            *STACKPLAN, "sim", "serve", "--port", "0", "--db", str(db), "--no-quota",
            "--latency-ms", str(latency_ms), "--build-seconds", str(build_seconds),
            "--no-shared-network", "--private-cidr", "10.0.0.0/20",
        ]  # fmt: skip
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=REPO)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        prefix = "stackplan sim listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise SystemExit(f"the embedded cloud did not start: {line!r}")
        self.url = line[len(prefix) :].strip()

    def env(self) -> dict[str, str]:
        from stackplan.cli.sim import env_lines

        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        for line in env_lines(self.url):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
        return env

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=30) as resp:
            return json.load(resp)

    def reset_stats(self) -> None:
        req = urllib.request.Request(f"{self.url}/_sim/stats", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


@contextmanager
def cloud(db: Path, latency_ms: float, build_seconds: float) -> Iterator[Cloud]:
    handle = Cloud(db, latency_ms, build_seconds)
    try:
        yield handle
    finally:
        handle.stop()


def write_spec(work: Path) -> Path:
    spec = work / "bench.yaml"
    spec.write_text(SPEC)
    return spec


def write_big_spec(work: Path, servers: int) -> Path:
    """A spec of `servers` separately written servers (no count), for validate."""
    lines = ["stack: big", "servers:"]
    for i in range(servers):
        lines += [
            f"  s{i:04d}:",
            "    image: cirros-0.6.2-x86_64-disk",
            f"    flavor: {('m1.tiny', 'm1.small')[i % 2]}",
            "    security_groups: [default]",
            f"    metadata: {{role: web, index: '{i}'}}",
        ]
    path = work / "big.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def bench_validate(work: Path, env: dict[str, str]) -> dict[str, Any]:
    spec = write_big_spec(work, 1000)
    result = run([*STACKPLAN, "validate", "-f", str(spec)], env, work)
    return {"servers": 1000, "seconds": round(result.seconds, 3)}


def bench_help(env: dict[str, str]) -> dict[str, Any]:
    times = [run([*STACKPLAN, "--help"], env, REPO).seconds for _ in range(5)]
    return {"median_seconds": round(statistics.median(times), 3), "runs": 5}


def bench_plan(work: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """A no-change plan of `n` managed servers, made on a fast cloud, planned on a slow one."""
    spec = write_spec(work)
    db, state = work / f"plan-{n}.sqlite", work / f"plan-{n}.json"
    common = ["-f", str(spec), "--state", str(state), "--var", f"n={n}"]
    with cloud(db, 0, 0) as fast:
        made = run(
            [*STACKPLAN, "apply", "--auto-approve", "--parallelism", "50", *common],
            fast.env(), work,
        )  # fmt: skip
    with cloud(db, args.latency_ms, args.build_seconds) as slow:
        slow.reset_stats()
        result = run([*STACKPLAN, "plan", "--detailed-exitcode", *common], slow.env(), work)
        stats = slow.stats()
    return {
        "servers": n,
        "requests": stats["total"],
        "routes": stats["routes"],
        "seconds": round(result.seconds, 3),
        "max_rss_mib": round(result.max_rss_mib, 1),
        "setup_apply_seconds": round(made.seconds, 1),
    }


def bench_apply(work: Path, n: int, args: argparse.Namespace) -> dict[str, Any]:
    """`apply --auto-approve` creating `n` servers on an empty cloud, then `destroy`."""
    spec = write_spec(work)
    db, state = work / f"apply-{n}.sqlite", work / f"apply-{n}.json"
    common = ["-f", str(spec), "--state", str(state), "--var", f"n={n}"]
    with cloud(db, args.latency_ms, args.build_seconds) as sim:
        env = sim.env()
        sim.reset_stats()
        applied = run([*STACKPLAN, "apply", "--auto-approve", *common], env, work)
        stats = sim.stats()
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
        "routes": stats["routes"],
        "destroy_seconds": round(destroyed.seconds, 3),
        "destroy_requests": destroy_stats["total"],
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
    }


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(results: dict[str, Any]) -> str:
    """The figures as a Markdown table (printed, and pasted into the README)."""
    rows = [("what", "wall time", "API requests", "notes")]
    rows.append(("`stackplan --help`", f"{results['help']['median_seconds']:.2f} s", "-",
                 "median of 5"))  # fmt: skip
    rows.append(("`validate`, 1,000 servers", f"{results['validate']['seconds']:.2f} s", "-",
                 "offline"))  # fmt: skip
    for p in results["plan"]:
        rows.append((
            f"no-change `plan`, {p['servers']:,} servers", f"{p['seconds']:.2f} s",
            str(p["requests"]), f"peak RSS {p['max_rss_mib']:.0f} MiB",
        ))  # fmt: skip
    for a in results["apply"]:
        rows.append((
            f"`apply`, create {a['servers']:,} servers", f"{a['seconds']:.2f} s",
            str(a["requests"]),
            f"{a['ratio']:.2f}x lower bound {a['lower_bound_seconds']:.2f} s; "
            f"{a['poll_requests']} polls",
        ))  # fmt: skip
    for a in results["apply"]:
        rows.append((
            f"`destroy`, {a['servers']:,} servers", f"{a['destroy_seconds']:.2f} s",
            str(a["destroy_requests"]), "",
        ))  # fmt: skip
    if "state_writes" in results:
        w = results["state_writes"]
        rows.append((
            f"state write, {w['resources']:,} resources, PostgreSQL",
            f"{w['postgres_median_ms']:.1f} ms", "-",
            f"median of {w['writes']}; p90 {w['postgres_p90_ms']:.1f} ms",
        ))  # fmt: skip
        rows.append((
            f"state write, {w['resources']:,} resources, local file",
            f"{w['local_median_ms']:.1f} ms", "-",
            f"median of {w['writes']}; p90 {w['local_p90_ms']:.1f} ms",
        ))  # fmt: skip
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
             for r in rows]  # fmt: skip
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path, default=REPO / "bench-results.json")
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--build-seconds", type=float, default=5.0)
    parser.add_argument("--plan-sizes", default="10,100,1000")
    parser.add_argument("--apply-sizes", default="10,100")
    args = parser.parse_args()
    plan_sizes = [int(n) for n in args.plan_sizes.split(",") if n]
    apply_sizes = [int(n) for n in args.apply_sizes.split(",") if n]

    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    results: dict[str, Any] = {
        "machine": machine(),
        "settings": {
            "latency_ms": args.latency_ms,
            "build_seconds": args.build_seconds,
            "parallelism": PARALLELISM,
        },
        "command": "make bench  # .venv/bin/python tests/bench/run.py",
    }
    with tempfile.TemporaryDirectory(prefix="stackplan-bench-") as tmp:
        work = Path(tmp)
        results["help"] = bench_help(env)
        print(f"--help: {results['help']['median_seconds']:.3f} s", flush=True)
        results["validate"] = bench_validate(work, env)
        print(f"validate 1000: {results['validate']['seconds']:.3f} s", flush=True)
        results["plan"] = []
        for n in plan_sizes:
            results["plan"].append(bench_plan(work, n, args))
            p = results["plan"][-1]
            print(f"plan {n}: {p['requests']} requests, {p['seconds']:.3f} s", flush=True)
        results["apply"] = []
        for n in apply_sizes:
            results["apply"].append(bench_apply(work, n, args))
            a = results["apply"][-1]
            print(f"apply {n}: {a['seconds']:.3f} s, ratio {a['ratio']}", flush=True)
        results["state_writes"] = bench_state_writes(work)
        w = results["state_writes"]
        print(f"state write 1000 (PostgreSQL): {w['postgres_median_ms']} ms", flush=True)
    results["table"] = table(results)
    m = results["machine"]
    print(f"\n{m['nproc']} CPUs, {m['cpu']}, Python {m['python']}, {m['date']}")
    print(f"latency {args.latency_ms:g} ms, build {args.build_seconds:g} s, "
          f"parallelism {PARALLELISM}\n")  # fmt: skip
    print(results["table"])
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nfigures written to {args.out}")


if __name__ == "__main__":
    main()
