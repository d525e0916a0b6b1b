"""SQLite storage for what the API creates: tokens, servers, server groups, keypairs, images,
flavor extra specs, instance actions, and which Neutron ports each server has (Nova's
side; Neutron's tables are `neutron/schema`).

One connection per thread (sqlite3 objects are not shared), WAL so readers never wait
for the writer, and one process-wide lock around write transactions so 50 parallel
creates queue in Python instead of failing with `database is locked`.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_SCHEMA = """
CREATE TABLE IF NOT EXISTS tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    project_id TEXT,
    methods TEXT NOT NULL,
    audit_ids TEXT NOT NULL,
    issued_at REAL NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS servers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT,
    flavor_id TEXT NOT NULL,
    old_flavor_id TEXT,
    image_id TEXT NOT NULL,
    key_name TEXT,
    metadata TEXT NOT NULL,
    tags TEXT NOT NULL,
    security_groups TEXT NOT NULL,
    user_data TEXT,
    access_ipv4 TEXT NOT NULL DEFAULT '',
    access_ipv6 TEXT NOT NULL DEFAULT '',
    ip TEXT NOT NULL,
    mac TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    launched_at REAL,
    vm_state TEXT NOT NULL,
    task_state TEXT,
    task_until REAL,
    next_vm_state TEXT,
    gone_at REAL,
    resize_from TEXT,
    fault TEXT,
    host TEXT,
    server_group TEXT,
    locked INTEGER NOT NULL DEFAULT 0,
    locked_by TEXT,
    ports_due REAL,
    flavor_specs TEXT NOT NULL DEFAULT '{}',
    old_flavor_specs TEXT
);
CREATE INDEX IF NOT EXISTS servers_project ON servers (project_id, gone_at);
-- Nova's record of a server's ports (its network info cache), in the order the server
-- got them; `preserve` marks a port the user gave, unbound but kept when the server goes.
CREATE TABLE IF NOT EXISTS server_ports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id TEXT NOT NULL,
    port_id TEXT UNIQUE NOT NULL,
    preserve INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS server_ports_server ON server_ports (server_id);
CREATE TABLE IF NOT EXISTS server_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    policy TEXT NOT NULL,
    rules TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS keypairs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    public_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at REAL NOT NULL,
    UNIQUE (user_id, name)
);
-- Flavor extra specs (Nova's flavor_extra_specs): the seeded flavors start with none.
CREATE TABLE IF NOT EXISTS flavor_extra_specs (
    flavor_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (flavor_id, key)
);
-- Nova's instance actions and their events; times are epoch seconds, events may lie in
-- the future (a task's end) and are shown as they stand at read time.
CREATE TABLE IF NOT EXISTS instance_actions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    server_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    action TEXT NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    start REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS instance_actions_server ON instance_actions (server_id);
CREATE TABLE IF NOT EXISTS instance_action_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    action_seq INTEGER NOT NULL,
    event TEXT NOT NULL,
    start REAL NOT NULL,
    finish REAL NOT NULL,
    result TEXT NOT NULL,
    host TEXT NOT NULL,
    traceback TEXT
);
CREATE INDEX IF NOT EXISTS instance_action_events_action ON instance_action_events (action_seq);
CREATE TABLE IF NOT EXISTS images (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    body TEXT NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
"""
# Columns added after the first release, with their types (`--db` survives upgrades).
_LATER_COLUMNS = {
    "host": "TEXT",
    "server_group": "TEXT",
    "locked": "INTEGER NOT NULL DEFAULT 0",
    "locked_by": "TEXT",
    # when the server's ports next need Nova's attention (build end, task end, delete end)
    "ports_due": "REAL",
    # the extra specs of its flavor (and of the one a resize left), as Nova copies the
    # flavor into the instance when it boots or resizes
    "flavor_specs": "TEXT NOT NULL DEFAULT '{}'",
    "old_flavor_specs": "TEXT",
}


class Database:
    """A SQLite file shared by the request threads; `read()` and `write()` hand out cursors."""

    def __init__(self, path: str):
        self.path = path
        self._local = threading.local()
        self._write_lock = threading.Lock()
        with self._write_lock:
            conn = self._conn()
            conn.executescript(_SCHEMA)  # executescript commits by itself
            have = {row["name"] for row in conn.execute("PRAGMA table_info(servers)")}
            for column, kind in _LATER_COLUMNS.items():
                if column not in have:
                    conn.execute(f"ALTER TABLE servers ADD COLUMN {column} {kind}")
            conn.execute("CREATE INDEX IF NOT EXISTS servers_ports_due ON servers (ports_due)")

    def _conn(self) -> sqlite3.Connection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn = conn
        return conn

    def read(self) -> sqlite3.Connection:
        return self._conn()

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, serialised with every other writer of this process."""
        conn = self._conn()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
