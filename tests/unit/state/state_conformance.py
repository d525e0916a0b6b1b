"""`check_store(store)`: the behaviour every StateStore must show, whatever keeps the state.

Call it on a fresh, empty store. Imported by the store tests; a new backend's tests call
it too (as terraform's `statemgr.TestFull`).
"""

from __future__ import annotations

import os

import pytest

from stackplan.addr import Address
from stackplan.errors import LockError, StateError
from stackplan.state import LockInfo, ResourceRecord, State, StateStore, locked


def check_store(store: StateStore) -> None:
    """Assert the StateStore contract on `store`, which must start empty."""
    assert isinstance(store, StateStore)
    assert isinstance(store.describe(), str) and store.describe()
    assert store.read() is None

    first = State.new("conformance").with_record(
        ResourceRecord(Address("server", "web", 0), "id-0", {"name": "web-0", "tags": ["a"]})
    )
    first = first.next_serial()
    store.write(first)
    assert store.read() == first
    assert store.read() is not store.read()  # a fresh value per read

    store.write(first)  # the same state again: accepted, nothing changes
    assert store.read() == first

    second = first.with_record(ResourceRecord(Address("keypair", "deploy"), "deploy")).next_serial()
    store.write(second)
    assert store.read() == second

    with pytest.raises(StateError, match="serial"):
        store.write(first)  # lower serial
    with pytest.raises(StateError, match="serial"):
        store.write(second.without(Address("keypair", "deploy")))  # same serial, other content
    with pytest.raises(StateError, match="lineage"):
        store.write(State.new("conformance").next_serial().next_serial().next_serial())
    assert store.read() == second

    check_locking(store)


def check_locking(store: StateStore) -> None:
    """Assert the Locker contract: lock, refuse a second lock naming the holder, unlock."""
    info = LockInfo.new("apply")
    lock_id = store.lock(info)
    assert lock_id == info.id
    try:
        with pytest.raises(LockError) as refused:
            store.lock(LockInfo.new("plan"))
        message = str(refused.value)
        assert info.who in message and f"pid {os.getpid()}" in message
        assert "'apply'" in message and info.id in message and info.created in message
        with pytest.raises(LockError, match="cannot unlock"):
            store.unlock("not-the-lock-id")
    finally:
        store.unlock(lock_id)
    with pytest.raises(LockError):
        store.unlock(lock_id)  # not held any more

    with locked(store, LockInfo.new("refresh")) as again:
        assert isinstance(again, str)
        with pytest.raises(LockError):
            store.lock(LockInfo.new("plan"))
    store.unlock(store.lock(LockInfo.new("plan")))  # free again after the block


def check_journal(store: StateStore) -> None:
    """Assert the Journaled contract on `store`, which must start empty: deltas read back
    as the whole state they make, are refused out of order or of another lineage, and a
    whole write folds them in."""
    from stackplan.state.store import Journaled, StateDelta

    assert isinstance(store, Journaled)
    assert store.needs_snapshot()  # nothing stored yet: a whole state comes first
    web = [Address("server", "web", i) for i in range(3)]
    first = State.new("journal").with_record(ResourceRecord(web[0], "id-0", {"n": 0}))
    first = first.next_serial()
    store.write(first)
    assert not store.needs_snapshot()

    added = ResourceRecord(web[1], "id-1", {"n": 1, "tags": ["x"]})
    store.append(StateDelta(first.lineage, 2, put=(added,)))
    changed = ResourceRecord(web[0], "id-0", {"n": 10})
    store.append(StateDelta(first.lineage, 3, put=(changed,), drop=(web[1],)))
    expected = first.with_record(changed).with_record(added).without(web[1])
    expected = expected.next_serial().next_serial()
    assert store.read() == expected

    with pytest.raises(StateError, match="serial"):
        store.append(StateDelta(first.lineage, 3, put=(added,)))  # not the next serial
    with pytest.raises(StateError, match="lineage"):
        store.append(StateDelta(State.new("journal").lineage, 4, put=(added,)))
    assert store.read() == expected

    folded = expected.with_record(ResourceRecord(web[2], "id-2")).next_serial()
    store.write(folded)
    assert store.read() == folded
    store.append(StateDelta(first.lineage, 5, drop=(web[2],)))
    assert store.read() == folded.without(web[2]).next_serial()
