"""How a volume is shown (`api/v3/views/volumes.py` and the extensions that decorate
`show` and `detail`: `os-vol-tenant-attr`, `os-vol-mig-status-attr`,
`volume_image_metadata`, `os-vol-host-attr`), per microversion and per caller.

A create's answer is the view of a volume not yet read back from the database: its
`created_at` has microseconds, `updated_at` is null, `shared_targets` is still the
object's default (true) and no extension adds its fields; an update's answer carries no
extension fields either.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from stackplan.sim.cinder import seed
from stackplan.sim.cinder.common import Caller, stamp, stamp_exact
from stackplan.sim.cinder.lifecycle import Row
from stackplan.sim.cinder.paging import href_prefix
from stackplan.sim.wire import Request

# admin metadata shown to everyone with the user's own (api_utils._visible_admin_metadata_keys)
VISIBLE_ADMIN_METADATA = ("readonly", "attached_mode")


@dataclass(frozen=True, slots=True)
class View:
    """What a rendering depends on: the microversion, the caller, the link prefix."""

    version: tuple[int, int]
    who: Caller
    prefix: str  # e.g. http://host/volume/v3[/project]

    @staticmethod
    def of(req: Request, who: Caller) -> View:
        return View(req.version, who, href_prefix(req))

    def links(self, volume_id: str) -> list[dict[str, str]]:
        bookmark = self.prefix.replace("/volume/v3", "/volume", 1)
        return [
            {"rel": "self", "href": f"{self.prefix}/volumes/{volume_id}"},
            {"rel": "bookmark", "href": f"{bookmark}/volumes/{volume_id}"},
        ]


def user_metadata(conn: sqlite3.Connection, volume_id: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT key, value FROM cinder_volume_metadata WHERE volume_id = ? ORDER BY seq",
        (volume_id,),
    ).fetchall()
    return {r["key"]: r["value"] for r in rows}


def admin_metadata(conn: sqlite3.Connection, volume_id: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT key, value FROM cinder_admin_metadata WHERE volume_id = ? ORDER BY rowid",
        (volume_id,),
    ).fetchall()
    return {r["key"]: r["value"] for r in rows}


def image_metadata(conn: sqlite3.Connection, volume_id: str) -> dict[str, str]:
    rows = conn.execute(
        "SELECT key, value FROM cinder_image_metadata WHERE volume_id = ? ORDER BY seq",
        (volume_id,),
    ).fetchall()
    return {r["key"]: r["value"] for r in rows}


def attachments(conn: sqlite3.Connection, volume_id: str, who: Caller) -> list[dict[str, Any]]:
    """The attachments Cinder shows: attached ones only; `host_name` to the admin."""
    rows = conn.execute(
        "SELECT * FROM cinder_attachments WHERE volume_id = ? AND attach_status = 'attached'"
        " ORDER BY seq",
        (volume_id,),
    ).fetchall()
    return [
        {
            "id": volume_id,
            "attachment_id": r["id"],
            "volume_id": volume_id,
            "server_id": r["server_id"],
            "host_name": r["host_name"] if who.admin else None,
            "device": r["mountpoint"],
            "attached_at": stamp(r["attached"]),
        }
        for r in rows
    ]


def type_name(conn: sqlite3.Connection, type_id: str) -> str | None:
    row = conn.execute("SELECT name FROM cinder_types WHERE id = ?", (type_id,)).fetchone()
    return row["name"] if row else None


def summary(view: View, volume: Row) -> dict[str, Any]:
    return {"id": volume["id"], "name": volume["name"], "links": view.links(volume["id"])}


def detail(
    conn: sqlite3.Connection,
    view: View,
    volume: Row,
    fresh: bool = False,
    extensions: bool = True,
) -> dict[str, Any]:
    """The volume as `GET /volumes/{id}` shows it (`fresh`: as `POST /volumes` does)."""
    who, version, vid = view.who, view.version, volume["id"]
    metadata = user_metadata(conn, vid)
    shown_admin = admin_metadata(conn, vid)
    metadata.update({k: v for k, v in shown_admin.items() if k in VISIBLE_ADMIN_METADATA})
    body: dict[str, Any] = {
        "id": vid,
        "status": volume["status"],
        "size": volume["size"],
        "availability_zone": volume["availability_zone"],
        "created_at": stamp_exact(volume["created"]) if fresh else stamp(volume["created"]),
        "updated_at": None if fresh else stamp(volume["updated"]),
        "name": volume["name"],
        "description": volume["description"],
        "volume_type": type_name(conn, volume["volume_type_id"]),
        "snapshot_id": volume["snapshot_id"],
        "source_volid": volume["source_volid"],
        "metadata": metadata,
        "links": view.links(vid),
        "user_id": volume["user_id"],
        "bootable": "true" if volume["bootable"] else "false",
        "encrypted": False,
        "replication_status": None,
        "consistencygroup_id": None,
        "multiattach": bool(volume["multiattach"]),
        "attachments": attachments(conn, vid, who),
    }
    if who.admin:
        body["migration_status"] = volume["migration_status"]
    if version >= (3, 13):
        body["group_id"] = None
    if who.admin and version >= (3, 21):
        body["provider_id"] = None
    if version >= (3, 48):
        # A new volume object defaults to shared targets; LVM's backend reports none.
        body["shared_targets"] = fresh
        body["service_uuid"] = None if fresh else seed.SERVICE_UUID
    if who.admin and version >= (3, 61):
        body["cluster_name"] = None
    if version >= (3, 63):
        body["volume_type_id"] = volume["volume_type_id"]
    if version >= (3, 65):
        body["consumes_quota"] = True
    if extensions and not fresh:
        # Post-processing extensions run in reverse order of loading (alphabetical).
        body["os-vol-tenant-attr:tenant_id"] = volume["project_id"]
        if who.admin:
            body["os-vol-mig-status-attr:migstat"] = volume["migration_status"]
            body["os-vol-mig-status-attr:name_id"] = None
        image = image_metadata(conn, vid) if volume["status"] != "creating" else {}
        if image:
            body["volume_image_metadata"] = image
        if who.admin:
            body["os-vol-host-attr:host"] = volume["host"]
    return body
