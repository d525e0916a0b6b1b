"""Glance's images as one record type: the seeded ones (`seed.py`) and those the API made
or changed (the `images` table). A stored row shadows the seed with the same id, so a
seeded image renamed through the API keeps its id and shows its new name everywhere.
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from stackplan.sim import seed
from stackplan.sim.options import Context

# The base properties Glance keeps in columns; anything else is a custom property.
BASE = (
    "id",
    "name",
    "status",
    "visibility",
    "protected",
    "os_hidden",
    "owner",
    "size",
    "virtual_size",
    "min_disk",
    "min_ram",
    "disk_format",
    "container_format",
    "checksum",
    "os_hash_algo",
    "os_hash_value",
    "tags",
    "created_at",
    "updated_at",
)


@dataclass(frozen=True, slots=True)
class Image:
    id: str
    name: str | None
    status: str
    owner: str
    created_at: str
    updated_at: str
    visibility: str = "shared"  # Glance's default since the `shared` visibility exists
    protected: bool = False
    os_hidden: bool = False
    size: int | None = None
    virtual_size: int | None = None
    min_disk: int = 0
    min_ram: int = 0
    disk_format: str | None = None
    container_format: str | None = None
    checksum: str | None = None
    os_hash_algo: str | None = None
    os_hash_value: str | None = None
    tags: tuple[str, ...] = ()
    properties: dict[str, str] = field(default_factory=dict)

    def changed(self, **fields: Any) -> Image:
        return replace(self, **fields)


def now_iso(t: float | None = None) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _from_seed(i: seed.Image) -> Image:
    return Image(
        id=i.id,
        name=i.name,
        status=i.status,
        owner=seed.ADMIN_PROJECT.id,
        created_at=i.created_at,
        updated_at=i.created_at,
        visibility=i.visibility,
        size=i.size,
        min_disk=i.min_disk,
        min_ram=i.min_ram,
        disk_format="qcow2",
        container_format="bare",
        properties={
            k: v
            for k, v in (("os_distro", i.os_distro), ("auto_disk_config", i.auto_disk_config))
            if v
        },
    )


_SEEDED = {i.id: _from_seed(i) for i in seed.IMAGES}


def _decode(body: str) -> Image:
    data = json.loads(body)
    data["tags"] = tuple(data["tags"])
    return Image(**data)


def get(ctx: Context, image_id: str, conn: sqlite3.Connection | None = None) -> Image | None:
    """The image as it is now, or None if it never existed or was deleted."""
    row = (
        (conn or ctx.db.read())
        .execute("SELECT body, deleted FROM images WHERE id = ?", (image_id,))
        .fetchone()
    )
    if row is None:
        return _SEEDED.get(image_id)
    return None if row["deleted"] else _decode(row["body"])


def every(ctx: Context) -> list[Image]:
    """Every image not deleted: the seeds (as changed) in seed order, then the created ones."""
    stored: dict[str, tuple[Image | None, int]] = {}
    for row in ctx.db.read().execute("SELECT seq, id, body, deleted FROM images ORDER BY seq"):
        stored[row["id"]] = (None if row["deleted"] else _decode(row["body"]), row["seq"])
    images = [stored[i][0] if i in stored else image for i, image in _SEEDED.items()]
    images += [image for i, (image, _) in stored.items() if i not in _SEEDED]
    return [i for i in images if i is not None]


def exists(ctx: Context, image_id: str, conn: sqlite3.Connection) -> bool:
    """Whether the id was ever taken (Glance never reuses a deleted image's id)."""
    if image_id in _SEEDED:
        return True
    return conn.execute("SELECT 1 FROM images WHERE id = ?", (image_id,)).fetchone() is not None


def save(conn: sqlite3.Connection, image: Image, deleted: bool = False) -> None:
    data = asdict(image)
    data["tags"] = list(image.tags)
    conn.execute(
        "INSERT INTO images (id, body, deleted) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
        " SET body = excluded.body, deleted = excluded.deleted",
        (image.id, json.dumps(data), int(deleted)),
    )


# -- who sees what ---------------------------------------------------------------------


def visible(image: Image, project_id: str, admin: bool) -> bool:
    """Glance's get_image: public and community images are everyone's to read."""
    return admin or image.owner == project_id or image.visibility in ("public", "community")


def listed(image: Image, project_id: str, admin: bool, visibility: str | None) -> bool:
    """Glance's default list: public plus the project's own; community only when asked for,
    hidden images never (`os_hidden`); an admin lists every project's images."""
    if visibility not in (None, "all") and image.visibility != visibility:
        return False
    if image.os_hidden:
        return False
    if admin or image.owner == project_id:
        return True
    if image.visibility == "community":
        return visibility == "community"
    return image.visibility == "public"


def render(image: Image) -> dict[str, Any]:
    """Glance v2's image document: base properties, then custom ones at the top level."""
    body: dict[str, Any] = {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": image.protected,
        "os_hidden": image.os_hidden,
        "owner": image.owner,
        "size": image.size,
        "virtual_size": image.virtual_size,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "disk_format": image.disk_format,
        "container_format": image.container_format,
        "checksum": image.checksum,
        "os_hash_algo": image.os_hash_algo,
        "os_hash_value": image.os_hash_value,
        "tags": list(image.tags),
        **image.properties,
        "created_at": image.created_at,
        "updated_at": image.updated_at,
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }
    return body
