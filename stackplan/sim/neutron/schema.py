"""Neutron's tables in the simulator's SQLite file, created (and seeded with devstack's
topology) the first time a Neutron route or an in-process port function needs them.

`ready(ctx)` must run outside a write transaction (it opens its own); it is cheap after
the first call for a database. With `--db`, the seed is written once: a restart finds
the `seeded` marker and leaves the tables as the last run left them.
"""

from __future__ import annotations

import sqlite3
import threading
import weakref

from stackplan.sim.db import Database
from stackplan.sim.options import Context

_SCHEMA = """
CREATE TABLE IF NOT EXISTS neutron_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS neutron_networks (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL,
    status TEXT NOT NULL,
    shared INTEGER NOT NULL,
    external INTEGER NOT NULL,
    mtu INTEGER NOT NULL,
    port_security INTEGER NOT NULL,
    network_type TEXT NOT NULL,
    physical_network TEXT,
    segmentation_id INTEGER,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    is_default INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS neutron_subnets (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    ip_version INTEGER NOT NULL,
    cidr TEXT NOT NULL,
    gateway_ip TEXT,
    allocation_pools TEXT NOT NULL,
    dns_nameservers TEXT NOT NULL,
    host_routes TEXT NOT NULL,
    enable_dhcp INTEGER NOT NULL,
    ipv6_ra_mode TEXT,
    ipv6_address_mode TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS neutron_ports (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL,
    status TEXT NOT NULL,
    mac_address TEXT NOT NULL,
    device_id TEXT NOT NULL,
    device_owner TEXT NOT NULL,
    port_security INTEGER NOT NULL,
    address_pairs TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    vnic_type TEXT NOT NULL DEFAULT 'normal'
);
CREATE INDEX IF NOT EXISTS neutron_ports_network ON neutron_ports (network_id);
CREATE INDEX IF NOT EXISTS neutron_ports_device ON neutron_ports (device_id);
-- A new port's MAC is checked for a namesake on its network: by index, not by scan.
CREATE INDEX IF NOT EXISTS neutron_ports_mac ON neutron_ports (network_id, mac_address);
CREATE TABLE IF NOT EXISTS neutron_ip_allocations (
    port_id TEXT NOT NULL,
    subnet_id TEXT NOT NULL,
    network_id TEXT NOT NULL,
    ip_address TEXT NOT NULL,
    PRIMARY KEY (subnet_id, ip_address)
);
CREATE INDEX IF NOT EXISTS neutron_ip_port ON neutron_ip_allocations (port_id);
-- A subnet's allocations stamped anew (at random) by every change to them: the sorted
-- addresses that picking one reads are kept in memory while the stamp stays (ipam.py).
CREATE TABLE IF NOT EXISTS neutron_ipam_stamps (
    subnet_id TEXT PRIMARY KEY,
    stamp INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS neutron_port_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    port_id TEXT NOT NULL,
    group_id TEXT NOT NULL,
    UNIQUE (port_id, group_id)
);
CREATE TABLE IF NOT EXISTS neutron_routers (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    admin_state_up INTEGER NOT NULL,
    status TEXT NOT NULL,
    gw_port_id TEXT,
    enable_snat INTEGER NOT NULL DEFAULT 1,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS neutron_router_ports (
    router_id TEXT NOT NULL,
    port_id TEXT PRIMARY KEY,
    port_type TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS neutron_security_groups (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    stateful INTEGER NOT NULL,
    is_default INTEGER NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE UNIQUE INDEX IF NOT EXISTS neutron_default_group
    ON neutron_security_groups (project_id) WHERE is_default = 1;
CREATE TABLE IF NOT EXISTS neutron_security_group_rules (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    security_group_id TEXT NOT NULL,
    direction TEXT NOT NULL,
    ethertype TEXT NOT NULL,
    protocol TEXT,
    port_range_min INTEGER,
    port_range_max INTEGER,
    remote_ip_prefix TEXT,
    remote_group_id TEXT,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1,
    made_by_neutron INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS neutron_floatingips (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT UNIQUE NOT NULL,
    project_id TEXT NOT NULL,
    floating_network_id TEXT NOT NULL,
    floating_ip_address TEXT NOT NULL,
    floating_port_id TEXT NOT NULL,
    fixed_port_id TEXT,
    fixed_ip_address TEXT,
    router_id TEXT,
    status TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    revision INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS neutron_tags (
    kind TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    tag TEXT NOT NULL,
    PRIMARY KEY (kind, resource_id, tag)
);
"""

# Columns added after the first release: a `--db` file made before them gets them here.
_LATER_COLUMNS: dict[str, dict[str, str]] = {
    "neutron_networks": {"is_default": "INTEGER NOT NULL DEFAULT 0"},
    "neutron_ports": {"vnic_type": "TEXT NOT NULL DEFAULT 'normal'"},
    # the rules Neutron makes with a group (their description is null)
    "neutron_security_group_rules": {"made_by_neutron": "INTEGER NOT NULL DEFAULT 0"},
}

_lock = threading.Lock()
_ready: weakref.WeakSet[Database] = weakref.WeakSet()
# The thread making a database's tables: the seed calls back in (through the in-process
# port functions) and must not wait for itself; every other thread waits for the tables.
_making: weakref.WeakKeyDictionary[Database, int] = weakref.WeakKeyDictionary()

# Statements of their own: a trigger's body has semicolons.
_TRIGGERS = [
    f"""CREATE TRIGGER IF NOT EXISTS neutron_ipam_{event.lower()}d AFTER {event}
    ON neutron_ip_allocations BEGIN
    INSERT OR REPLACE INTO neutron_ipam_stamps VALUES ({row}.subnet_id, random());
    END"""
    for event, row in (("INSERT", "NEW"), ("DELETE", "OLD"), ("UPDATE", "OLD"))
]
_TRIGGERS.append(
    """CREATE TRIGGER IF NOT EXISTS neutron_ipam_moved AFTER UPDATE OF subnet_id
    ON neutron_ip_allocations BEGIN
    INSERT OR REPLACE INTO neutron_ipam_stamps VALUES (NEW.subnet_id, random());
    END"""
)


def create_tables(conn: sqlite3.Connection) -> None:
    """Neutron's tables, indexes and triggers, where they are not yet."""
    for statement in _SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)
    for trigger in _TRIGGERS:
        conn.execute(trigger)


def ready(ctx: Context) -> None:
    """Create the tables and the seed if this database has not got them yet."""
    if ctx.db in _ready or _making.get(ctx.db) == threading.get_ident():
        return
    with _lock:
        if ctx.db in _ready:
            return
        from stackplan.sim.neutron import seed

        _making[ctx.db] = threading.get_ident()
        try:
            with ctx.db.write() as conn:
                create_tables(conn)
                for table, columns in _LATER_COLUMNS.items():
                    have = {r["name"] for r in conn.execute(f"PRAGMA table_info({table})")}
                    for column, kind in columns.items():
                        if column not in have:
                            conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                done = conn.execute("SELECT 1 FROM neutron_meta WHERE key = 'seeded'").fetchone()
                if done is None:
                    seed.populate(ctx, conn)
                    conn.execute("INSERT INTO neutron_meta VALUES ('seeded', '1')")
            _ready.add(ctx.db)
        finally:
            _making.pop(ctx.db, None)


def is_ready(ctx: Context) -> bool:
    return ctx.db in _ready or _making.get(ctx.db) == threading.get_ident()
