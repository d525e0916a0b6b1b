"""`LocalStateStore`: a state file on the local disk, written atomically, with a backup,
and the journal of deltas appended since (an apply's steps between two snapshots).

A write never leaves a half-written file (temp file, fsync, `os.replace`, fsync of the
directory) and never overwrites a corrupt or foreign file. An append is one line and one
fsync; a line a crash cut short was never acknowledged, and reading leaves it out.
Locking is in `lock.py`.
"""

from __future__ import annotations

import contextlib
import copy
import os
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from stackplan.atomic import fsync_dir, write_atomic
from stackplan.errors import ForeignStateError, StaleWriteError, StateError
from stackplan.state.file import dump_state, journal_entry, parse_journaled
from stackplan.state.lock import FileLock
from stackplan.state.model import State
from stackplan.state.store import LockInfo, Notify, StateDelta, Version, with_deltas

FILE_MODE = 0o600
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"
# The journal is folded into a new snapshot once it outgrows the snapshot this much, so
# reading stays linear in the state and the appends of an apply stay cheap on average.
JOURNAL_SLACK = 256 * 1024


@dataclass(frozen=True, slots=True)
class _Known:
    """The files as this store last read or wrote them: the snapshot's bytes and its
    file identity, the journal's length, and the state they hold together (`serial`
    moves on with each append; `state` is the last one parsed)."""

    data: bytes
    stat: tuple[int, int, int]
    state: State
    snapshot_serial: int
    serial: int
    journal_size: int = 0
    # The journal's bytes that continue the snapshot: less than its size when a crash cut
    # its last line short, 0 when it continues an older snapshot (a crash came between a
    # snapshot and the journal's removal). The next append cuts the rest off; a reader
    # never does: it may be reading an older snapshot than the writer.
    valid: int = 0


class LocalStateStore:
    """The state at `path`, its previous version at `<path>.backup`, its lock at `<path>.lock`.

    `write` rule: the state must have the lineage of the file on disk, and a serial above
    the file's; a state equal to the file's is accepted and writes nothing. Both files
    are mode 0600 (they hold cloud IDs and attributes); the directory is created if missing.
    Temp files are `.<name>.<random>.tmp` beside the state; one left by a crash is never
    read, and can be deleted.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + ".backup")
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self.journal_path = self.path.with_name(self.path.name + ".journal")
        self._lock = FileLock(self.lock_path, str(self.path))
        # The files last read or written here and their State, for the checks of a write:
        # an apply writes after every step, and re-parsing (schema included) what it had
        # just written made each write cost most of its time.
        self._known: _Known | None = None
        # The deltas appended since `_known.state` was parsed, in order: the state the
        # files hold is that one with these applied (a snapshot needs no re-read of the
        # journal this store wrote itself).
        self._appended: list[StateDelta] = []

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State | None:
        """The state in the file and its journal, or None if there is no file yet."""
        data = self._read_bytes(self.path)
        if data is None:
            return None
        # An apply reads back what it has just written (its outputs come from the state
        # as stored): parsing and validating 1,000 records again cost ~60 ms. A State is
        # immutable; the copy keeps each read's value its own all the same.
        return copy.copy(self._current(data))

    def write(self, state: State) -> None:
        """Replace the file with `state` atomically, keeping the old state as the backup;
        the journal, now folded in, is dropped."""
        old = self._read_bytes(self.path)
        current: State | None = None
        if old is not None:
            current = self._current(old)
            if self._is_unchanged(state, current):
                return
        data = dump_state(state).encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if old is not None and current is not None:
                journaled = self._known is not None and self._known.journal_size > 0
                write_atomic(self.backup_path, dump_state(current).encode() if journaled else old,
                             FILE_MODE)  # fmt: skip
            write_atomic(self.path, data, FILE_MODE)
            # Only once the snapshot holds what the journal did: a crash before this
            # leaves a journal of an older snapshot, which reading leaves out.
            with contextlib.suppress(FileNotFoundError):
                self.journal_path.unlink()
            self._known = _Known(data, self._stat(), state, state.serial, state.serial)
            self._appended = []
        except OSError as exc:
            raise StateError(
                f"could not write the state: {exc.strerror or exc}",
                where=str(self.path),
                hint="the previous state is left as it was",
            ) from exc

    def needs_snapshot(self) -> bool:
        known = self._known
        if known is None or not self.path.exists():
            return True
        return known.journal_size > 2 * len(known.data) + JOURNAL_SLACK

    def append(self, delta: StateDelta) -> None:
        """Add `delta` to the journal, durably: one line, one fsync."""
        known = self._known
        if (
            known is None
            or self._stat() != known.stat
            or self._journal_size() != (known.journal_size)
        ):
            # Not ours as last seen (or never read): check against what the files hold.
            data = self._read_bytes(self.path)
            if data is None:
                raise StateError("no state to append to", where=str(self.path))
            known = self._load(data)
        self._check_next(delta, known)
        line = journal_entry(delta, known.snapshot_serial).encode("utf-8")
        try:
            if known.valid < known.journal_size:
                os.truncate(self.journal_path, known.valid)
            fd = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
            try:
                os.write(fd, line)
                os.fsync(fd)
            finally:
                os.close(fd)
            if known.valid == 0:
                fsync_dir(self.path.parent)  # the journal's name survives a power cut
        except OSError as exc:
            raise StateError(
                f"could not write the state's journal: {exc.strerror or exc}",
                where=str(self.journal_path),
                hint="the state is as last written",
            ) from exc
        self._known = _Known(
            known.data,
            known.stat,
            known.state,
            known.snapshot_serial,
            delta.serial,
            known.valid + len(line),
            known.valid + len(line),
        )
        self._appended.append(delta)

    def _check_next(self, delta: StateDelta, known: _Known) -> None:
        where = str(self.path)
        if delta.lineage != known.state.lineage:
            raise ForeignStateError(
                f"the state to write has lineage {delta.lineage}, but the file holds "
                f"lineage {known.state.lineage}: they are different stacks' histories",
                where=where,
                stored=known.state.lineage,
                written=delta.lineage,
            )
        if delta.serial != known.serial + 1:
            raise StaleWriteError(
                f"the state to write has serial {delta.serial}, but the file is at serial "
                f"{known.serial}: someone wrote it meanwhile",
                where=where,
                hint="read the state again and redo the change on top of it",
                stored=known.serial,
                written=delta.serial,
            )

    def _load(self, data: bytes) -> _Known:
        """Parse the snapshot `data` with the journal on disk; remember both."""
        stat = self._stat()
        raw = self._read_bytes(self.journal_path) or b""
        # A last line without its newline was cut short by a crash: never acknowledged.
        complete = raw[: raw.rfind(b"\n") + 1]
        lines = [line.decode("utf-8", "replace") for line in complete.splitlines() if line]
        state, snapshot_serial = self._parse_journaled(data, self.path, lines)
        valid = len(complete) if snapshot_serial != state.serial else 0
        known = _Known(data, stat, state, snapshot_serial, state.serial, len(raw), valid)
        self._known = known
        self._appended = []
        return known

    def _current(self, data: bytes) -> State:
        """The state the files hold now; unparsed when they are as last read or written."""
        known = self._known
        if (
            known is not None
            and known.data == data
            and self._journal_size() == known.journal_size
            and known.state.serial + len(self._appended) == known.serial
        ):
            if self._appended:
                # The journal holds what this store appended since it last read: apply
                # those deltas rather than parse (and validate) every line again.
                state = with_deltas(known.state, self._appended)
                self._known = known = replace(known, state=state)
                self._appended = []
            return known.state
        return self._load(data).state

    def _stat(self) -> tuple[int, int, int]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return (0, 0, 0)
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def _journal_size(self) -> int:
        try:
            return self.journal_path.stat().st_size
        except FileNotFoundError:
            return 0

    def versions(self) -> list[Version]:
        """The file's state (with its journal) and the backup's, newest first."""
        found = []
        for path in (self.path, self.backup_path):
            data = self._read_bytes(path)
            if data is None:
                continue
            state = self._load(data).state if path == self.path else self._parse(data, path)
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime(ISO_SECONDS)
            found.append(Version(state.serial, state.lineage, when, len(state.records)))
        return found

    def read_version(self, serial: int) -> State | None:
        current = self.read()
        if current is not None and current.serial == serial:
            return current
        data = self._read_bytes(self.backup_path)
        if data is not None and (state := self._parse(data, self.backup_path)).serial == serial:
            return state
        return None

    def lock(self, info: LockInfo, timeout: float = 0.0, notify: Notify | None = None) -> str:
        return self._lock.lock(info, timeout=timeout, notify=notify)

    def unlock(self, lock_id: str) -> None:
        self._lock.unlock(lock_id)

    def force_unlock(
        self, lock_id: str, notify: Notify | None = None, *, force: bool = False
    ) -> None:
        self._lock.force_unlock(lock_id, notify=notify, force=force)

    def lock_holder(self) -> LockInfo | None:
        """Who holds the lock now, as written in the lock file (None if nobody says)."""
        return self._lock.holder()

    def _is_unchanged(self, state: State, current: State) -> bool:
        """True if `state` equals `current`; raises if it may not replace it (another
        lineage, an older serial, or the same serial with other content)."""
        where = str(self.path)
        if state.lineage != current.lineage:
            raise ForeignStateError(
                f"the state to write has lineage {state.lineage}, but the file holds "
                f"lineage {current.lineage}: they are different stacks' histories",
                where=where,
                hint="check --state; `stackplan state push` does not cross lineages",
                stored=current.lineage,
                written=state.lineage,
            )
        if state.serial < current.serial or (state.serial == current.serial and state != current):
            raise StaleWriteError(
                f"the state to write has serial {state.serial}, but the file is already at "
                f"serial {current.serial}: someone wrote it meanwhile",
                where=where,
                hint="read the state again and redo the change on top of it",
                stored=current.serial,
                written=state.serial,
            )
        return state == current

    def _parse(self, data: bytes, path: Path) -> State:
        return self._parse_journaled(data, path, [])[0]

    def _parse_journaled(self, data: bytes, path: Path, journal: list[str]) -> tuple[State, int]:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(
                f"not UTF-8 text (byte {exc.start})",
                where=str(path),
                hint="the file is left as it is; repair it, or restore the .backup beside it",
            ) from exc
        return parse_journaled(text, str(path), journal)

    @staticmethod
    def _read_bytes(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read: {exc.strerror or exc}", where=str(path)) from exc
