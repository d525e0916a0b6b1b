"""What the tests repeat, written once: the CLI as a subprocess, the simulator's counters,
and specs of servers.

- `stackplan_command(*args)`      `python -m stackplan ARGS` (with `--debug` first if asked).
- `run_stackplan(args, ...)`      runs it to the end, stdin closed; `start_stackplan` starts it.
- `SimStats(url)`                 `/_sim/stats` over plain urllib (not our HTTP layer).
- `servers_spec(count, ...)`      the text of a spec of `count` cirros servers.

The fixtures (simulators, stacks) stay in the conftest files; these are plain functions so
that scripts (tests/bench, tests/chaos, tests/data/*/regenerate.py) can use them too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

CIRROS = "cirros-0.6.2-x86_64-disk"
CIRROS_ID = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"


def stackplan_command(*args: str, debug: bool = False) -> list[str]:
    """The command line of the CLI as a user runs it: this Python, `-m stackplan`."""
    return [sys.executable, "-m", "stackplan", *(["--debug"] if debug else []), *args]


def run_stackplan(
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    inherit_env: bool = True,
    cwd: Path | None = None,
    timeout: float = 120,
    stdin: str | None = None,
    debug: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run the CLI to the end: `env` on top of this process's (or alone without
    `inherit_env`), stdin closed unless text is given for it."""
    full_env = {**(os.environ if inherit_env else {}), **(env or {})}
    return subprocess.run(
        stackplan_command(*args, debug=debug),
        env=full_env,
        cwd=cwd,
        input=stdin,
        stdin=subprocess.DEVNULL if stdin is None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def start_stackplan(
    args: Sequence[str], env: Mapping[str, str], **popen: Any
) -> subprocess.Popen[str]:
    """Start the CLI (stdin closed, output unbuffered) and return the process."""
    return subprocess.Popen(
        stackplan_command(*args),
        env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        stdin=subprocess.DEVNULL,
        text=True,
        **popen,
    )


class SimStats:
    """The simulator's request counters at `url`, read over plain urllib."""

    def __init__(self, url: str):
        self.url = f"{url}/_sim/stats"

    def read(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url, timeout=30) as response:
            return json.load(response)

    def reset(self) -> None:
        request = urllib.request.Request(self.url, method="DELETE")
        urllib.request.urlopen(request, timeout=30).close()

    def total(self) -> int:
        return self.read()["total"]

    def route(self, key: str) -> int:
        return self.read()["routes"].get(key, 0)

    def status(self, status: int) -> int:
        return self.read()["statuses"].get(str(status), 0)

    def token_posts(self) -> int:
        routes = self.read()["routes"]
        return routes.get("POST /identity/v3/auth/tokens", 0) + routes.get(
            "POST /identity/v2.0/tokens", 0
        )


def servers_spec(
    count: int,
    *,
    stack: str = "servers",
    name: str = "node",
    image: str = CIRROS,
    flavor: str = "m1.tiny",
) -> str:
    """A spec of `count` servers `NAME[0..count-1]`, nothing else."""
    return (
        f"stack: {stack}\nservers:\n  {name}:\n    count: {count}\n"
        f"    image: {image}\n    flavor: {flavor}\n"
    )
