"""Attachments, and the in-process interface the simulator's Nova will use for
`os-volume_attachments` and `block_device_mapping_v2` (Cinder's attachments API, which
Nova calls since Queens: `volume/api.py` `attachment_create`, `_attachment_reserve`,
`attachment_update`/`attachment_complete`, `attachment_delete`).

    schema.ready(ctx)                           # once, outside any transaction
    with ctx.db.write() as conn:
        who = Caller(project_id, user_id)       # common.Caller: the server's owner
        volume = create_boot_volume(ctx, conn, who, image_id, size=10, volume_type="ssd")
        attachment = attach_volume(ctx, conn, who, volume["id"], server_id, "/dev/vda")
        mine = attachments_of_server(conn, server_id)
        detach(ctx, conn, who, volume["id"], server_id)
        delete_volume(ctx, conn, who, volume["id"])   # delete_on_termination: Nova's to remember

Each function raises the `ApiError` the HTTP API would (VolumeNotFound 404, InvalidVolume
400, the quota 413s); the volume returned is the one `GET /volumes/{id}` shows at the
highest microversion, with links under `base` (empty by default). A volume is attached
once its create has finished: `reserve` refuses a `creating` one, as Cinder does (Nova
waits for `available` first); `attach_volume` reserves and completes in one step. A
volume made by `create_boot_volume` is `creating` for `--build-seconds`.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.cinder import schema, views, volumes
from stackplan.sim.cinder.common import Caller, invalid_volume, new_id, stamp
from stackplan.sim.cinder.versions import MAX_VERSION
from stackplan.sim.cinder.views import View
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError

DEFAULT_HOST = "sim-compute-0"


def shown(conn: sqlite3.Connection, who: Caller, volume: dict[str, Any], base: str = "") -> Any:
    return views.detail(conn, View(MAX_VERSION, who, f"{base}/volume/v3"), volume)


def _attachment(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "volume_id": row["volume_id"],
        "server_id": row["server_id"],
        "host_name": row["host_name"],
        "device": row["mountpoint"],
        "attach_status": row["attach_status"],
        "attach_mode": row["attach_mode"],
        "attached_at": stamp(row["attached"]),
    }


def _refresh_status(conn: sqlite3.Connection, volume_id: str, now: float) -> None:
    """`_get_statuses_from_attachments`: the first attach status in alphabetical order
    (attached > attaching > detaching > reserved) decides the volume's status."""
    row = conn.execute(
        "SELECT attach_status FROM cinder_attachments WHERE volume_id = ?"
        " AND attach_status NOT LIKE 'error_%' ORDER BY attach_status LIMIT 1",
        (volume_id,),
    ).fetchone()
    attach_status = row["attach_status"] if row else "detached"
    status = {"attached": "in-use", "detached": "available"}.get(attach_status, attach_status)
    conn.execute(
        "UPDATE cinder_volumes SET status = ?, attach_status = ?, updated = ? WHERE id = ?",
        (status, attach_status, now, volume_id),
    )


# -- the attachments API steps ---------------------------------------------------------


def reserve(
    ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str, server_id: str
) -> dict[str, Any]:
    """`attachment_create` without a connector: the volume goes `reserved`."""
    volume = volumes.load(ctx, conn, who, volume_id, write=True)
    status = volume["status"]
    if "error" in status:
        raise invalid_volume(
            "Volume attachments can not be created if the volume is in an error state. "
            f"The Volume {volume_id} currently has a status of: {status} "
        )
    allowed = ("available", "downloading")
    if volume["multiattach"]:
        allowed = ("available", "in-use", "downloading")
    if status not in allowed:
        same = conn.execute(
            "SELECT 1 FROM cinder_attachments WHERE volume_id = ? AND server_id = ?",
            (volume_id, server_id),
        ).fetchone()
        # Reattaching to the same server is how Nova moves an instance (LP 1694530).
        if not (status in ("in-use", "reserved") and same):
            raise invalid_volume(
                f"Volume {volume_id} status must be {' or '.join(allowed)} to reserve, but "
                f"the current status is {status}."
            )
    now = ctx.now()
    attachment_id = new_id()
    conn.execute(
        "INSERT INTO cinder_attachments (id, volume_id, server_id, attach_status, created)"
        " VALUES (?, ?, ?, 'reserved', ?)",
        (attachment_id, volume_id, server_id, now),
    )
    conn.execute(
        "UPDATE cinder_volumes SET status = 'reserved', updated = ? WHERE id = ?",
        (now, volume_id),
    )
    return get_attachment(conn, attachment_id)


def complete(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    attachment_id: str,
    device: str,
    host_name: str = DEFAULT_HOST,
    mode: str = "rw",
) -> dict[str, Any]:
    """`attachment_update` with a connector, then `attachment_complete`: attached."""
    attachment = get_attachment(conn, attachment_id)
    volume = volumes.load(ctx, conn, who, attachment["volume_id"], write=True)
    if "error" in volume["status"]:
        raise ApiError(
            409,
            "Resource conflict: Volume attachments can not be updated if the volume is in "
            f"an error state. The Volume {volume['id']} currently has a status of: "
            f"{volume['status']} ",
        )
    now = ctx.now()
    conn.execute(
        "UPDATE cinder_attachments SET attach_status = 'attached', mountpoint = ?,"
        " host_name = ?, attach_mode = ?, attached = ? WHERE id = ?",
        (device, host_name, mode, now, attachment_id),
    )
    _refresh_status(conn, volume["id"], now)
    return get_attachment(conn, attachment_id)


def remove_attachment(
    ctx: Context, conn: sqlite3.Connection, who: Caller, attachment_id: str
) -> None:
    """`attachment_delete`: the volume's status follows the attachments left."""
    attachment = get_attachment(conn, attachment_id)
    volumes.load(ctx, conn, who, attachment["volume_id"], write=True)
    conn.execute("DELETE FROM cinder_attachments WHERE id = ?", (attachment_id,))
    conn.execute(
        "DELETE FROM cinder_admin_metadata WHERE volume_id = ? AND key = 'attached_mode'",
        (attachment["volume_id"],),
    )
    _refresh_status(conn, attachment["volume_id"], ctx.now())


def get_attachment(conn: sqlite3.Connection, attachment_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM cinder_attachments WHERE id = ?", (attachment_id,))
    found = row.fetchone()
    if found is None:
        raise ApiError(
            404,
            f"Volume attachment could not be found with filter: attachment_id = {attachment_id}.",
        )
    return _attachment(found)


# -- what Nova calls -------------------------------------------------------------------


def attach_volume(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    volume_id: str,
    server_id: str,
    device: str,
    host_name: str = DEFAULT_HOST,
) -> dict[str, Any]:
    """Reserve and attach in one step (Nova's attach of a volume it has checked); the
    attachment (`id`, `volume_id`, `server_id`, `device`, `host_name`, `attach_status`).
    A second server on a non-multiattach volume is Cinder's 400 "Invalid volume: Volume
    <id> status must be available or downloading to reserve, but the current status is
    in-use."."""
    assert schema.is_ready(ctx), "call cinder.schema.ready(ctx) first"
    attachment = reserve(ctx, conn, who, volume_id, server_id)
    return complete(ctx, conn, who, attachment["id"], device, host_name)


def detach(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    volume_id: str,
    server_id: str | None = None,
    attachment_id: str | None = None,
) -> None:
    """Delete the volume's attachment to `server_id` (or the one named): the volume is
    `available` again when no attachment is left."""
    assert schema.is_ready(ctx), "call cinder.schema.ready(ctx) first"
    volumes.load(ctx, conn, who, volume_id, write=True)
    rows = conn.execute(
        "SELECT id FROM cinder_attachments WHERE volume_id = ? AND (? IS NULL OR server_id = ?)"
        " AND (? IS NULL OR id = ?) ORDER BY seq",
        (volume_id, server_id, server_id, attachment_id, attachment_id),
    ).fetchall()
    if not rows:
        raise invalid_volume(
            "Unable to detach volume. Volume status must be 'in-use' and attach_status "
            "must be 'attached' to detach."
        )
    for row in rows:
        remove_attachment(ctx, conn, who, row["id"])


def attachments_of_server(conn: sqlite3.Connection, server_id: str) -> list[dict[str, Any]]:
    """The server's attachments (any project's: Nova checks ownership), oldest first."""
    rows = conn.execute(
        "SELECT * FROM cinder_attachments WHERE server_id = ? ORDER BY seq", (server_id,)
    ).fetchall()
    return [_attachment(r) for r in rows]


def create_boot_volume(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    image: Image,
    size: int,
    volume_type: str | None = None,
    name: str = "",
    base: str = "",
) -> dict[str, Any]:
    """A volume made from `image` (an `image_store.Image` Nova has looked up), `creating`
    for `--build-seconds`, then `available` and bootable with its image metadata; with
    Cinder's checks (image active, size >= the image and its min_disk, quotas)."""
    assert schema.is_ready(ctx), "call cinder.schema.ready(ctx) first"
    spec = volumes.VolumeSpec(size=size, name=name, volume_type=volume_type, image=image)
    volume = volumes.create(ctx, conn, who, spec)
    return shown(conn, who, volume, base)


def get_volume(
    ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str, base: str = ""
) -> dict[str, Any]:
    """The volume as `GET /volumes/{id}` shows it, or VolumeNotFound (404)."""
    assert schema.is_ready(ctx), "call cinder.schema.ready(ctx) first"
    return shown(conn, who, volumes.load(ctx, conn, who, volume_id), base)


def delete_volume(ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str) -> None:
    """`DELETE /volumes/{id}` (detach first: an attached volume is Cinder's 400)."""
    assert schema.is_ready(ctx), "call cinder.schema.ready(ctx) first"
    volumes.delete(ctx, conn, who, volume_id)
