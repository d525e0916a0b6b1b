"""Helpers of the fault tests: `python -m stackplan` as a subprocess against a misbehaving

- `servers_spec(dir, count)`  writes a spec of `count` cirros servers (stack `faults`).
- `stackplan(args, env)`      runs the CLI to the end; `start_stackplan` starts it.
- `cloud_servers(env)`        the servers the cloud holds now (stackplan's own client).
- `recorded_ids(state)`       address -> ID of the records that have an ID.
- `sim_stats(url)`            the simulator's `/_sim/stats` counters.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from stackplan.cloud import ServerInfo, connect, load_config
from stackplan.state.local import LocalStateStore

CIRROS = "cirros-0.6.2-x86_64-disk"


def servers_spec(directory: Path, count: int, stack: str = "faults") -> Path:
    spec = directory / "stackplan.yaml"
    spec.write_text(
        f"stack: {stack}\nservers:\n  node:\n    count: {count}\n"
        f"    image: {CIRROS}\n    flavor: m1.tiny\n",
        encoding="utf-8",
    )
    return spec


def command(args: list[str], debug: bool = False) -> list[str]:
    return [sys.executable, "-m", "stackplan", *(["--debug"] if debug else []), *args]


def stackplan(
    args: list[str],
    env: dict[str, str],
    *,
    debug: bool = False,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(args, debug),
        env={**os.environ, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def start_stackplan(args: list[str], env: dict[str, str], **popen: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(args),
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        text=True,
        **popen,
    )


def cloud_servers(env: dict[str, str]) -> list[ServerInfo]:
    cloud = connect(load_config(env=env))
    try:
        return [s for s in cloud.compute.list_servers() if s.status != "DELETED"]
    finally:
        cloud.close()


def recorded_ids(state: Path) -> dict[str, str]:
    read = LocalStateStore(state).read()
    assert read is not None, f"no state at {state}"
    return {str(r.address): r.id for r in read.records if r.id}


def sim_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_sim/stats", timeout=10) as response:
        return json.loads(response.read())
