"""Glance v2, read-only: version discovery, `GET /v2/images` with filters and paging, show."""

from __future__ import annotations

import uuid
from typing import Any

from stackplan.sim import seed
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_DEFAULT_LIMIT = 25
_MAX_LIMIT = 1000


def versions(ctx: Context, req: Request) -> Response:
    entries = [
        {
            "id": f"v2.{minor}",
            "status": "CURRENT" if minor == 17 else "SUPPORTED",
            "links": [{"rel": "self", "href": f"{req.base}/image/v2/"}],
        }
        for minor in range(17, -1, -1)
    ]
    return Response(300, {"versions": entries})


def render(image: seed.Image) -> dict[str, Any]:
    return {
        "id": image.id,
        "name": image.name,
        "status": image.status,
        "visibility": image.visibility,
        "protected": False,
        "os_hidden": False,
        "owner": seed.ADMIN_PROJECT.id,
        "size": image.size,
        "virtual_size": None,
        "min_disk": image.min_disk,
        "min_ram": image.min_ram,
        "disk_format": "qcow2",
        "container_format": "bare",
        "checksum": None,
        "os_hash_algo": None,
        "os_hash_value": None,
        "tags": [],
        "os_distro": image.os_distro,
        "created_at": image.created_at,
        "updated_at": image.created_at,
        "self": f"/v2/images/{image.id}",
        "file": f"/v2/images/{image.id}/file",
        "schema": "/v2/schemas/image",
    }


def _in_values(raw: str | None) -> set[str] | None:
    """Glance's `in:a,b` operator, or a single exact value."""
    if raw is None:
        return None
    if raw.startswith("in:"):
        return {v.strip().strip('"') for v in raw[3:].split(",")}
    return {raw}


def listing(ctx: Context, req: Request) -> Response:
    names = _in_values(req.arg("name"))
    statuses = _in_values(req.arg("status"))
    ids = _in_values(req.arg("id"))
    visibility = req.arg("visibility")
    if visibility not in (None, "public", "private", "shared", "community", "all"):
        raise ApiError(400, f"Invalid visibility value: {visibility}")
    images = [
        i
        for i in seed.IMAGES
        if (names is None or i.name in names)
        and (statuses is None or i.status in statuses)
        and (ids is None or i.id in ids)
        and (visibility in (None, "all") or i.visibility == visibility)
    ]
    images = _sorted(req, images)
    raw = req.arg("limit")
    if raw is not None and not raw.isdigit():
        raise ApiError(400, "limit param must be an integer")
    limit = min(int(raw), _MAX_LIMIT) if raw is not None else _DEFAULT_LIMIT
    start = 0
    if (marker := req.arg("marker")) is not None:
        index = next((n for n, i in enumerate(images) if i.id == marker), None)
        if index is None:
            raise ApiError(400, f"marker {marker} not found")
        start = index + 1
    page = images[start : start + limit]
    query = {k: v[-1] for k, v in req.query.items() if k != "marker"}
    first = "/v2/images" + ("?" + _qs(query) if query else "")
    body: dict[str, Any] = {
        "images": [render(i) for i in page],
        "first": first,
        "schema": "/v2/schemas/images",
    }
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + _qs({**query, "marker": page[-1].id})
    return Response(200, body)


_SORT_KEYS = {"name", "created_at", "updated_at", "status", "id", "size", "min_disk", "min_ram"}


def _sorted(req: Request, images: list[seed.Image]) -> list[seed.Image]:
    """Glance's `sort_key`/`sort_dir` or `sort=key:dir,...`; default newest first."""
    keys = [(req.arg("sort_key") or "created_at", req.arg("sort_dir") or "desc")]
    if (sort := req.arg("sort")) is not None:
        keys = [(k, d or "asc") for k, _, d in (p.partition(":") for p in sort.split(","))]
    images = sorted(images, key=lambda i: i.id)  # stable sorts below keep ties in id order
    for key, direction in reversed(keys):
        key = "created_at" if key == "updated_at" else key
        if key not in _SORT_KEYS or direction not in ("asc", "desc"):
            raise ApiError(400, f"Invalid sort key or direction: {key}:{direction}")
        images = sorted(
            images, key=lambda i, k=key: getattr(i, k) or 0, reverse=direction == "desc"
        )
    return images


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(sorted(query.items()))


def show(ctx: Context, req: Request) -> Response:
    image_id = req.params["image_id"]
    try:
        uuid.UUID(image_id)
    except ValueError:
        raise ApiError(404, f"No image found with ID {image_id}") from None
    image = seed.IMAGES_BY_ID.get(image_id)
    if image is None:
        raise ApiError(404, f"No image found with ID {image_id}")
    return Response(200, render(image))
