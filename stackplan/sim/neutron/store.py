"""Row helpers shared by the resource modules: standard attributes (description,
timestamps, revision number, tags), revision bumps, and who may see what.

Visibility follows Neutron's default policies: the admin sees every project's
resources; a member sees its own, plus shared and external networks (and their
subnets), and the ports on networks it owns.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.neutron.common import Caller, stamp

# tag kinds: the collection names the tag URLs use
KINDS = {
    "networks": "neutron_networks",
    "subnets": "neutron_subnets",
    "ports": "neutron_ports",
    "routers": "neutron_routers",
    "security-groups": "neutron_security_groups",
    "floatingips": "neutron_floatingips",
}


def tags_of(conn: sqlite3.Connection, kind: str, resource_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT tag FROM neutron_tags WHERE kind = ? AND resource_id = ? ORDER BY tag",
        (kind, resource_id),
    ).fetchall()
    return [r["tag"] for r in rows]


def drop_tags(conn: sqlite3.Connection, kind: str, resource_id: str) -> None:
    conn.execute("DELETE FROM neutron_tags WHERE kind = ? AND resource_id = ?", (kind, resource_id))


def add_tags(conn: sqlite3.Connection, kind: str, resource_id: str, tags: list[str]) -> None:
    conn.executemany(
        "INSERT OR IGNORE INTO neutron_tags VALUES (?, ?, ?)",
        [(kind, resource_id, t) for t in tags],
    )


def standard(conn: sqlite3.Connection, kind: str | None, row: sqlite3.Row) -> dict[str, Any]:
    """description, tags, created_at, updated_at, revision_number of a row."""
    body: dict[str, Any] = {"description": row["description"]}
    if kind is not None:
        body["tags"] = tags_of(conn, kind, row["id"])
    body.update(
        {
            "created_at": stamp(row["created"]),
            "updated_at": stamp(row["updated"]),
            "revision_number": row["revision"],
        }
    )
    return body


def owner(project_id: str) -> dict[str, str]:
    return {"tenant_id": project_id, "project_id": project_id}


def bump(conn: sqlite3.Connection, table: str, resource_id: str, now: float) -> None:
    """A change to the resource or to what hangs off it: revision + 1, updated_at now."""
    conn.execute(
        f"UPDATE {table} SET revision = revision + 1, updated = ? WHERE id = ?",
        (now, resource_id),
    )


def get(conn: sqlite3.Connection, table: str, resource_id: str) -> sqlite3.Row | None:
    return conn.execute(f"SELECT * FROM {table} WHERE id = ?", (resource_id,)).fetchone()


def network_visible(who: Caller, net: sqlite3.Row) -> bool:
    return who.owns(net["project_id"]) or bool(net["shared"]) or bool(net["external"])


def port_visible(who: Caller, port: sqlite3.Row, net: sqlite3.Row | None) -> bool:
    return who.owns(port["project_id"]) or (net is not None and who.owns(net["project_id"]))


def update_row(
    conn: sqlite3.Connection, table: str, resource_id: str, values: dict[str, Any], now: float
) -> None:
    """Set `values` (column -> value) and bump the revision, in one statement."""
    sets = "".join(f"{column} = ?, " for column in values)
    conn.execute(
        f"UPDATE {table} SET {sets}revision = revision + 1, updated = ? WHERE id = ?",
        (*values.values(), now, resource_id),
    )
