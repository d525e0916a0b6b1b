"""A lock file beside the state: an OS lock that dies with its holder, plus who holds it.

The holder keeps `<state>.lock` open with `fcntl.flock` for the lock's lifetime and
writes its LockInfo (JSON) into it. Holds no state logic; `local.py` uses it.

- A second run (another process, or another thread of this one) is refused with a
  LockError naming the holder, after retrying until `timeout`.
- A holder that dies (even by SIGKILL) loses the OS lock with it; the next `lock` takes
  over and reports "took over a stale lock left by pid N ..." through `notify`.
- `unlock` removes the file (the OS lock is still held while it does, and a waiter that
  opened the old file notices it is gone and retries) and then releases the OS lock.
- `force_unlock` (`stackplan state unlock LOCK_ID`) deletes a lock file whose info
  carries LOCK_ID, whoever holds it. An OS lock cannot be taken from a live process, so
  this only helps where the OS lock does not protect: lock info left on a file system
  without flock (NFS without lockd, some FUSE mounts). If the holder still runs, it goes
  on as if it held the lock, and the next run can start beside it: `notify` says so.
"""

from __future__ import annotations

import errno
import fcntl
import os
import socket
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from stackplan.errors import LockError
from stackplan.state.store import LockInfo, Notify, held_error, log_notice

POLL_SECONDS = 0.1
# errno values of file systems that do not do flock: fall back to the lock info alone.
_NO_FLOCK = {errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOSYS, errno.EINVAL}


@dataclass(frozen=True, slots=True)
class _Held:
    fd: int
    info: LockInfo
    inode: tuple[int, int]


# Locks held by this process, by lock file path: the OS lock does not tell one thread of a
# process from another's double lock, and unlock needs the open file.
_HELD: dict[str, _Held] = {}
_GUARD = threading.Lock()


@dataclass(frozen=True, slots=True)
class _Refused:
    holder: LockInfo | None
    alive: bool  # the holder is known to run (it holds the OS lock)


class FileLock:
    """The lock at `path`; `where` names the locked state in messages."""

    def __init__(self, path: Path, where: str):
        self.path = path
        self.where = where
        self._key = os.path.abspath(path)

    def lock(self, info: LockInfo, timeout: float = 0.0, notify: Notify | None = None) -> str:
        """Take the lock for `info`, retrying until `timeout` seconds have passed."""
        notify = notify or log_notice
        if not info.path:
            info = replace(info, path=self.where)
        start = time.monotonic()
        while True:
            refused = self._try_lock(info, notify)
            if refused is None:
                return info.id
            waited = time.monotonic() - start
            if waited >= timeout:
                raise held_error(self.where, refused.holder, timeout, refused.alive)
            time.sleep(min(POLL_SECONDS, timeout - waited))

    def unlock(self, lock_id: str) -> None:
        """Release the lock this process holds under `lock_id`; refuses any other ID."""
        with _GUARD:
            held = _HELD.get(self._key)
            if held is not None and held.info.id == lock_id:
                self._release(held)
                return
            holder = held.info if held is not None else self.holder()
        if holder is None:
            raise LockError(f"cannot unlock {lock_id}: the state is not locked", where=self.where)
        if holder.id != lock_id:
            raise LockError(
                f"cannot unlock {lock_id}: the lock on the state is {holder.id}, "
                f"held by {holder.describe()}",
                where=self.where,
            )
        raise LockError(
            f"cannot unlock {lock_id}: it is held by another process, {holder.describe()}",
            where=self.where,
            hint=f"only a lost lock needs `stackplan state unlock {lock_id}`",
        )

    def force_unlock(
        self, lock_id: str, notify: Notify | None = None, *, force: bool = False
    ) -> None:
        """Delete the lock file if its info carries `lock_id`. A holder that still runs
        keeps its lock unless `force`: two applies at once would corrupt nothing on disk
        but would fight over the cloud."""
        notify = notify or log_notice
        with _GUARD:
            held = _HELD.get(self._key)
            if held is not None and held.info.id == lock_id:
                self._release(held)
                return
            holder = self.holder()
            if holder is None:
                if self.path.exists():
                    raise LockError(
                        "the lock file holds no lock information",
                        where=str(self.path),
                        hint="if no stackplan runs on this state, delete the file by hand",
                    )
                raise LockError(
                    f"cannot unlock {lock_id}: the state is not locked", where=self.where
                )
            if holder.id != lock_id:
                raise LockError(
                    f"cannot unlock {lock_id}: the lock on the state is {holder.id}, "
                    f"held by {holder.describe()}",
                    where=self.where,
                )
            alive = self._os_lock_held()
            if alive and not force:
                raise LockError(
                    f"lock {lock_id} is held by a run that is still going: {holder.describe()}",
                    where=self.where,
                    hint=f"wait for pid {holder.pid} on {holder.host} to finish, or stop it; "
                    "`stackplan state unlock --force` removes the lock anyway",
                )
            self.path.unlink(missing_ok=True)
        if alive:
            notify(
                f"removed lock {lock_id}, but pid {holder.pid} ({holder.operation}) still "
                "runs and holds it: it goes on as if it had the lock"
            )

    def holder(self) -> LockInfo | None:
        """The LockInfo in the lock file, or None if there is none (or it is being written)."""
        try:
            return LockInfo.from_json(self.path.read_text(encoding="utf-8"))
        except (FileNotFoundError, UnicodeDecodeError):
            return None

    def _try_lock(self, info: LockInfo, notify: Notify) -> _Refused | None:
        with _GUARD:
            held = _HELD.get(self._key)
            if held is not None:
                return _Refused(held.info, alive=True)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # The file we locked may have been unlinked by its holder's unlock meanwhile:
            # then lock the new one. Bounded: each round means some holder let go.
            for _ in range(100):
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                try:
                    outcome = self._lock_fd(fd, info, notify)
                except BaseException:
                    os.close(fd)
                    raise
                if outcome != "retry":
                    if outcome is not None:
                        os.close(fd)
                    return outcome
                os.close(fd)
            return _Refused(self.holder(), alive=True)

    def _lock_fd(self, fd: int, info: LockInfo, notify: Notify) -> _Refused | str | None:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            has_os_lock = True
        except BlockingIOError:
            return _Refused(self.holder(), alive=True)
        except OSError as exc:
            if exc.errno not in _NO_FLOCK:
                raise
            has_os_lock = False
        stat = os.fstat(fd)
        inode = (stat.st_dev, stat.st_ino)
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return "retry"
        if (now.st_dev, now.st_ino) != inode:
            return "retry"
        previous = LockInfo.from_json(_read_all(fd))
        if previous is not None and previous.id != info.id:
            if not has_os_lock and _may_run(previous):
                # FIXME(no flock): two runs may both find the file empty and both go on.
                return _Refused(previous, alive=False)
            notify(
                f"took over a stale lock left by pid {previous.pid} ({previous.operation}) "
                f"of {previous.who} since {previous.created}, which is no longer running"
            )
        data = info.to_json().encode("utf-8")
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)
        os.fsync(fd)
        _HELD[self._key] = _Held(fd, info, inode)
        return None

    def _release(self, held: _Held) -> None:
        try:
            now = os.stat(self.path)
            if (now.st_dev, now.st_ino) == held.inode:
                os.unlink(self.path)
        except FileNotFoundError:
            pass
        finally:
            del _HELD[self._key]
            os.close(held.fd)

    def _os_lock_held(self) -> bool:
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return False
        finally:
            os.close(fd)  # closing also drops the lock just taken
        return False


def _read_all(fd: int) -> str:
    chunks = []
    offset = 0
    while chunk := os.pread(fd, 65536, offset):
        chunks.append(chunk)
        offset += len(chunk)
    return b"".join(chunks).decode("utf-8", errors="replace")


def _may_run(info: LockInfo) -> bool:
    """False only when `info`'s holder is known to be gone: same host, no such pid."""
    if info.host != socket.gethostname():
        return True
    try:
        os.kill(info.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
