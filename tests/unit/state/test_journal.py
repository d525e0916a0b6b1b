"""The local store's journal: appends read back whole, a line cut short by a crash is
left out, a journal of an older snapshot is ignored, and a long journal asks for a
snapshot. The recorder sends deltas to a journaled store and a whole state at the end."""

from __future__ import annotations

import json

import pytest
from state_conformance import check_journal

import stackplan.state.local as local
from stackplan.addr import Address
from stackplan.errors import StaleWriteError
from stackplan.state import LocalStateStore, ResourceRecord, State
from stackplan.state.file import dump_state
from stackplan.state.local import JOURNAL_SLACK
from stackplan.state.store import StateDelta

WEB = [Address("server", "web", i) for i in range(4)]


def _store(tmp_path) -> tuple[LocalStateStore, State]:
    store = LocalStateStore(tmp_path / "web.json")
    first = State.new("web").with_record(ResourceRecord(WEB[0], "id-0")).next_serial()
    store.write(first)
    return store, first


def test_local_store_passes_the_journal_conformance_test(tmp_path):
    check_journal(LocalStateStore(tmp_path / "state" / "web.json"))


def test_an_append_is_one_line_and_leaves_the_snapshot_alone(tmp_path):
    store, first = _store(tmp_path)
    before = store.path.read_bytes()
    store.append(StateDelta(first.lineage, 2, put=(ResourceRecord(WEB[1], "id-1"),)))
    assert store.path.read_bytes() == before
    lines = store.journal_path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["serial"] == 2


def test_another_store_reads_the_journal(tmp_path):
    store, first = _store(tmp_path)
    store.append(StateDelta(first.lineage, 2, put=(ResourceRecord(WEB[1], "id-1"),)))
    again = LocalStateStore(store.path).read()
    assert again is not None and again.serial == 2 and again.record(WEB[1]) is not None


def test_a_line_cut_short_by_a_crash_is_left_out_and_cut_off_by_the_next_append(tmp_path):
    store, first = _store(tmp_path)
    store.append(StateDelta(first.lineage, 2, put=(ResourceRecord(WEB[1], "id-1"),)))
    with store.journal_path.open("ab") as f:
        f.write(b'{"lineage": "' + first.lineage.encode() + b'", "base": 1, "seri')
    fresh = LocalStateStore(store.path)
    read = fresh.read()
    assert read is not None and read.serial == 2
    fresh.append(StateDelta(first.lineage, 3, put=(ResourceRecord(WEB[2], "id-2"),)))
    final = LocalStateStore(store.path).read()
    assert final is not None and final.serial == 3 and final.record(WEB[2]) is not None


def test_a_journal_of_an_older_snapshot_is_ignored(tmp_path):
    # A crash between the new snapshot and the journal's removal leaves both.
    store, first = _store(tmp_path)
    store.append(StateDelta(first.lineage, 2, put=(ResourceRecord(WEB[1], "id-1"),)))
    journal = store.journal_path.read_bytes()
    second = store.read()
    assert second is not None
    store.write(second.next_serial())
    store.journal_path.write_bytes(journal)
    fresh = LocalStateStore(store.path)
    assert fresh.read() == second.next_serial()
    fresh.append(StateDelta(first.lineage, 4, drop=(WEB[1],)))
    final = LocalStateStore(store.path).read()
    assert final is not None and final.serial == 4 and final.record(WEB[1]) is None


def test_a_whole_write_folds_the_journal_in_and_keeps_the_state_before_as_backup(tmp_path):
    store, first = _store(tmp_path)
    store.append(StateDelta(first.lineage, 2, put=(ResourceRecord(WEB[1], "id-1"),)))
    journaled = store.read()
    assert journaled is not None
    store.write(journaled.next_serial())
    assert not store.journal_path.exists()
    assert store.backup_path.read_text(encoding="utf-8") == dump_state(journaled)


def test_a_long_journal_asks_for_a_snapshot(tmp_path):
    store, first = _store(tmp_path)
    big = {"blob": "x" * 4096}
    serial = first.serial
    while not store.needs_snapshot():
        serial += 1
        store.append(StateDelta(first.lineage, serial, put=(ResourceRecord(WEB[1], "a", big),)))
    assert store.journal_path.stat().st_size > JOURNAL_SLACK


def test_a_write_after_appends_folds_them_in_without_reading_the_journal_again(
    tmp_path, monkeypatch
):
    store, first = _store(tmp_path)
    state = first
    for i in (1, 2, 3):
        state = state.with_record(ResourceRecord(WEB[i], f"id-{i}")).next_serial()
        store.append(StateDelta(first.lineage, state.serial, put=(state.record(WEB[i]),)))
    state = state.without(WEB[1]).next_serial()
    store.append(StateDelta(first.lineage, state.serial, drop=(WEB[1],)))
    parsed: list[str] = []
    real = local.parse_journaled
    monkeypatch.setattr(
        local, "parse_journaled", lambda *a: parsed.append(a[1]) or real(*a), raising=True
    )
    store.write(state.next_serial())
    assert parsed == []  # what it appended itself, it applies; it reads nothing back
    assert store.backup_path.read_text(encoding="utf-8") == dump_state(state)
    assert LocalStateStore(store.path).read() == state.next_serial()


def test_a_write_after_appends_still_sees_another_writer(tmp_path):
    store, first = _store(tmp_path)
    second = first.with_record(ResourceRecord(WEB[1], "id-1")).next_serial()
    store.append(StateDelta(first.lineage, 2, put=(second.record(WEB[1]),)))
    LocalStateStore(store.path).append(StateDelta(first.lineage, 3, drop=(WEB[1],)))
    with pytest.raises(StaleWriteError):
        store.write(second.next_serial())  # serial 3, but the files hold another 3
