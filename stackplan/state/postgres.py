"""`PostgresStateStore`: one stack's state in a PostgreSQL database, shared by a team and
its CI (DESIGN.md "Shared state").

Tables (in the backend's schema, made and migrated here; `schema_version` says which):
- `states`: one row per stack: lineage, serial, the state document (`jsonb`), updated_at.
- `state_versions`: the last `VERSIONS_KEPT` documents of each stack, by serial.
- `locks`: who holds a stack's lock (user, host, pid, command, since), for messages.
- `state_journal`: the deltas appended since the stack's document was written (layout 2),
  each naming the serial of the document it continues; a whole write drops them.

A write is a compare-and-swap in one transaction: it lands only on top of the serial this
store last read or wrote, so a runner that lost a race is refused (both serials named),
never written over. The lock is a session-level advisory lock keyed by the schema and
the stack, held by a connection of its own: it dies with its holder (a SIGKILLed runner's
lock is free at once), and one stack never blocks another.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import replace
from typing import Any

from stackplan.errors import ForeignStateError, LockError, StaleWriteError, StateError
from stackplan.state.file import dump_state, journal_entry, parse_journaled, parse_state
from stackplan.state.model import State
from stackplan.state.pg_url import BackendUrl
from stackplan.state.store import LockInfo, Notify, StateDelta, Version, held_error, log_notice

SCHEMA_VERSION = 2  # 2: state_journal
VERSIONS_KEPT = 50
# The journal is folded into the document once it outgrows the document this much.
JOURNAL_SLACK = 256 * 1024
POLL_SECONDS = 0.2
CONNECT_SECONDS = 10

_TABLES = """
CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL);
CREATE TABLE IF NOT EXISTS {s}.states (
    stack text PRIMARY KEY,
    lineage text NOT NULL,
    serial bigint NOT NULL,
    doc jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS {s}.state_versions (
    stack text NOT NULL,
    serial bigint NOT NULL,
    lineage text NOT NULL,
    doc jsonb NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (stack, serial)
);
CREATE TABLE IF NOT EXISTS {s}.locks (
    stack text PRIMARY KEY,
    info jsonb NOT NULL,
    backend_pid integer NOT NULL
);
CREATE TABLE IF NOT EXISTS {s}.state_journal (
    stack text NOT NULL,
    serial bigint NOT NULL,
    base bigint NOT NULL,
    entry text NOT NULL,
    PRIMARY KEY (stack, serial)
);
"""

# The stack's row locked for a write, with the serial its journal reached (NULL: none).
_CURRENT = (
    "SELECT s.lineage, s.serial, (SELECT max(j.serial) FROM {s}.state_journal j "
    "WHERE j.stack = s.stack AND j.base = s.serial), length(s.doc::text) "
    "FROM {s}.states s WHERE s.stack = %s FOR UPDATE"
)


def _psycopg() -> Any:
    import psycopg  # imported here: `stackplan --help` and local-file runs never pay for it

    return psycopg


class PostgresStateStore:
    """The state of `stack` in the database at `url`, in `schema`."""

    def __init__(self, url: BackendUrl, stack: str):
        self.url = url
        self.stack = stack
        self._schema = _ident(url.schema)
        self._key = _lock_key(url.schema, stack)
        self._seen: int | None = None  # the serial last read or written by this store
        # What this store last saw of the document and its journal, in bytes: when the
        # journal outgrows the document, the next write is a whole one.
        self._doc_size = 0
        self._journal_size = 0
        self._conn: Any = None
        self._guard = threading.Lock()
        self._lock_conn: Any = None
        self._lock_info: LockInfo | None = None

    def describe(self) -> str:
        return f"{self.url.safe} (schema {self.url.schema}, stack {self.stack})"

    # -- reading and writing ----------------------------------------------------------

    def read(self) -> State | None:
        with self._guard:
            try:
                conn = self._connection()
                with conn.transaction():
                    row = conn.execute(
                        self._sql("SELECT doc::text, serial FROM {s}.states WHERE stack = %s"),
                        (self.stack,),
                    ).fetchone()
                    entries = [] if row is None else self._entries(conn, row[1])
            except _psycopg().Error as exc:
                raise _lost(exc, self.describe(), "read the state") from exc
        if row is None:
            self._seen = None
            return None
        state, _ = parse_journaled(row[0], self.describe(), entries)
        self._seen = state.serial
        self._doc_size = len(row[0])
        self._journal_size = sum(len(e) for e in entries)
        return state

    def _entries(self, conn: Any, base: int) -> list[str]:
        rows = conn.execute(
            self._sql(
                "SELECT entry FROM {s}.state_journal WHERE stack = %s AND base = %s ORDER BY serial"
            ),
            (self.stack, base),
        ).fetchall()
        return [r[0] for r in rows]

    def needs_snapshot(self) -> bool:
        return self._seen is None or self._journal_size > 2 * self._doc_size + JOURNAL_SLACK

    def append(self, delta: StateDelta) -> None:
        """Add `delta` to the journal on top of the serial this store read: in one
        transaction, refused as `write` refuses."""
        with self._guard:
            conn = self._connection()
            try:
                with conn.transaction():
                    row = conn.execute(self._sql(_CURRENT), (self.stack,)).fetchone()
                    if row is None:
                        raise StateError("no state to append to", where=self.describe())
                    lineage, base, journaled, _ = row
                    current = journaled if journaled is not None else base
                    self._check(delta.lineage, delta.serial, lineage, current)
                    entry = journal_entry(delta, base)
                    conn.execute(
                        self._sql(
                            "INSERT INTO {s}.state_journal (stack, serial, base, entry) "
                            "VALUES (%s, %s, %s, %s)"
                        ),
                        (self.stack, delta.serial, base, entry),
                    )
            except _psycopg().Error as exc:
                raise _lost(exc, self.describe(), "write the state") from exc
            self._seen = delta.serial
            self._journal_size += len(entry)

    def _check(self, lineage: str, serial: int, stored_lineage: str, stored: int) -> None:
        """Refuse a write of `serial` made from another serial than the stored one."""
        where = self.describe()
        if lineage != stored_lineage:
            raise ForeignStateError(
                f"the state to write has lineage {lineage}, but the backend holds "
                f"lineage {stored_lineage} for stack {self.stack!r}: they are different "
                "histories",
                where=where,
                hint="check the backend setting and the stack name; `stackplan state "
                "migrate` and `state push` do not cross lineages",
                stored=stored_lineage,
                written=lineage,
            )
        expected = self._seen if self._seen is not None else serial - 1
        if stored != expected or serial <= stored:
            raise StaleWriteError(
                f"the state to write has serial {serial} (made from serial {expected}), "
                f"but the backend is at serial {stored}: another run wrote it meanwhile",
                where=where,
                hint="plan again: the next run starts from what the backend holds",
                stored=stored,
                written=serial,
            )

    def write(self, state: State) -> None:
        """Put `state` on top of the serial this store read: in one transaction, refused
        when another runner wrote in between, or when it is another lineage's."""
        text = dump_state(state)
        with self._guard:
            conn = self._connection()
            try:
                with conn.transaction():
                    row = conn.execute(self._sql(_CURRENT), (self.stack,)).fetchone()
                    if row is not None:
                        lineage, base, journaled, _ = row
                        current = journaled if journaled is not None else base
                        if self._unchanged(conn, state, (lineage, current), base):
                            return
                    self._store(conn, state, text, row is None)
            except _psycopg().Error as exc:
                raise _lost(exc, self.describe(), "write the state") from exc
            self._seen = state.serial
            self._doc_size = len(text)
            self._journal_size = 0

    def _unchanged(self, conn: Any, state: State, row: tuple[str, int], base: int) -> bool:
        lineage, serial = row
        same = state.lineage == lineage and state.serial == serial
        if same and self._stored(conn, base) == state:
            return True
        self._check(state.lineage, state.serial, lineage, serial)
        return False

    def _stored(self, conn: Any, base: int) -> State:
        (text,) = conn.execute(
            self._sql("SELECT doc::text FROM {s}.states WHERE stack = %s"), (self.stack,)
        ).fetchone()
        return parse_journaled(text, self.describe(), self._entries(conn, base))[0]

    def _store(self, conn: Any, state: State, text: str, new: bool) -> None:
        values = (self.stack, state.lineage, state.serial, text)
        if new:
            conn.execute(
                self._sql(
                    "INSERT INTO {s}.states (stack, lineage, serial, doc) "
                    "VALUES (%s, %s, %s, %s::jsonb)"
                ),
                values,
            )
        else:
            conn.execute(
                self._sql(
                    "UPDATE {s}.states SET lineage = %s, serial = %s, doc = %s::jsonb, "
                    "updated_at = now() WHERE stack = %s"
                ),
                (state.lineage, state.serial, text, self.stack),
            )
        # The version is copied from the row just written: the document crosses the wire
        # and is parsed into jsonb once, not twice.
        conn.execute(
            self._sql(
                "INSERT INTO {s}.state_versions (stack, lineage, serial, doc) "
                "SELECT stack, lineage, serial, doc FROM {s}.states WHERE stack = %s "
                "ON CONFLICT (stack, serial) DO NOTHING"
            ),
            (self.stack,),
        )
        conn.execute(
            self._sql("DELETE FROM {s}.state_versions WHERE stack = %s AND serial <= %s"),
            (self.stack, state.serial - VERSIONS_KEPT),
        )
        # The document now holds what the journal did (in this same transaction).
        conn.execute(self._sql("DELETE FROM {s}.state_journal WHERE stack = %s"), (self.stack,))

    def versions(self) -> list[Version]:
        """The kept versions, newest first."""
        with self._guard:
            rows = self._query_all(
                "SELECT serial, lineage, to_char(written_at AT TIME ZONE 'UTC', "
                "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), jsonb_array_length(doc->'resources') "
                "FROM {s}.state_versions WHERE stack = %s ORDER BY serial DESC"
            )
        return [Version(int(r[0]), str(r[1]), str(r[2]), int(r[3] or 0)) for r in rows]

    def read_version(self, serial: int) -> State | None:
        """The kept version of `serial`, or None if it is not kept (or never was)."""
        with self._guard:
            row = self._query(
                "SELECT doc::text FROM {s}.state_versions WHERE stack = %s AND serial = %s",
                serial,
            )
        return None if row is None else parse_state(row[0], f"{self.describe()} serial {serial}")

    # -- locking ------------------------------------------------------------------------

    def lock(self, info: LockInfo, timeout: float = 0.0, notify: Notify | None = None) -> str:
        notify = notify or log_notice
        if not info.path:
            info = replace(info, path=self.describe())
        start = time.monotonic()
        conn = _connect(self.url, self.describe())
        try:
            self._ensure_tables(conn)
            while True:
                got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
                if got and got[0]:
                    break
                waited = time.monotonic() - start
                if waited >= timeout:
                    raise held_error(self.describe(), self._holder(conn), timeout, alive=True)
                time.sleep(min(POLL_SECONDS, max(timeout - waited, 0.01)))
            left = self._holder(conn)
            if left is not None:  # its holder died without unlocking: its session is gone
                notify(
                    f"took over a stale lock left by pid {left.pid} on {left.host} "
                    f"({left.operation!r} since {left.created})"
                )
            conn.execute(
                self._sql(
                    "INSERT INTO {s}.locks (stack, info, backend_pid) "
                    "VALUES (%s, %s::jsonb, pg_backend_pid()) ON CONFLICT (stack) DO "
                    "UPDATE SET info = EXCLUDED.info, backend_pid = EXCLUDED.backend_pid"
                ),
                (self.stack, info.to_json()),
            )
        except BaseException:
            conn.close()
            raise
        with self._guard:
            if self._lock_conn is not None:  # this store already holds it: a second lock
                conn.close()
                raise held_error(self.describe(), self._lock_info, 0.0, alive=True)
            self._lock_conn, self._lock_info = conn, info
        return info.id

    def unlock(self, lock_id: str) -> None:
        with self._guard:
            conn, info = self._lock_conn, self._lock_info
            if conn is not None and info is not None and info.id == lock_id:
                self._lock_conn = self._lock_info = None
                try:
                    conn.execute(self._sql("DELETE FROM {s}.locks WHERE stack = %s"), (self.stack,))
                    conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
                except _psycopg().Error:
                    pass  # the connection is gone: so is the advisory lock
                finally:
                    conn.close()
                return
        holder = self.lock_holder()
        if holder is None:
            raise LockError(
                f"cannot unlock {lock_id}: the state is not locked", where=self.describe()
            )
        raise LockError(
            f"cannot unlock {lock_id}: the lock on the state is {holder.id}, held by "
            f"{holder.describe()}",
            where=self.describe(),
        )

    def force_unlock(
        self, lock_id: str, notify: Notify | None = None, *, force: bool = False
    ) -> None:
        """Clear the lock `lock_id`. Its holder's advisory lock lives as long as its
        session: a live holder is refused unless `force`, which ends that session (the
        holder's next state write fails and it stops)."""
        notify = notify or log_notice
        with self._guard:
            if self._lock_info is not None and self._lock_info.id == lock_id:
                pass
            else:
                self._force_other(lock_id, notify, force)
                return
        self.unlock(lock_id)

    def _force_other(self, lock_id: str, notify: Notify, force: bool) -> None:
        conn = _connect(self.url, self.describe())
        try:
            self._ensure_tables(conn)
            row = conn.execute(
                self._sql("SELECT info::text, backend_pid FROM {s}.locks WHERE stack = %s"),
                (self.stack,),
            ).fetchone()
            holder = LockInfo.from_json(row[0]) if row else None
            if holder is None or holder.id != lock_id:
                shown = f"the lock on the state is {holder.id}" if holder else "it is not locked"
                raise LockError(f"cannot unlock {lock_id}: {shown}", where=self.describe())
            alive = self._held_elsewhere(conn)
            if alive and not force:
                raise LockError(
                    f"lock {lock_id} is held by a run that is still going: {holder.describe()}",
                    where=self.describe(),
                    hint=f"wait for pid {holder.pid} on {holder.host} to finish, or stop it; "
                    "`stackplan state unlock --force` ends its database session",
                )
            if alive:
                conn.execute("SELECT pg_terminate_backend(%s)", (row[1],))
                notify(
                    f"ended the database session of pid {holder.pid} ({holder.operation}) "
                    "that held the lock: its next state write fails and it stops"
                )
            conn.execute(self._sql("DELETE FROM {s}.locks WHERE stack = %s"), (self.stack,))
        finally:
            conn.close()

    def lock_holder(self) -> LockInfo | None:
        conn = _connect(self.url, self.describe())
        try:
            self._ensure_tables(conn)
            return self._holder(conn)
        finally:
            conn.close()

    def _holder(self, conn: Any) -> LockInfo | None:
        row = conn.execute(
            self._sql("SELECT info::text FROM {s}.locks WHERE stack = %s"), (self.stack,)
        ).fetchone()
        return LockInfo.from_json(row[0]) if row else None

    def _held_elsewhere(self, conn: Any) -> bool:
        got = conn.execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        if got and got[0]:
            conn.execute("SELECT pg_advisory_unlock(%s)", (self._key,))
            return False
        return True

    def close(self) -> None:
        with self._guard:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # -- the connection and the tables ----------------------------------------------------

    def _sql(self, text: str) -> str:
        return text.replace("{s}", self._schema)

    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed:
            conn = _connect(self.url, self.describe())
            self._ensure_tables(conn)
            self._conn = conn
        return self._conn

    def _query(self, sql: str, *args: Any) -> tuple[Any, ...] | None:
        try:
            return self._connection().execute(self._sql(sql), (self.stack, *args)).fetchone()
        except _psycopg().Error as exc:
            raise _lost(exc, self.describe(), "read the state") from exc

    def _query_all(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return self._connection().execute(self._sql(sql), (self.stack,)).fetchall()
        except _psycopg().Error as exc:
            raise _lost(exc, self.describe(), "read the state") from exc

    def _ensure_tables(self, conn: Any) -> None:
        """Make the schema and tables on first use; refuse a newer layout than ours."""
        try:
            with conn.transaction():
                # Two runners may start on an empty database at once: one makes them.
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.url.schema, ""),))
                conn.execute(f"CREATE SCHEMA IF NOT EXISTS {self._schema}")
                for statement in self._sql(_TABLES).split(";"):
                    if statement.strip():
                        conn.execute(statement)
                row = conn.execute(
                    self._sql("SELECT max(version) FROM {s}.schema_version")
                ).fetchone()
                version = row[0] if row else None
                if version is None or version < SCHEMA_VERSION:
                    # Layout 1 lacks only the journal, made above: the layout moves up.
                    conn.execute(self._sql("DELETE FROM {s}.schema_version"))
                    conn.execute(
                        self._sql("INSERT INTO {s}.schema_version VALUES (%s)"), (SCHEMA_VERSION,)
                    )
                elif version > SCHEMA_VERSION:
                    raise StateError(
                        f"the backend's tables are at layout {version}; this stackplan "
                        f"knows layouts up to {SCHEMA_VERSION}",
                        where=self.describe(),
                        hint="upgrade stackplan",
                    )
        except _psycopg().Error as exc:
            raise _lost(exc, self.describe(), "prepare the backend's tables") from exc


def _connect(url: BackendUrl, where: str) -> Any:
    psycopg = _psycopg()
    try:
        return psycopg.connect(
            url.dsn, autocommit=True, connect_timeout=CONNECT_SECONDS, application_name="stackplan"
        )
    except psycopg.Error as exc:
        raise _lost(exc, where, "connect to the backend") from exc


def _lost(exc: Exception, where: str, doing: str) -> StateError:
    """The error for a database failure, without the URL's password (libpq's messages
    name host and user, never the password)."""
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return StateError(
        f"could not {doing}: {first}",
        where=where,
        hint="the state is as last written; check the database and run again",
    )


def _ident(name: str) -> str:
    """`name` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def _lock_key(schema: str, stack: str) -> int:
    """A signed 64-bit advisory lock key of the schema and the stack: stacks never share one."""
    digest = hashlib.sha256(json.dumps([schema, stack]).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)
