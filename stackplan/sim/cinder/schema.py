"""Cinder's tables in the simulator's SQLite file, created (and seeded with the volume
types) the first time a Cinder route or an in-process function needs them.

`ready(ctx)` must run outside a write transaction (it opens its own); it is cheap after
the first call for a database. With `--db`, the seed is written once.
"""

from __future__ import annotations

import threading
import weakref

from stackplan.sim.db import Database
from stackplan.sim.options import Context

_SCHEMA = """
CREATE TABLE IF NOT EXISTS cinder_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cinder_types (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    name TEXT UNIQUE NOT NULL,
    description TEXT,
    is_public INTEGER NOT NULL,
    extra_specs TEXT NOT NULL,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS cinder_volumes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    name TEXT,
    description TEXT,
    size INTEGER NOT NULL,
    status TEXT NOT NULL,
    previous_status TEXT,
    task_until REAL,
    next_status TEXT,
    pending TEXT,
    availability_zone TEXT NOT NULL,
    volume_type_id TEXT NOT NULL,
    bootable INTEGER NOT NULL DEFAULT 0,
    multiattach INTEGER NOT NULL DEFAULT 0,
    attach_status TEXT NOT NULL DEFAULT 'detached',
    source_volid TEXT,
    snapshot_id TEXT,
    host TEXT NOT NULL,
    migration_status TEXT,
    created REAL NOT NULL,
    updated REAL,
    gone_at REAL
);
CREATE INDEX IF NOT EXISTS cinder_volumes_project ON cinder_volumes (project_id);
CREATE TABLE IF NOT EXISTS cinder_volume_metadata (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    volume_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    UNIQUE (volume_id, key)
);
CREATE TABLE IF NOT EXISTS cinder_admin_metadata (
    volume_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (volume_id, key)
);
CREATE TABLE IF NOT EXISTS cinder_image_metadata (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    volume_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cinder_attachments (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    volume_id TEXT NOT NULL,
    server_id TEXT,
    host_name TEXT,
    mountpoint TEXT,
    attach_status TEXT NOT NULL,
    attach_mode TEXT NOT NULL DEFAULT 'rw',
    attached REAL,
    created REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS cinder_attachments_volume ON cinder_attachments (volume_id);
CREATE INDEX IF NOT EXISTS cinder_attachments_server ON cinder_attachments (server_id);
"""

_lock = threading.Lock()
_ready: weakref.WeakSet[Database] = weakref.WeakSet()


def ready(ctx: Context) -> None:
    """Create the tables and the volume types if this database has not got them yet."""
    if ctx.db in _ready:
        return
    with _lock:
        if ctx.db in _ready:
            return
        from stackplan.sim.cinder import seed

        with ctx.db.write() as conn:
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    conn.execute(statement)
            done = conn.execute("SELECT 1 FROM cinder_meta WHERE key = 'seeded'").fetchone()
            if done is None:
                seed.populate(ctx, conn)
                conn.execute("INSERT INTO cinder_meta VALUES ('seeded', '1')")
        _ready.add(ctx.db)


def is_ready(ctx: Context) -> bool:
    return ctx.db in _ready
