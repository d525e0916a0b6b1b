"""Where states are kept: the `StateStore` and `Locker` interfaces, `LockInfo`, `locked`.

Interfaces and small values only; `local.py` is the file implementation. Every store
passes the same conformance test (`tests/unit/state/state_conformance.py`).
"""

from __future__ import annotations

import getpass
import json
import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from typing import Any, Protocol, runtime_checkable

from stackplan.addr import Address
from stackplan.clock import now_iso
from stackplan.errors import LockError
from stackplan.state.model import ResourceRecord, State

log = logging.getLogger("stackplan.state")

# Receives one-line notices a lock wants the user to see (a stale lock taken over, a
# lock forced open while its holder still runs). The default logs a warning.
Notify = Callable[[str], None]


def log_notice(message: str) -> None:
    log.warning("%s", message)


@dataclass(frozen=True, slots=True)
class LockInfo:
    """Who holds a lock: written into the lock so that a refused run can name the holder.

    `id` is what `unlock` and `stackplan state unlock LOCK_ID` take; `operation` is the
    command (`apply`, `state mv`...); `who` is `user@host`; `created` is ISO 8601 UTC;
    `path` is the store's description (the state path).
    """

    id: str
    operation: str
    who: str
    pid: int
    host: str
    created: str
    path: str = ""

    @classmethod
    def new(cls, operation: str, path: str = "") -> LockInfo:
        """A LockInfo for this process, with a fresh id and the current time."""
        host = socket.gethostname()
        try:
            user = getpass.getuser()
        except (KeyError, OSError):  # no passwd entry and no USER: a bare container
            user = str(os.getuid())
        created = now_iso()
        return cls(str(uuid.uuid4()), operation, f"{user}@{host}", os.getpid(), host, created, path)

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str) -> LockInfo | None:
        """The LockInfo in `text`, or None if it is empty or not one (a lock being written)."""
        try:
            doc: Any = json.loads(text)
            return cls(
                id=str(doc["id"]),
                operation=str(doc["operation"]),
                who=str(doc["who"]),
                pid=int(doc["pid"]),
                host=str(doc["host"]),
                created=str(doc["created"]),
                path=str(doc.get("path", "")),
            )
        except (ValueError, TypeError, KeyError):
            return None

    def describe(self) -> str:
        """`alice@box (pid 4242) running 'apply' since 2024-05-01T10:00:00Z, lock ID ...`"""
        return (
            f"{self.who} (pid {self.pid}) running {self.operation!r} since {self.created}, "
            f"lock ID {self.id}"
        )


@runtime_checkable
class Locker(Protocol):
    """Mutual exclusion for a store, so that two runs never write the same state.

    `lock` returns the lock ID (`info.id`) or raises LockError naming the holder after
    `timeout` seconds (0: at once). `unlock` refuses an ID that is not the held lock's.
    `force_unlock` clears a lock whatever its holder: for `stackplan state unlock`.
    """

    def lock(self, info: LockInfo, timeout: float = 0.0, notify: Notify | None = None) -> str: ...

    def unlock(self, lock_id: str) -> None: ...

    def force_unlock(
        self, lock_id: str, notify: Notify | None = None, *, force: bool = False
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class Version:
    """One kept version of a stack's state (`state list --versions`)."""

    serial: int
    lineage: str
    written_at: str  # ISO 8601 UTC
    resources: int


@runtime_checkable
class StateStore(Locker, Protocol):
    """Reads and writes whole snapshots of one stack's state, and locks them.

    `read` returns None when no state was ever written, and a fresh value each time (a
    caller may keep it). `write` persists the snapshot whole or not at all; it refuses a
    state of another lineage, or one whose serial is not above the stored one (writing
    a state equal to the stored one is a no-op).
    """

    def read(self) -> State | None: ...

    def write(self, state: State) -> None: ...

    def describe(self) -> str: ...

    def versions(self) -> list[Version]:
        """The versions kept (the current one first): a file keeps one backup, a database
        the last few dozen."""
        ...

    def read_version(self, serial: int) -> State | None:
        """The kept version of `serial`, or None when it is not kept."""
        ...


@dataclass(frozen=True, slots=True)
class StateDelta:
    """What one write changes of a state: the records put (added or replaced) and the
    addresses dropped, taking the state of `lineage` from `serial - 1` to `serial`."""

    lineage: str
    serial: int
    put: tuple[ResourceRecord, ...] = ()
    drop: tuple[Address, ...] = ()


def with_deltas(state: State, deltas: Iterable[StateDelta]) -> State:
    """`state` with `deltas` applied in order (each continues the one before)."""
    resources = dict(state.resources)
    serial = state.serial
    for delta in deltas:
        for record in delta.put:
            resources[record.address] = record
        for address in delta.drop:
            resources.pop(address, None)
        serial = delta.serial
    return replace(state, serial=serial, resources=resources)


@runtime_checkable
class Journaled(Protocol):
    """A store that can append a delta instead of rewriting the whole state: a write costs
    what changed, not what the state holds (an apply writes after every step).

    `append` is durable when it returns and refused like `write` (another lineage, a serial
    that is not the next one). `needs_snapshot` says the next write must be a whole state
    (`write`): none is stored yet, or the appended deltas outgrew it. `read` replays the
    deltas over the snapshot; `write` makes a new snapshot and drops them.
    """

    def append(self, delta: StateDelta) -> None: ...

    def needs_snapshot(self) -> bool: ...


@contextmanager
def locked(
    store: Locker, info: LockInfo, timeout: float = 0.0, notify: Notify | None = None
) -> Iterator[str]:
    """Hold `store`'s lock for the `with` block; yields the lock ID."""
    lock_id = store.lock(info, timeout=timeout, notify=notify)
    try:
        yield lock_id
    finally:
        store.unlock(lock_id)


def held_error(path: str, holder: LockInfo | None, waited: float, alive: bool) -> LockError:
    """The LockError for a lock someone else holds, naming the holder and what to do.

    `alive` says the holder is known to be running (it holds the OS lock): then waiting
    is the answer, and forcing the lock open is not suggested.
    """
    waited_text = f" (waited {waited:g}s)" if waited > 0 else ""
    if holder is None:
        return LockError(
            f"the state is locked by another process that has not yet said who it is{waited_text}",
            where=path,
            hint="retry in a moment, or give --lock-timeout to wait for it",
        )
    message = f"the state is locked by {holder.describe()}{waited_text}"
    if alive:
        hint = f"wait for pid {holder.pid} to finish (--lock-timeout waits for it), or stop it"
    else:
        hint = (
            "if that run is gone for good, clear its lock with "
            f"`stackplan state unlock {holder.id}`"
        )
    return LockError(message, where=path, hint=hint)
