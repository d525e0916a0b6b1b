"""Volumes: load, create, update and delete, with the checks of `cinder/volume/api.py`
and its create flow (`volume/flows/api/create_volume.py`), in the order Cinder makes
them. The HTTP handlers (`volume_api.py`) and the in-process interface for Nova
(`attach.py`) both call these, inside the caller's write transaction.

A create lasts `--build-seconds` (`creating`, then `available`); a delete
`--delete-seconds` (`deleting`, then gone). Metadata `sim:fail` (`create`, `extend`,
`delete`, comma-separated) makes that operation end in `error`, `error_extending`,
`error_deleting` instead, so clients can see Cinder's failure states.
"""

from __future__ import annotations

import json
import math
import sqlite3
from dataclasses import dataclass, field
from typing import Any

from stackplan.sim import image_store
from stackplan.sim.cinder import lifecycle, quotas, seed, volume_types
from stackplan.sim.cinder.common import (
    GENERIC_400,
    Caller,
    bad_request,
    invalid_input,
    invalid_volume,
    new_id,
    volume_not_found,
)
from stackplan.sim.cinder.lifecycle import Row
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError

FAIL_KEY = "sim:fail"
GiB = 1024**3
DELETABLE = ("available", "error", "error_restoring", "error_extending", "error_managing")
_DELETE_REFUSED = (
    "Volume status must be available or error or error_restoring or error_extending or "
    "error_managing and must not be migrating, attached, belong to a group, have "
    "snapshots, awaiting a transfer, or be disassociated from snapshots after volume "
    "transfer."
)
# Cinder formats an empty status clause into this one, hence the two spaces.
_FORCE_DELETE_REFUSED = (
    "Volume  must not be migrating, attached, belong to a group, have snapshots, "
    "awaiting a transfer, or be disassociated from snapshots after volume transfer."
)
IMAGE_ATTRIBUTES = ("checksum", "container_format", "disk_format", "min_disk", "min_ram", "size")


# -- reading -------------------------------------------------------------------------------


def visible_rows(conn: sqlite3.Connection, who: Caller, everyone: bool) -> list[sqlite3.Row]:
    """The caller's volumes (every project's with `everyone`, for the admin), oldest first."""
    if everyone and who.admin:
        return conn.execute("SELECT * FROM cinder_volumes ORDER BY seq").fetchall()
    return conn.execute(
        "SELECT * FROM cinder_volumes WHERE project_id = ? ORDER BY seq", (who.project_id,)
    ).fetchall()


def load(
    ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str, write: bool = False
) -> Row:
    """The volume as it is now, or VolumeNotFound for what `who` may not see. With `write`
    the settled state is stored first (call it inside `ctx.db.write()`)."""
    now = ctx.now()
    if write:
        volume = lifecycle.load_settled(conn, volume_id, now)
    else:
        row = conn.execute("SELECT * FROM cinder_volumes WHERE id = ?", (volume_id,)).fetchone()
        volume = lifecycle.settle(row, now) if row is not None else None
    if volume is None or not who.sees(volume["project_id"]):
        raise volume_not_found(volume_id)
    return volume


def fails(conn: sqlite3.Connection, volume_id: str, operation: str) -> bool:
    """Whether metadata `sim:fail` asks for `operation` to fail."""
    row = conn.execute(
        "SELECT value FROM cinder_volume_metadata WHERE volume_id = ? AND key = ?",
        (volume_id, FAIL_KEY),
    ).fetchone()
    return row is not None and operation in [v.strip() for v in row["value"].split(",")]


def set_metadata(
    conn: sqlite3.Connection, volume_id: str, metadata: dict[str, str], delete: bool
) -> dict[str, str]:
    """Cinder's `_volume_x_metadata_update`: merge (or replace, with `delete`); the result
    lists changed keys, then new ones, then the unchanged ones, as Cinder returns it."""
    old = {
        r["key"]: r["value"]
        for r in conn.execute(
            "SELECT key, value FROM cinder_volume_metadata WHERE volume_id = ? ORDER BY seq",
            (volume_id,),
        )
    }
    if delete:
        for key in old:
            if key not in metadata:
                conn.execute(
                    "DELETE FROM cinder_volume_metadata WHERE volume_id = ? AND key = ?",
                    (volume_id, key),
                )
        old = {k: v for k, v in old.items() if k in metadata}
    changed = {k: metadata[k] for k in old if k in metadata and metadata[k] != old[k]}
    added = {k: v for k, v in metadata.items() if k not in old}
    for key, value in changed.items():
        conn.execute(
            "UPDATE cinder_volume_metadata SET value = ? WHERE volume_id = ? AND key = ?",
            (value, volume_id, key),
        )
    conn.executemany(
        "INSERT INTO cinder_volume_metadata (volume_id, key, value) VALUES (?, ?, ?)",
        [(volume_id, k, v) for k, v in added.items()],
    )
    unchanged = {k: v for k, v in old.items() if k not in changed}
    return {**changed, **added, **unchanged}


# -- create --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VolumeSpec:
    """A create, after the API layer's look-ups: the type as asked for (name or id), the
    source volume's id, the image found in Glance."""

    size: int | None
    name: str | None = None
    description: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    volume_type: str | None = None
    availability_zone: str | None = None
    source_volid: str | None = None
    image: Image | None = None


def _check_image(image: Image, size: int) -> None:
    """`volume_utils.check_image_metadata`: active, fits, meets min_disk and virtual size."""
    if image.status != "active":
        raise invalid_input(f"Image {image.id} is not active.")
    image_gb = ((image.size or 0) + GiB - 1) // GiB
    if image_gb > size:
        raise invalid_input(
            f"Size of specified image {image_gb}GB is larger than volume size {size}GB."
        )
    if size < image.min_disk:
        raise invalid_input(
            f"Volume size {size}GB cannot be smaller than the image minDisk size "
            f"{image.min_disk}GB."
        )
    if image.virtual_size:
        virtual_gb = math.ceil(image.virtual_size / GiB)
        if virtual_gb > size:
            raise ApiError(
                400,
                f"Image {image.id} is unacceptable: Image virtual size is {virtual_gb}GB and "
                f"doesn't fit in a volume of size {size}GB.",
            )


def image_metadata(image: Image) -> dict[str, str]:
    """`volume_utils.get_volume_image_metadata`, as the manager stores it (strings)."""
    found: dict[str, Any] = {k: v for k, v in image.properties.items() if v is not None}
    found["image_id"] = image.id
    if image.name:
        found["image_name"] = image.name
    glance = image_store.render(image)
    for key in IMAGE_ATTRIBUTES:
        if glance.get(key) is not None:
            found[key] = glance[key]
    found["signature_verified"] = False  # the manager records the (skipped) verification
    return {k: str(v) for k, v in found.items()}


def create(ctx: Context, conn: sqlite3.Connection, who: Caller, spec: VolumeSpec) -> Row:
    """Create a volume (status `creating`); the stored row. Raises Cinder's API errors."""
    vtype = volume_types.by_name_or_id(conn, spec.volume_type) if spec.volume_type else None
    source = load(ctx, conn, who, spec.source_volid) if spec.source_volid else None
    size = spec.size if spec.size is not None else (source["size"] if source else None)
    if size is None:
        raise bad_request(GENERIC_400)  # Cinder fails on a None size with a TypeError
    if source is not None and spec.image is not None:
        raise invalid_input("May specify only one of backup, imageRef, snapshot, source volume")
    if source is not None:
        if source["status"] not in ("available", "in-use"):
            raise invalid_volume(
                "Originating source volume status must be one of 'available, in-use' values"
            )
        if size < source["size"]:
            raise invalid_input(
                f"Volume size '{size}'GB cannot be smaller than original volume size  "
                f"{source['size']}GB. They must be >= original volume size."
            )
    if spec.image is not None:
        _check_image(spec.image, size)
    if vtype is None:
        vtype = (
            volume_types.by_id(conn, source["volume_type_id"])
            if source
            else volume_types.default(conn)
        )
    zone = spec.availability_zone or (source["availability_zone"] if source else seed.ZONE)
    if zone != seed.ZONE:
        raise bad_request(f"Availability zone '{zone}' is invalid.")
    quotas.reserve(
        ctx,
        conn,
        who.project_id,
        quotas.type_deltas(vtype["name"], volumes=1, gigabytes=size),
        size,
    )
    volume_id, now = new_id(), ctx.now()
    conn.execute(
        "INSERT INTO cinder_volumes (id, project_id, user_id, name, description, size, status,"
        " availability_zone, volume_type_id, bootable, source_volid, host, created)"
        " VALUES (?, ?, ?, ?, ?, ?, 'creating', ?, ?, ?, ?, ?, ?)",
        (
            volume_id,
            who.project_id,
            who.user_id,
            spec.name,
            spec.description,
            size,
            zone,
            vtype["id"],
            int(bool(source and source["bootable"])),
            source["id"] if source else None,
            seed.HOST,
            now,
        ),
    )
    set_metadata(conn, volume_id, spec.metadata, delete=False)
    failed = fails(conn, volume_id, "create")
    pending: dict[str, Any] = {}
    if spec.image is not None and not failed:
        pending["bootable"] = 1  # the manager marks a volume made from an image bootable
        conn.executemany(
            "INSERT INTO cinder_image_metadata (volume_id, key, value) VALUES (?, ?, ?)",
            [(volume_id, k, v) for k, v in image_metadata(spec.image).items()],
        )
    if source is not None and not failed:
        _copy_image_metadata(conn, source["id"], volume_id)
    until = now + ctx.options.build_seconds
    then = "error" if failed else "available"
    lifecycle.start_task(conn, volume_id, "creating", until, then, pending)
    return load(ctx, conn, who, volume_id)


def _copy_image_metadata(conn: sqlite3.Connection, source_id: str, volume_id: str) -> None:
    """A clone keeps its source's Glance metadata (`volume_glance_metadata_copy_...`)."""
    conn.execute(
        "INSERT INTO cinder_image_metadata (volume_id, key, value)"
        " SELECT ?, key, value FROM cinder_image_metadata WHERE volume_id = ? ORDER BY seq",
        (volume_id, source_id),
    )


# -- update and delete ---------------------------------------------------------------------


def update(
    ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str, fields: dict[str, Any]
) -> Row:
    """`PUT /volumes/{id}`: name, description, and metadata (which replaces the user's)."""
    volume = load(ctx, conn, who, volume_id, write=True)
    if volume["status"] == "maintenance":
        raise invalid_volume("The volume cannot be updated during maintenance.")
    values = {k: fields[k] for k in ("name", "description") if k in fields}
    if "metadata" in fields:
        set_metadata(conn, volume_id, fields["metadata"], delete=True)
    sets = "".join(f"{k} = ?, " for k in values)
    conn.execute(
        f"UPDATE cinder_volumes SET {sets}updated = ? WHERE id = ?",
        (*values.values(), ctx.now(), volume_id),
    )
    return volume


def delete(
    ctx: Context, conn: sqlite3.Connection, who: Caller, volume_id: str, force: bool = False
) -> None:
    """Start a delete: `deleting` for `--delete-seconds`, then gone (or `error_deleting`)."""
    volume = load(ctx, conn, who, volume_id, write=True)
    allowed = (
        volume["attach_status"] != "attached"
        and volume["migration_status"] in (None, "deleting", "error", "success")
        and (force or volume["status"] in DELETABLE)
    )
    if not allowed:
        raise invalid_volume(_FORCE_DELETE_REFUSED if force else _DELETE_REFUSED)
    now = ctx.now()
    until = now + ctx.options.delete_seconds
    if fails(conn, volume_id, "delete"):
        lifecycle.start_task(conn, volume_id, "deleting", until, "error_deleting", now=now)
        return
    conn.execute(
        "UPDATE cinder_volumes SET status = 'deleting', task_until = NULL, next_status = NULL,"
        " pending = NULL, gone_at = ?, updated = ? WHERE id = ?",
        (until, now, volume_id),
    )
    lifecycle.purge(conn, now)


def pending_of(volume: Row) -> dict[str, Any]:
    return json.loads(volume["pending"] or "{}")
