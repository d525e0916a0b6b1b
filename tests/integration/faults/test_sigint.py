"""Ctrl-C during apply, and a SIGKILLed apply's lock, through the real command.

- One SIGINT: no new operation starts, those in flight finish, the state is written,
  exit 130; every server in the cloud is in the state; the next apply finishes the job.
- Two SIGINTs: exit 130 at once; the state still parses; the next apply adopts what
  the interrupted one created (no orphan, no duplicate).
- SIGKILL: the lock dies with its holder; the next apply takes it over and says so.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.conftest import env_for
from tests.helpers import start_stackplan
from tests.integration.faults.faultkit import (
    cloud_servers,
    recorded_ids,
    servers_spec,
    stackplan,
)

COUNT = 20


class _Apply:
    """`stackplan apply` of the spec in a subprocess, its output collected as it comes."""

    def __init__(self, spec: Path, state: Path, env: dict[str, str], parallelism: int):
        self.proc = start_stackplan(
            [
                "apply",
                "--auto-approve",
                "-f",
                str(spec),
                "--state",
                str(state),
                "--parallelism",
                str(parallelism),
            ],
            env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._threads = [
            threading.Thread(target=self._copy, args=(s, out), daemon=True)
            for s, out in ((self.proc.stdout, self.stdout), (self.proc.stderr, self.stderr))
        ]
        for thread in self._threads:
            thread.start()

    @staticmethod
    def _copy(stream, into: list[str]) -> None:
        for line in stream:
            into.append(line)

    def wait_for(self, text: str, count: int = 1, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while sum(text in line for line in list(self.stdout)) < count:
            assert self.proc.poll() is None, self.output()
            assert time.monotonic() < deadline, self.output()
            time.sleep(0.005)

    def finish(self, timeout: float = 60) -> int:
        code = self.proc.wait(timeout=timeout)
        for thread in self._threads:
            thread.join(timeout=5)
        return code

    def output(self) -> str:
        return "".join(self.stdout) + "\n--- stderr\n" + "".join(self.stderr)


def _check_recorded(env: dict[str, str], state: Path) -> list[str]:
    """Every server of the cloud is in the state, and no address has two; their IDs."""
    servers = cloud_servers(env)
    recorded = recorded_ids(state)
    assert {s.id for s in servers} <= set(recorded.values()), (servers, recorded)
    per_address = Counter(s.metadata["stackplan:address"] for s in servers)
    assert all(n == 1 for n in per_address.values()), per_address
    return [s.id for s in servers]


def _finish_and_check(spec: Path, state: Path, env: dict[str, str]) -> str:
    done = stackplan(["apply", "--auto-approve", "-f", str(spec), "--state", str(state)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    ids = _check_recorded(env, state)
    assert len(ids) == COUNT
    return done.stdout + done.stderr


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_first_sigint_finishes_operations_in_flight_writes_the_state_and_exits_130(
    make_sim, tmp_path
):
    sim = make_sim(build_seconds=3, latency_ms=100)
    env = env_for(sim.url)
    spec, state = servers_spec(tmp_path, COUNT), tmp_path / "faults.json"

    run = _Apply(spec, state, env, parallelism=2)
    run.wait_for("Creating...", 3)
    run.proc.send_signal(signal.SIGINT)
    code = run.finish()

    assert code == 130, run.output()
    assert "Interrupt" in run.output()
    assert "Traceback" not in run.output()
    ids = _check_recorded(env, state)
    assert 0 < len(ids) < COUNT, "the interrupt should stop new creates"
    started = sum("Creating..." in line for line in run.stdout)
    assert len(ids) == started, "every create started was let finish and recorded"
    assert all(record for record in recorded_ids(state).values())
    _finish_and_check(spec, state, env)


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_second_sigint_exits_at_once_and_leaves_a_valid_state(make_sim, tmp_path):
    sim = make_sim(build_seconds=3, latency_ms=100)
    env = env_for(sim.url)
    spec, state = servers_spec(tmp_path, COUNT), tmp_path / "faults.json"

    run = _Apply(spec, state, env, parallelism=2)
    run.wait_for("Creating...", 3)
    run.proc.send_signal(signal.SIGINT)
    time.sleep(0.05)
    sent = time.monotonic()
    run.proc.send_signal(signal.SIGINT)
    code = run.finish()

    assert code == 130, run.output()
    assert time.monotonic() - sent < 2.0, "the second interrupt exits at once"
    assert "Second interrupt" in run.output()
    recorded_ids(state)  # parses: the state is valid
    out = _finish_and_check(spec, state, env)
    assert "Traceback" not in out


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_sigkilled_apply_leaves_a_lock_the_next_apply_takes_over(make_sim, tmp_path):
    sim = make_sim(build_seconds=3)
    env = env_for(sim.url)
    spec, state = servers_spec(tmp_path, 5), tmp_path / "faults.json"

    run = _Apply(spec, state, env, parallelism=5)
    run.wait_for("Creating...", 1)
    pid = run.proc.pid
    os.kill(pid, signal.SIGKILL)
    run.finish()
    lock = state.with_name(state.name + ".lock")
    assert lock.exists()  # the killed holder could not clean up

    done = stackplan(["apply", "--auto-approve", "-f", str(spec), "--state", str(state)], env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"took over a stale lock left by pid {pid} (apply)" in done.stderr
    assert len(_check_recorded(env, state)) == 5
    assert not lock.exists()
