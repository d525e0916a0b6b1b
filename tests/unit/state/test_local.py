import hashlib
import os
import stat
import threading

import pytest
from state_conformance import check_store

from stackplan import atomic as atomic_module
from stackplan.addr import Address
from stackplan.errors import StateError
from stackplan.state import LocalStateStore, ResourceRecord, State, dump_state

WEB = Address("server", "web")


def state_with(name: str, base: State | None = None) -> State:
    base = base or State.new("web")
    return base.with_record(ResourceRecord(WEB, f"id-{name}", {"name": name})).next_serial()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_local_store_passes_the_conformance_test(tmp_path):
    check_store(LocalStateStore(tmp_path / "state" / "web.json"))


def test_directory_is_created_and_files_are_private(tmp_path):
    store = LocalStateStore(tmp_path / "deep" / "state" / "web.json")
    first = state_with("a")
    store.write(first)
    store.write(state_with("b", first))
    for path in (store.path, store.backup_path):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_the_previous_file_is_kept_as_backup(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    first = state_with("a")
    store.write(first)
    assert not store.backup_path.exists()
    before = store.path.read_bytes()
    second = state_with("b", first)
    store.write(second)
    assert store.backup_path.read_bytes() == before
    assert store.path.read_text(encoding="utf-8") == dump_state(second)


def test_the_file_is_the_dumped_state(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    state = state_with("a")
    store.write(state)
    assert store.path.read_text(encoding="utf-8") == dump_state(state)


def test_a_crash_before_the_rename_leaves_the_old_file_and_no_temp_file(tmp_path, monkeypatch):
    store = LocalStateStore(tmp_path / "web.json")
    first = state_with("a")
    store.write(first)
    old = sha256(store.path)
    real_replace = os.replace

    def replace_then_crash(src, dst):
        if os.fspath(dst) == os.fspath(store.path):
            raise OSError(28, "No space left on device")
        real_replace(src, dst)

    monkeypatch.setattr(atomic_module.os, "replace", replace_then_crash)
    with pytest.raises(StateError, match="could not write the state: No space left"):
        store.write(state_with("b", first))
    monkeypatch.undo()
    assert sha256(store.path) == old
    assert store.read() == first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["web.json", "web.json.backup"]


def test_a_crash_while_writing_the_temp_file_leaves_the_old_file(tmp_path, monkeypatch):
    store = LocalStateStore(tmp_path / "web.json")
    first = state_with("a")
    store.write(first)
    old = sha256(store.path)

    def fsync_fails(fd):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(atomic_module.os, "fsync", fsync_fails)
    with pytest.raises(StateError, match="Input/output error"):
        store.write(state_with("b", first))
    monkeypatch.undo()
    assert sha256(store.path) == old
    assert [p.name for p in tmp_path.iterdir()] == ["web.json"]


def test_a_leftover_temp_file_is_not_read(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    (tmp_path / ".web.json.abc123.tmp").write_text('{"format_version": 1, "half', "utf-8")
    assert store.read() is None
    state = state_with("a")
    store.write(state)
    assert store.read() == state


@pytest.mark.parametrize(
    "content",
    [b'{"format_version": 1, "lineage": "x", "ser', b"\xff\xfe not utf-8", b"[]", b""],
    ids=["truncated", "binary", "list", "empty"],
)
def test_a_corrupt_file_is_never_overwritten(tmp_path, content):
    store = LocalStateStore(tmp_path / "web.json")
    store.path.write_bytes(content)
    before = sha256(store.path)
    with pytest.raises(StateError) as refused:
        store.read()
    assert str(store.path) in str(refused.value)
    with pytest.raises(StateError) as refused:
        store.write(state_with("a"))
    assert str(store.path) in str(refused.value)
    assert sha256(store.path) == before
    assert not store.backup_path.exists()


def test_another_lineage_is_refused_and_nothing_written(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    store.write(state_with("a"))
    before = sha256(store.path)
    with pytest.raises(StateError, match="lineage") as refused:
        store.write(state_with("b").next_serial())
    assert refused.value.where == str(store.path)
    assert sha256(store.path) == before and not store.backup_path.exists()


def test_a_lower_or_equal_serial_is_refused(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    first = state_with("a")
    second = state_with("b", first)
    store.write(second)
    with pytest.raises(StateError, match="serial 1, but the file is already at serial 2"):
        store.write(first)
    with pytest.raises(StateError, match="serial 2, but the file is already at serial 2"):
        store.write(first.next_serial())


def test_writing_the_stored_state_again_changes_nothing(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    first = state_with("a")
    store.write(first)
    mtime = store.path.stat().st_mtime_ns
    store.write(first)
    assert store.path.stat().st_mtime_ns == mtime and not store.backup_path.exists()


def test_a_file_from_a_newer_stackplan_is_refused_and_kept(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    store.write(state_with("a"))
    newer = store.path.read_text(encoding="utf-8").replace(
        '"format_version": 1', '"format_version": 9'
    )
    store.path.write_text(newer, encoding="utf-8")
    with pytest.raises(StateError, match="format_version 9 was written by stackplan"):
        store.read()
    with pytest.raises(StateError, match="upgrade stackplan"):
        store.write(state_with("b", state_with("a")))
    assert store.path.read_text(encoding="utf-8") == newer


def test_a_reader_never_sees_a_half_written_file(tmp_path):
    store = LocalStateStore(tmp_path / "web.json")
    state = state_with("a")
    store.write(state)
    done = threading.Event()
    seen = []

    def writer():
        current = state
        for i in range(40):
            big = {"name": "x" * 20000, "i": i}
            current = current.with_record(ResourceRecord(WEB, "id", big)).next_serial()
            store.write(current)
        done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    while not done.is_set():
        seen.append(store.read().serial)  # raises StateError on a partial file
    thread.join()
    assert seen == sorted(seen)
