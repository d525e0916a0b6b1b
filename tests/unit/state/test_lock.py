import errno
import os
import signal
import subprocess
import sys
import threading
import time

import pytest

from stackplan.errors import LockError
from stackplan.state import LocalStateStore, LockInfo, locked
from stackplan.state import lock as lock_module

HOLDER = """
import sys, time
from stackplan.state import LocalStateStore, LockInfo
store = LocalStateStore(sys.argv[1])
lock_id = store.lock(LockInfo.new("apply"))
print(lock_id, flush=True)
time.sleep(float(sys.argv[2]))
store.unlock(lock_id)
print("released", flush=True)
"""


@pytest.fixture
def store(tmp_path):
    return LocalStateStore(tmp_path / "state" / "web.json")


@pytest.fixture
def holder(store):
    """Start a process holding the lock (for `seconds`); yields (process, its lock ID)."""
    started = []

    def start(seconds: float = 60.0):
        proc = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(store.path), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
        )
        started.append(proc)
        return proc, proc.stdout.readline().strip()

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        proc.stdout.close()


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_lock_held_by_another_process_is_refused_naming_the_holder(store, holder):
    proc, lock_id = holder()
    with pytest.raises(LockError) as refused:
        store.lock(LockInfo.new("plan"))
    message = str(refused.value)
    assert f"pid {proc.pid}" in message and "running 'apply'" in message
    assert f"lock ID {lock_id}" in message and "@" in message and " since " in message
    assert refused.value.where == str(store.path)
    assert "wait for" in refused.value.hint and "state unlock" not in refused.value.hint
    assert store.lock_holder().id == lock_id


def test_a_lock_left_by_a_killed_process_is_taken_over_with_a_notice(store, holder):
    proc, old_id = holder()
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    notices = []
    lock_id = store.lock(LockInfo.new("plan"), notify=notices.append)
    assert len(notices) == 1
    assert f"took over a stale lock left by pid {proc.pid} (apply)" in notices[0]
    assert "no longer running" in notices[0]
    assert store.lock_holder().id == lock_id != old_id
    store.unlock(lock_id)
    assert not store.lock_path.exists()


def test_a_stale_lock_notice_is_logged_by_default(store, caplog):
    info = LockInfo.new("apply")
    store.lock_path.parent.mkdir(parents=True)
    store.lock_path.write_text(info.to_json(), encoding="utf-8")  # left behind, no OS lock
    with caplog.at_level("WARNING", logger="stackplan.state"):
        store.unlock(store.lock(LockInfo.new("plan")))
    assert "took over a stale lock" in caplog.text


def test_timeout_waits_then_fails(store, holder):
    holder()
    start = time.monotonic()
    with pytest.raises(LockError, match=r"waited 0\.3s"):
        store.lock(LockInfo.new("plan"), timeout=0.3)
    assert 0.3 <= time.monotonic() - start < 2


def test_timeout_zero_fails_at_once(store, holder):
    holder()
    start = time.monotonic()
    with pytest.raises(LockError):
        store.lock(LockInfo.new("plan"), timeout=0)
    assert time.monotonic() - start < 0.2


def test_a_waiting_lock_is_granted_when_the_holder_lets_go(store, holder):
    proc, _ = holder(seconds=0.3)
    notices = []
    lock_id = store.lock(LockInfo.new("plan"), timeout=10, notify=notices.append)
    assert proc.stdout.readline().strip() == "released"
    assert notices == []  # a released lock is not stale
    store.unlock(lock_id)


def test_unlock_of_another_process_lock_is_refused(store, holder):
    _, lock_id = holder()
    with pytest.raises(LockError, match="held by another process"):
        store.unlock(lock_id)
    with pytest.raises(LockError, match="cannot unlock wrong"):
        store.unlock("wrong")


def test_force_unlock_needs_the_right_id_and_warns_if_the_holder_runs(store, holder):
    proc, lock_id = holder()
    with pytest.raises(LockError, match=f"the lock on the state is {lock_id}"):
        store.force_unlock("wrong")
    # Issue 10, point 11: a live holder keeps its lock unless --force says otherwise.
    with pytest.raises(LockError, match=f"held by a run that is still going: .*pid {proc.pid}"):
        store.force_unlock(lock_id)
    assert store.lock_path.exists()
    notices = []
    store.force_unlock(lock_id, notify=notices.append, force=True)
    assert not store.lock_path.exists()
    assert len(notices) == 1 and f"pid {proc.pid} (apply) still runs" in notices[0]


def test_force_unlock_clears_lock_info_left_behind(store):
    info = LockInfo("left-1", "apply", "bob@elsewhere", 4242, "elsewhere", "2024-01-01T00:00:00Z")
    store.lock_path.parent.mkdir(parents=True)
    store.lock_path.write_text(info.to_json(), encoding="utf-8")
    notices = []
    store.force_unlock("left-1", notify=notices.append)
    assert not store.lock_path.exists() and notices == []
    with pytest.raises(LockError, match="not locked"):
        store.force_unlock("left-1")


def test_a_second_thread_is_refused_then_waits(store):
    first = store.lock(LockInfo.new("apply"))
    got = []

    def take():
        with locked(store, LockInfo.new("plan"), timeout=10) as lock_id:
            got.append(lock_id)

    thread = threading.Thread(target=take)
    with pytest.raises(LockError, match=f"pid {os.getpid()}"):
        store.lock(LockInfo.new("plan"))
    thread.start()
    time.sleep(0.2)
    assert got == []
    store.unlock(first)
    thread.join(10)
    assert len(got) == 1


def test_the_lock_file_is_not_the_state_file(store):
    with locked(store, LockInfo.new("apply")):
        assert store.lock_path != store.path and store.lock_path.exists()
        assert not store.path.exists()
    assert not store.lock_path.exists()


@pytest.fixture
def no_flock(monkeypatch):
    def flock(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(lock_module.fcntl, "flock", flock)


def test_without_flock_a_live_holder_is_refused_with_the_unlock_hint(store, no_flock):
    info = LockInfo.new("apply")
    info = LockInfo(info.id, "apply", info.who, os.getppid(), info.host, info.created)
    store.lock_path.parent.mkdir(parents=True)
    store.lock_path.write_text(info.to_json(), encoding="utf-8")
    with pytest.raises(LockError) as refused:
        store.lock(LockInfo.new("plan"))
    assert f"`stackplan state unlock {info.id}`" in refused.value.hint


def test_without_flock_a_dead_holder_is_taken_over(store, no_flock):
    info = LockInfo.new("apply")
    info = LockInfo(info.id, "apply", info.who, dead_pid(), info.host, info.created)
    store.lock_path.parent.mkdir(parents=True)
    store.lock_path.write_text(info.to_json(), encoding="utf-8")
    notices = []
    store.unlock(store.lock(LockInfo.new("plan"), notify=notices.append))
    assert len(notices) == 1 and f"pid {info.pid}" in notices[0]


def test_lock_info_round_trips_and_tolerates_garbage():
    info = LockInfo.new("apply", path="state/web.json")
    assert LockInfo.from_json(info.to_json()) == info
    assert LockInfo.from_json("") is None and LockInfo.from_json('{"id": 1}') is None
    assert info.created.endswith("Z") and info.pid == os.getpid()
