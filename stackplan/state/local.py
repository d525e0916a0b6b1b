"""`LocalStateStore`: a state file on the local disk, written atomically, with a backup.

A write never leaves a half-written file (temp file, fsync, `os.replace`, fsync of the
directory) and never overwrites a corrupt or foreign file. Locking is in `lock.py`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from stackplan.atomic import write_atomic
from stackplan.errors import ForeignStateError, StaleWriteError, StateError
from stackplan.state.file import dump_state, parse_state
from stackplan.state.lock import FileLock
from stackplan.state.model import State
from stackplan.state.store import LockInfo, Notify, Version

FILE_MODE = 0o600
ISO_SECONDS = "%Y-%m-%dT%H:%M:%SZ"


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
        self._lock = FileLock(self.lock_path, str(self.path))
        # The bytes last read or written here and their State, for `write`'s checks of the
        # file on disk: an apply writes after every step, and re-parsing (schema included)
        # the file it had just written made each write cost most of its time.
        self._known: tuple[bytes, State] | None = None

    def describe(self) -> str:
        return str(self.path)

    def read(self) -> State | None:
        """The state in the file, or None if there is no file yet."""
        data = self._read_bytes(self.path)
        if data is None:
            return None
        state = self._parse(data, self.path)
        self._known = (data, state)
        return state

    def write(self, state: State) -> None:
        """Replace the file with `state` atomically, keeping the old file as the backup."""
        old = self._read_bytes(self.path)
        if old is not None:
            current = self._parse_known(old)
            if self._is_unchanged(state, current):
                return
        text = dump_state(state)
        data = text.encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            if old is not None:
                write_atomic(self.backup_path, old, FILE_MODE)
            write_atomic(self.path, data, FILE_MODE)
            self._known = (data, state)
        except OSError as exc:
            raise StateError(
                f"could not write the state: {exc.strerror or exc}",
                where=str(self.path),
                hint="the previous state is left as it was",
            ) from exc

    def versions(self) -> list[Version]:
        """The file's state and the backup's, newest first."""
        found = []
        for path in (self.path, self.backup_path):
            data = self._read_bytes(path)
            if data is None:
                continue
            state = self._parse(data, path)
            when = datetime.fromtimestamp(path.stat().st_mtime, UTC).strftime(ISO_SECONDS)
            found.append(Version(state.serial, state.lineage, when, len(state.records)))
        return found

    def read_version(self, serial: int) -> State | None:
        for path in (self.path, self.backup_path):
            data = self._read_bytes(path)
            if data is not None and (state := self._parse(data, path)).serial == serial:
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

    def _parse_known(self, data: bytes) -> State:
        """The state in `data`; unparsed when these are the bytes last read or written."""
        known = self._known
        if known is not None and known[0] == data:
            return known[1]
        state = self._parse(data, self.path)
        self._known = (data, state)
        return state

    def _parse(self, data: bytes, path: Path) -> State:
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise StateError(
                f"not UTF-8 text (byte {exc.start})",
                where=str(path),
                hint="the file is left as it is; repair it, or restore the .backup beside it",
            ) from exc
        return parse_state(text, str(path))

    @staticmethod
    def _read_bytes(path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(f"cannot read: {exc.strerror or exc}", where=str(path)) from exc
