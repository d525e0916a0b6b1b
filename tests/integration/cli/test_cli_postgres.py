"""Shared state on a real PostgreSQL server, through the CLI as CI runs it: the backend
from STACKPLAN_BACKEND, runners that wait for or are refused by one stack's lock while
another stack goes on, a killed runner's lock free at once, a dropped connection, the
guard against a second copy, migration, and a password that shows nowhere."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import uuid

import pytest

from tests.helpers import CIRROS, PostgresServer, stackplan_command
from tests.integration.cli.conftest import Stack, server_spec

pytestmark = pytest.mark.slow


def on_postgres(stack: Stack, postgres: PostgresServer, schema: str | None = None) -> str:
    """Point the stack's CLI at the database: STACKPLAN_BACKEND, PGPASSWORD; no --state."""
    schema = schema or f"s{uuid.uuid4().hex[:8]}"
    stack.cli.env.update(postgres.env)
    stack.cli.env["STACKPLAN_BACKEND"] = f"{postgres.url}?schema={schema}"
    _no_state_flag(stack)
    return schema


def _no_state_flag(stack: Stack) -> None:
    """The helper adds --state to stateful commands, which would win over the backend."""
    stack.cli._with_state = lambda args: list(args)  # type: ignore[method-assign]


def row(postgres: PostgresServer, schema: str, stack: str) -> tuple[str, int]:
    out = postgres.psql(f"SELECT lineage, serial FROM {schema}.states WHERE stack = '{stack}'")
    lineage, serial = out.strip().split("|")
    return lineage, int(serial)


def test_apply_through_the_backend_keeps_versions_and_never_shows_the_password(
    stack: Stack, postgres: PostgresServer
) -> None:
    schema = on_postgres(stack, postgres)
    stack.write_spec(server_spec(count=2))
    debug = stack.cli("--debug", "apply", "--auto-approve")
    assert "Apply complete! Resources: 3 added" in debug.stdout
    assert stack.cli("plan", "--detailed-exitcode").returncode == 0
    lineage, serial = row(postgres, schema, "web")
    versions = stack.cli("state", "list", "--versions").stdout.splitlines()
    assert versions[0].startswith(f"serial {serial} ") and lineage in versions[0]
    older = json.loads(stack.cli("state", "pull", "--serial", str(serial - 1)).stdout)
    assert older["serial"] == serial - 1 and older["lineage"] == lineage
    listed = stack.cli("state", "list").stdout
    assert "server.web[0]" in listed and "keypair.deploy" in listed
    # The password is in PGPASSWORD only: no output, log or file of the run shows it.
    for text in (debug.stdout, debug.stderr, listed, *versions):
        assert postgres.PASSWORD not in text
    for path in stack.dir.rglob("*"):
        if path.is_file():
            assert postgres.PASSWORD.encode() not in path.read_bytes(), path


def _slow_apply(stack: Stack, *extra: str) -> subprocess.Popen[str]:
    return stack.cli.popen("apply", "--auto-approve", *extra)


def _wait_for_line(proc: subprocess.Popen[str], words: str, timeout: float = 30) -> list[str]:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if words in line:
            return seen
    raise AssertionError(f"never saw {words!r}: {''.join(seen)}")


def test_one_stack_one_runner_at_a_time_and_other_stacks_go_on(
    make_stack, postgres: PostgresServer
) -> None:
    # Builds long enough that the other stack's plan ends first even on a busy machine.
    first = make_stack(build_seconds=8.0)
    schema = on_postgres(first, postgres)
    first.write_spec(server_spec(count=2))
    running = _slow_apply(first)
    _wait_for_line(running, "Creating...")
    # The same stack: refused at once naming the holder, or waited for.
    refused = first.cli("apply", "--auto-approve", rc=1)
    assert "locked by" in refused.stderr and f"pid {running.pid}" in refused.stderr
    waiter = first.cli.popen("plan", "--lock-timeout", "60", "--detailed-exitcode")
    # Another stack in the same database and schema: never blocked by the first.
    other_dir = first.dir.parent / "other"
    other_dir.mkdir()
    (other_dir / "keys").mkdir()
    (other_dir / "keys" / "deploy.pub").write_bytes(
        (first.dir / "keys" / "deploy.pub").read_bytes()
    )
    (other_dir / "stackplan.yaml").write_text(server_spec(stack="other", count=1))
    env = {**first.cli.env, "STACKPLAN_BACKEND": f"{postgres.url}?schema={schema}"}
    started = time.monotonic()
    other = subprocess.run(
        stackplan_command("plan"), cwd=other_dir, env=env, capture_output=True, text=True
    )
    assert other.returncode == 0 and "Plan: 1 to add" in other.stdout, other.stdout + other.stderr
    assert running.poll() is None, "the first apply should still run: they overlapped"
    assert time.monotonic() - started < 10
    assert running.wait(timeout=120) == 0
    assert waiter.wait(timeout=120) == 0  # waited, then found nothing to do


def test_a_killed_runners_lock_is_free_at_once_and_its_work_is_adopted(
    make_stack, postgres: PostgresServer
) -> None:
    stack = make_stack(build_seconds=3.0)
    on_postgres(stack, postgres)
    stack.write_spec(server_spec(count=3))
    running = _slow_apply(stack)
    _wait_for_line(running, "Creating...")
    time.sleep(0.5)
    os.kill(running.pid, signal.SIGKILL)
    running.wait()
    started = time.monotonic()
    again = stack.cli("apply", "--auto-approve", "--lock-timeout", "0")
    assert f"took over a stale lock left by pid {running.pid}" in again.stderr
    assert time.monotonic() - started < 30
    # Whatever the killed run sent is in the state or carries its marker: nothing twice.
    assert "Apply complete!" in again.stdout or "No changes" in again.stdout
    assert stack.cli("plan", "--detailed-exitcode").returncode == 0
    names = [s["name"] for s in stack.cloud.servers()]
    assert sorted(names) == ["web-0", "web-1", "web-2"], names  # none doubled


def test_a_dropped_connection_stops_the_apply_and_the_next_one_converges(
    make_stack, postgres: PostgresServer
) -> None:
    stack = make_stack(build_seconds=2.0)
    on_postgres(stack, postgres)
    # A chain, so that work is left when the first server is done: independent servers
    # all build at once and may all be recorded before the connection drops.
    chain = "".join(
        f"  {name}:\n    image: {CIRROS}\n    flavor: m1.tiny\n    depends_on: [server.{after}]\n"
        for name, after in (("db", "web"), ("app", "db"), ("cache", "app"))
    )
    stack.write_spec(server_spec(count=1, extra=chain))
    running = _slow_apply(stack)
    _wait_for_line(running, "Creation complete")
    postgres.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'stackplan'"
    )
    out, _ = running.communicate(timeout=120)
    assert running.returncode == 1, out
    assert "Traceback" not in out
    assert "could not write the state" in out and "run again" in out, out
    again = stack.cli("apply", "--auto-approve")
    assert "Apply complete!" in again.stdout
    assert stack.cli("plan", "--detailed-exitcode").returncode == 0
    names = sorted(s["name"] for s in stack.cloud.servers())
    assert names == ["app", "cache", "db", "web-0"], names  # none doubled


def test_a_fresh_clone_without_the_state_refuses_a_second_copy(stack: Stack) -> None:
    stack.write_spec(server_spec(count=2))
    stack.cli("apply", "--auto-approve")
    elsewhere = stack.dir / "fresh-clone.json"
    refused = stack.cli("plan", "--state", str(elsewhere), rc=1)
    assert "there is no state for stack 'web'" in refused.stderr
    assert "server.web[0]" in refused.stderr and "second copy" in refused.stderr
    assert "state push" in refused.stderr and "--allow-duplicate-stack" in refused.stderr
    allowed = stack.cli("plan", "--state", str(elsewhere), "--allow-duplicate-stack")
    assert "Plan: 2 to add" in allowed.stdout  # the servers again; the key pair is used


def test_state_migrates_to_postgres_and_back_with_lineage_and_serial(
    stack: Stack, postgres: PostgresServer
) -> None:
    stack.write_spec(server_spec(count=1))
    stack.cli("apply", "--auto-approve")
    local = json.loads(stack.state.read_text())
    schema = f"m{uuid.uuid4().hex[:8]}"
    url = f"{postgres.url}?schema={schema}"
    stack.cli.env.update(postgres.env)
    moved = stack.cli("state", "migrate", "--to", url)
    assert f"serial {local['serial']}" in moved.stdout
    assert row(postgres, schema, "web") == (local["lineage"], local["serial"])
    stack.cli.env["STACKPLAN_BACKEND"] = url
    _no_state_flag(stack)
    assert stack.cli("plan", "--detailed-exitcode").returncode == 0
    back = stack.dir / "back.json"
    stack.cli("state", "migrate", "--to", str(back))
    assert json.loads(back.read_text())["lineage"] == local["lineage"]
    other = stack.dir / "other.json"
    other.write_text(stack.state.read_text().replace(local["lineage"], str(uuid.uuid4())))
    refused = stack.cli("state", "migrate", "--to", str(other), rc=1)
    assert "another history" in refused.stderr
