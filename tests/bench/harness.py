"""What every benchmark case shares: timed subprocess runs, the cloud in a subprocess, the
machine's description. Not a test; imported by `run.py` and its cases."""

from __future__ import annotations

import json
import os
import platform
import shlex
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
STACKPLAN = [sys.executable, "-m", "stackplan"]
PARALLELISM = 10  # apply's default, which the lower bounds use


@dataclass(frozen=True)
class Run:
    """One finished command: exit code, wall seconds, peak RSS in MiB, its output, and
    when it started (Unix seconds, to set beside the cloud's own clock)."""

    returncode: int
    seconds: float
    max_rss_mib: float
    output: str
    started_at: float = 0.0


def wire_split(result: Run, stats: dict[str, Any]) -> dict[str, float | None]:
    """How long `result` ran before its first request reached the cloud (start-up, the
    spec, the state) and after its last was handled (its last answer's latency, the
    state's last write, the report, the exit): the part no request count explains."""
    first, last = stats.get("first_arrived"), stats.get("last_handled")
    if first is None or last is None:
        return {"before_first_request": None, "after_last_request": None}
    return {
        "before_first_request": round(first - result.started_at, 3),
        "after_last_request": round(result.started_at + result.seconds - last, 3),
    }


def wire_note(measured: dict[str, Any]) -> str:
    before, after = measured.get("before_first_request"), measured.get("after_last_request")
    if before is None or after is None:
        return ""
    return f"first request at {before:.2f} s, {after:.2f} s after the last; "


def run(args: list[str], env: dict[str, str], cwd: Path, check: bool = True) -> Run:
    """Run `args`, measuring wall time and the peak memory of that process alone."""
    with tempfile.TemporaryFile("w+") as out:
        started_at = time.time()
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=cwd)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        text = out.read()
    if check and proc.returncode != 0:
        raise SystemExit(f"{shlex.join(args)} exited {proc.returncode}:\n{text[-3000:]}")
    return Run(proc.returncode, seconds, usage.ru_maxrss / 1024, text, started_at)


def load_average() -> float:
    """The one-minute load average, printed beside every wall time (a shared machine)."""
    return round(os.getloadavg()[0], 2)


@dataclass(frozen=True)
class CloudSettings:
    latency_ms: float = 0.0
    build_seconds: float = 0.0
    delete_seconds: float = 0.0
    private_cidr: str = "10.0.0.0/20"
    extra: tuple[str, ...] = ()  # more `sim serve` flags (--sim-arg)


# A checkout whose simulator the cloud runs instead of this one's (STACKPLAN_BENCH_SIM):
# a fixed cloud while stackplan changes, or the other way round.
SIM_ROOT = Path(os.environ.get("STACKPLAN_BENCH_SIM") or REPO)


class Cloud:
    """`stackplan sim serve` in a subprocess on a free port."""

    def __init__(self, db: Path, settings: CloudSettings):
        # The servers-only spec names no network, so the cloud seeds one (no `shared`), and
        # each of 1,000 servers holds a port on `private`: a /20, not devstack's /26.
        args = [
            *STACKPLAN, "sim", "serve", "--port", "0", "--db", str(db), "--no-quota",
            "--latency-ms", str(settings.latency_ms),
            "--build-seconds", str(settings.build_seconds),
            "--delete-seconds", str(settings.delete_seconds),
            "--no-shared-network", "--private-cidr", settings.private_cidr, *settings.extra,
        ]  # fmt: skip
        env = {**os.environ, "PYTHONPATH": str(SIM_ROOT)}
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, text=True, cwd=SIM_ROOT, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        prefix = "stackplan sim listening on "
        if not line.startswith(prefix):
            self.proc.kill()
            raise SystemExit(f"the embedded cloud did not start: {line!r}")
        self.url = line[len(prefix) :].strip()

    def env(self, user: str = "demo") -> dict[str, str]:
        from stackplan.cli.sim import env_lines

        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        for line in env_lines(self.url, user=user):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = shlex.split(value)[0]
        return env

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_sim/stats", timeout=30) as resp:
            return json.load(resp)

    def reset_stats(self) -> None:
        req = urllib.request.Request(f"{self.url}/_sim/stats", method="DELETE")
        urllib.request.urlopen(req, timeout=30).close()

    def admin_post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST `body` to `path` under the cloud's root as the admin (what the demo user
        may not make: an external network)."""
        auth = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {"name": "admin", "domain": {"id": "default"}, "password": "secret"}
                    },
                },
                "scope": {"project": {"name": "admin", "domain": {"id": "default"}}},
            }
        }
        token = _post(f"{self.url}/identity/v3/auth/tokens", auth, {})[1]["X-Subject-Token"]
        return _post(f"{self.url}{path}", body, {"X-Auth-Token": token})[0]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def _post(url: str, body: dict[str, Any], headers: dict[str, str]) -> tuple[Any, Any]:
    req = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.load(resp), resp.headers


@contextmanager
def cloud(db: Path, settings: CloudSettings) -> Iterator[Cloud]:
    handle = Cloud(db, settings)
    try:
        yield handle
    finally:
        handle.stop()


def polls_by_kind(routes: dict[str, int]) -> dict[str, int]:
    """The list calls of a run by the kind they list, from the cloud's route counts."""
    kinds = {
        "servers": "GET /compute/v2.1/servers/detail",
        "volumes": "/volumes/detail",
        "attachments": "/os-volume_attachments",
        "ports": "GET /networking/v2.0/ports",
        "floating_ips": "GET /networking/v2.0/floatingips",
    }
    gets = {route: n for route, n in routes.items() if route.startswith("GET")}
    return {kind: sum(n for r, n in gets.items() if key in r) for kind, key in kinds.items()}


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
