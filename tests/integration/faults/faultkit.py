"""Helpers of the fault tests: `python -m stackplan` as a subprocess against a misbehaving

- `servers_spec(dir, count)`  writes a spec of `count` cirros servers (stack `faults`).
- `stackplan(args, env)`      runs the CLI to the end (tests/helpers.py); `start_stackplan`.
- `cloud_servers(env)`        the servers the cloud holds now (stackplan's own client).
- `recorded_ids(state)`       address -> ID of the records that have an ID.
- `sim_stats(url)`            the simulator's `/_sim/stats` counters.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from stackplan.cloud import ServerInfo, connect, load_config
from stackplan.state.local import LocalStateStore
from tests import helpers
from tests.helpers import SimStats, run_stackplan


def servers_spec(directory: Path, count: int, stack: str = "faults") -> Path:
    spec = directory / "stackplan.yaml"
    spec.write_text(helpers.servers_spec(count, stack=stack), encoding="utf-8")
    return spec


def stackplan(
    args: list[str],
    env: dict[str, str],
    *,
    debug: bool = False,
    cwd: Path | None = None,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    return run_stackplan(args, env=env, debug=debug, cwd=cwd, timeout=timeout)


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
    return SimStats(url).read()
