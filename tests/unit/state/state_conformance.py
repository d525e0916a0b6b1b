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
