"""The PostgreSQL backend against a real server: the store conformance every backend
passes, compare-and-swap writes, kept versions, per-stack locks that die with their
holder, and a password that never shows."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator

import pytest

from stackplan.addr import Address
from stackplan.errors import LockError, StaleWriteError, StateError
from stackplan.state import LockInfo, ResourceRecord, State
from stackplan.state.pg_url import parse_backend_url
from stackplan.state.postgres import VERSIONS_KEPT, PostgresStateStore
from tests.helpers import PostgresServer
from tests.unit.state.state_conformance import check_journal, check_store


@pytest.fixture
def pg_env(postgres: PostgresServer, monkeypatch: pytest.MonkeyPatch) -> PostgresServer:
    for name, value in postgres.env.items():
        monkeypatch.setenv(name, value)
    return postgres


def store(server: PostgresServer, stack: str | None = None, schema: str = "stackplan"):
    url = parse_backend_url(server.url, schema)
    return PostgresStateStore(url, stack or f"stack-{uuid.uuid4().hex[:8]}")


@pytest.fixture
def fresh(pg_env: PostgresServer) -> Iterator[PostgresStateStore]:
    made = store(pg_env)
    yield made
    made.close()


def test_the_store_contract(fresh: PostgresStateStore) -> None:
    check_store(fresh)


def test_the_journal_contract(fresh: PostgresStateStore) -> None:
    check_journal(fresh)


def test_a_runner_that_lost_a_race_cannot_append(pg_env) -> None:
    from stackplan.state.store import StateDelta

    stack = f"jrace-{uuid.uuid4().hex[:6]}"
    one, two = store(pg_env, stack), store(pg_env, stack)
    base = State.new(stack).next_serial()
    one.write(base)
    assert two.read() == base
    one.append(StateDelta(base.lineage, 2, put=(ResourceRecord(Address("server", "w"), "a"),)))
    with pytest.raises(StaleWriteError):
        two.append(StateDelta(base.lineage, 2, drop=(Address("server", "w"),)))
    read = store(pg_env, stack).read()
    assert read is not None and read.serial == 2 and read.record(Address("server", "w"))


def grown(state: State, n: int) -> State:
    return state.with_record(ResourceRecord(Address("server", "w", n), f"id-{n}")).next_serial()


def test_a_writer_that_lost_a_race_is_refused_naming_both_serials(pg_env) -> None:
    stack = f"race-{uuid.uuid4().hex[:6]}"
    one, two = store(pg_env, stack), store(pg_env, stack)
    base = State.new(stack).next_serial()
    one.write(base)
    assert two.read() == base and one.read() == base
    two.write(grown(base, 1))  # serial 2, from 1
    with pytest.raises(StaleWriteError) as lost:
        one.write(grown(base, 2))  # also serial 2, also from 1: lost the race
    assert "serial 2" in lost.value.message and "at serial 2" in lost.value.message
    three = grown(grown(base, 2), 3)  # serial 3, but still made from serial 1
    with pytest.raises(StaleWriteError):
        one.write(three)
    assert store(pg_env, stack).read() == grown(base, 1)  # nothing lost


def test_past_versions_are_kept_and_readable(pg_env) -> None:
    made = store(pg_env)
    state = State.new(made.stack)
    for n in range(VERSIONS_KEPT + 5):
        state = grown(state, n)
        made.write(state)
    kept = made.versions()
    assert len(kept) == VERSIONS_KEPT and kept[0].serial == state.serial
    assert kept[0].resources == VERSIONS_KEPT + 5
    old = made.read_version(state.serial - 3)
    assert (
        old is not None
        and old.serial == state.serial - 3
        and len(old.records) == (VERSIONS_KEPT + 2)
    )
    assert made.read_version(1) is None  # beyond the kept ones


def test_two_stacks_never_block_each_other(pg_env) -> None:
    a, b = store(pg_env), store(pg_env)
    a_lock = a.lock(LockInfo.new("apply"))
    b_lock = b.lock(LockInfo.new("apply"))  # at once: another stack's lock
    with pytest.raises(LockError):
        store(pg_env, a.stack).lock(LockInfo.new("plan"))
    a.unlock(a_lock)
    b.unlock(b_lock)


def test_a_waiter_gets_the_lock_when_it_is_released(pg_env) -> None:
    a = store(pg_env)
    held = a.lock(LockInfo.new("apply"))
    other = store(pg_env, a.stack)
    started = time.monotonic()
    with pytest.raises(LockError) as refused:
        other.lock(LockInfo.new("plan"), timeout=0.5)
    assert time.monotonic() - started >= 0.5 and "running 'apply'" in str(refused.value)
    a.unlock(held)
    other.unlock(other.lock(LockInfo.new("plan"), timeout=2))


_HOLDER = """
import sys, time
from stackplan.state import LockInfo
from stackplan.state.pg_url import parse_backend_url
from stackplan.state.postgres import PostgresStateStore
store = PostgresStateStore(parse_backend_url(sys.argv[1]), sys.argv[2])
store.lock(LockInfo.new("apply"))
print("locked", flush=True)
time.sleep(600)
"""


def test_a_killed_holders_lock_is_free_at_once(pg_env) -> None:
    stack = f"killed-{uuid.uuid4().hex[:6]}"
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, pg_env.url, stack],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, **pg_env.env},
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    with pytest.raises(LockError) as refused:
        store(pg_env, stack).lock(LockInfo.new("plan"))
    assert f"pid {holder.pid}" in str(refused.value)
    holder.kill()
    holder.wait()
    notices: list[str] = []
    started = time.monotonic()
    again = store(pg_env, stack)
    again.unlock(again.lock(LockInfo.new("apply"), timeout=5, notify=notices.append))
    assert time.monotonic() - started < 1.0
    assert notices and f"stale lock left by pid {holder.pid}" in notices[0]


def test_unlock_force_ends_a_live_holders_session(pg_env) -> None:
    a = store(pg_env)
    a.write(State.new(a.stack).next_serial())
    held = a.lock(LockInfo.new("apply"))
    b = store(pg_env, a.stack)
    with pytest.raises(LockError, match="still going"):
        b.force_unlock(held)
    notices: list[str] = []
    b.force_unlock(held, notices.append, force=True)
    assert "ended the database session" in notices[0]
    b.unlock(b.lock(LockInfo.new("plan"), timeout=2))


def test_a_dropped_connection_is_a_clear_error_and_the_next_write_reconnects(pg_env) -> None:
    made = store(pg_env)
    state = State.new(made.stack).next_serial()
    made.write(state)
    pg_env.psql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE application_name = 'stackplan' AND pid <> pg_backend_pid()"
    )
    with pytest.raises(StateError) as lost:
        made.write(grown(state, 1))
    assert "could not write the state" in lost.value.message
    assert pg_env.PASSWORD not in lost.value.render()
    made.write(grown(state, 1))  # a new connection: the run goes on where it was
    assert store(pg_env, made.stack).read() == grown(state, 1)


def test_the_password_is_never_in_a_description_or_error() -> None:
    url = parse_backend_url("postgresql://ci:hunter2@db.example.com:5432/infra?schema=team")
    assert url.schema == "team" and "hunter2" not in url.safe and "hunter2" not in repr(url)
    assert "schema" not in url.dsn and url.safe == "postgresql://ci@db.example.com:5432/infra"
    shown = PostgresStateStore(url, "web").describe()
    assert "hunter2" not in shown and "stack web" in shown
