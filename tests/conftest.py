"""Shared fixtures: the embedded cloud (`stackplan sim`) on 127.0.0.1, port 0.

- `sim`          one simulator for the whole session (in-process thread); quotas unlimited,
                 no `shared` network (the demo project sees one network), private-subnet
                 a /20 (devstack's /26 holds ~60 servers' ports).
- `devstack_sim` another, with devstack's whole seed (`shared` too), as `sim serve` runs.
- `sim_env`      the OS_* environment (v3, user demo) for `sim`, as `stackplan sim env` prints.
- `make_sim`     factory for a private simulator with other knobs, stopped at teardown.
- `sim_process`  factory for a simulator in a subprocess (`stackplan sim serve`), for
                 restart and kill tests.
- `postgres`     a private PostgreSQL server for the session (the state backend's tests).
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from stackplan.cli.sim import env_lines
from stackplan.sim.app import SimHandle, SimOptions, start
from tests.helpers import PostgresServer, stackplan_command

# Fast lifecycle for tests; quotas off so many tests can share one session cloud.
_TEST_DEFAULTS: dict[str, Any] = {
    "host": "127.0.0.1",
    "port": 0,
    "build_seconds": 0.5,
    "quota_instances": -1,
    "quota_cores": -1,
    "quota_ram": -1,
    "quota_volumes": -1,
    "quota_gigabytes": -1,
    # Most tests are about servers and name no network: on devstack's seed, where the demo
    # project also sees `shared`, Nova (and the plan) would refuse them. Networking tests
    # ask for the whole seed with `make_sim(shared_network=True)`.
    "shared_network": False,
    # Every server Nova makes on `private` holds an address of private-subnet until it is
    # deleted; devstack's 10.0.0.0/26 (61 addresses) would run out over a session's tests.
    "private_cidr": "10.0.0.0/20",
}


def env_for(url: str, user: str = "demo", v2: bool = False) -> dict[str, str]:
    """The OS_* variables `stackplan sim env` prints for a simulator at `url`."""
    env = {}
    for line in env_lines(url, user=user, v2=v2):
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


@pytest.fixture(scope="session")
def sim() -> Iterator[SimHandle]:
    """The session's simulator: `.url` is `http://127.0.0.1:PORT`; build takes 0.5 s.

    Shared by every test: create resources with unique names and do not assume an
    empty cloud. Use `make_sim` for a private one (quotas, faults, rate limits...).
    """
    handle = start(SimOptions(**_TEST_DEFAULTS))
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def devstack_sim() -> Iterator[SimHandle]:
    """A session simulator with devstack's whole seed (`shared` too, as `sim serve` has
    it): the demo project sees two networks, so its servers must name one."""
    handle = start(SimOptions(**{**_TEST_DEFAULTS, "shared_network": True}))
    yield handle
    handle.stop()


@pytest.fixture
def sim_env(sim: SimHandle) -> dict[str, str]:
    """OS_* variables (Keystone v3, user demo / password secret) for the session `sim`."""
    return env_for(sim.url)


@pytest.fixture
def make_sim() -> Iterator[Callable[..., SimHandle]]:
    """Factory: `make_sim(build_seconds=0, token_ttl=1, quota_instances=2, ...)` starts a
    private in-process simulator with those `SimOptions` knobs (test defaults for the
    rest: port 0, build 0.5 s, no quotas) and stops it when the test ends."""
    handles: list[SimHandle] = []

    def factory(**knobs: Any) -> SimHandle:
        handle = start(SimOptions(**{**_TEST_DEFAULTS, **knobs}))
        handles.append(handle)
        return handle

    yield factory
    for handle in handles:
        handle.stop()


@dataclass
class SimProcess:
    """A `stackplan sim serve` subprocess; `.url` is read from its first stdout line."""

    args: list[str]
    proc: subprocess.Popen[str] = field(init=False)
    url: str = field(init=False)

    def __post_init__(self) -> None:
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if "listening on" not in line:
            self.proc.kill()
            raise RuntimeError(f"sim did not start: {line!r} {self.proc.stderr.read()!r}")
        self.url = line.rsplit(" ", 1)[-1].strip()

    def stop(self) -> int:
        """SIGTERM and wait: the server closes cleanly; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
        return self.proc.wait(timeout=10)

    def kill(self) -> int:
        """SIGKILL: a crash, with no chance to clean up."""
        if self.proc.poll() is None:
            self.proc.kill()
        return self.proc.wait(timeout=10)


@pytest.fixture
def sim_process() -> Iterator[Callable[..., SimProcess]]:
    """Factory: `sim_process(db=str(tmp_path / "sim.db"), build_seconds=0)` runs
    `python -m stackplan sim serve --port 0 --no-quota ...` with each knob as `--flag
    value` (underscores become dashes) and returns a `SimProcess`; every process still
    running is terminated at teardown. Call it again with the same `db` to restart."""
    procs: list[SimProcess] = []

    def factory(**knobs: Any) -> SimProcess:
        args = stackplan_command("sim", "serve", "--port", "0")
        knobs = {"build_seconds": 0.5, **knobs}
        if not any(k.startswith("quota_") for k in knobs):
            args.append("--no-quota")
        for name, value in knobs.items():
            args += [f"--{name.replace('_', '-')}", str(value)]
        proc = SimProcess(args)
        procs.append(proc)
        return proc

    yield factory
    for proc in procs:
        proc.stop()


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (initdb in a temporary folder, a free loopback port): the
    role `stackplan` with its password in `.env` (PGPASSWORD), `.url` without it."""
    server = PostgresServer().start()
    yield server
    server.stop()
