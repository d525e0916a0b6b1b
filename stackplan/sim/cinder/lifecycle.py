"""Volume status computed from stored timestamps at read time, as the simulator's Nova
does (`stackplan/sim/lifecycle.py`): no threads, no timers.

A row holds the status it is in, when its task ends (`task_until`), the status it ends
in (`next_status`) and the columns the task changes when it ends (`pending`, JSON: the
new size of an extend, the new type of a retype, `bootable` of a create from an image).
A delete sets `gone_at`; from then on the volume is absent. Reads settle in memory;
writes call `load_settled`, which stores the settled row first, then change it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

Row = dict[str, Any]
# Statuses a task leaves behind when it is over; the rest are transitions.
BUSY = ("creating", "extending", "retyping", "deleting", "attaching", "detaching", "reserved")


def settle(row: sqlite3.Row | Row, now: float) -> Row | None:
    """The row as it is at `now`, or None when the volume is gone."""
    volume = dict(row)
    if volume["gone_at"] is not None and now >= volume["gone_at"]:
        return None
    until = volume["task_until"]
    if volume["next_status"] is not None and until is not None and now >= until:
        volume.update(json.loads(volume["pending"] or "{}"))
        volume["status"] = volume["next_status"]
        volume["updated"] = max(volume["updated"] or 0.0, until)
        volume["task_until"] = volume["next_status"] = volume["pending"] = None
    return volume


def is_settled(row: sqlite3.Row | Row, volume: Row) -> bool:
    return row["next_status"] == volume["next_status"]


_COLUMNS = ("status", "size", "volume_type_id", "bootable", "updated", "host", "migration_status")


def load_settled(conn: sqlite3.Connection, volume_id: str, now: float) -> Row | None:
    """The volume for a write: settled and stored so, or None when it is gone (its rows
    are removed then)."""
    row = conn.execute("SELECT * FROM cinder_volumes WHERE id = ?", (volume_id,)).fetchone()
    if row is None:
        return None
    volume = settle(row, now)
    if volume is None:
        remove(conn, volume_id)
        return None
    if not is_settled(row, volume):
        sets = ", ".join(f"{c} = ?" for c in _COLUMNS)
        conn.execute(
            f"UPDATE cinder_volumes SET {sets}, task_until = NULL, next_status = NULL,"
            " pending = NULL WHERE id = ?",
            (*(volume[c] for c in _COLUMNS), volume_id),
        )
    return volume


def start_task(
    conn: sqlite3.Connection,
    volume_id: str,
    status: str,
    until: float,
    then: str,
    pending: dict[str, Any] | None = None,
    now: float | None = None,
) -> None:
    """Put the volume in `status` until `until`, then in `then` with `pending` applied."""
    conn.execute(
        "UPDATE cinder_volumes SET status = ?, task_until = ?, next_status = ?, pending = ?,"
        " updated = COALESCE(?, updated) WHERE id = ?",
        (status, until, then, json.dumps(pending or {}), now, volume_id),
    )


def remove(conn: sqlite3.Connection, volume_id: str) -> None:
    """Drop a volume and everything that hangs off it."""
    for table in ("cinder_volume_metadata", "cinder_admin_metadata", "cinder_image_metadata"):
        conn.execute(f"DELETE FROM {table} WHERE volume_id = ?", (volume_id,))
    conn.execute("DELETE FROM cinder_attachments WHERE volume_id = ?", (volume_id,))
    conn.execute("DELETE FROM cinder_volumes WHERE id = ?", (volume_id,))


def purge(conn: sqlite3.Connection, now: float) -> None:
    """Remove the volumes whose delete has finished (called by writers)."""
    gone = conn.execute(
        "SELECT id FROM cinder_volumes WHERE gone_at IS NOT NULL AND gone_at <= ?", (now,)
    ).fetchall()
    for row in gone:
        remove(conn, row["id"])
