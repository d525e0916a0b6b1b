"""Glance v2 reads: version discovery, `GET /v2/images` with filters and paging, show.
Writes (create, update, delete, upload) live in `glance_write.py`."""

from __future__ import annotations

import uuid
from typing import Any

from stackplan.sim import identity, image_store
from stackplan.sim.image_store import Image
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
    project, admin = req.token.project_id, identity.is_admin(req.token)
    images = [
        i
        for i in image_store.every(ctx)
        if (names is None or i.name in names)
        and (statuses is None or i.status in statuses)
        and (ids is None or i.id in ids)
        and image_store.listed(i, project, admin, visibility)
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
        "images": [image_store.render(i) for i in page],
        "first": first,
        "schema": "/v2/schemas/images",
    }
    if page and len(page) == limit:
        body["next"] = "/v2/images?" + _qs({**query, "marker": page[-1].id})
    return Response(200, body)


_SORT_KEYS = {"name", "created_at", "updated_at", "status", "id", "size", "min_disk", "min_ram"}


def _sort_value(image: Image, key: str) -> tuple[bool, Any]:
    value = getattr(image, key)
    return (value is not None, value if value is not None else 0)


def _sorted(req: Request, images: list[Image]) -> list[Image]:
    """Glance's `sort_key`/`sort_dir` or `sort=key:dir,...`; default newest first."""
    keys = [(req.arg("sort_key") or "created_at", req.arg("sort_dir") or "desc")]
    if (sort := req.arg("sort")) is not None:
        keys = [(k, d or "asc") for k, _, d in (p.partition(":") for p in sort.split(","))]
    images = sorted(images, key=lambda i: i.id)  # stable sorts below keep ties in id order
    for key, direction in reversed(keys):
        if key not in _SORT_KEYS or direction not in ("asc", "desc"):
            raise ApiError(400, f"Invalid sort key or direction: {key}:{direction}")
        images = sorted(images, key=lambda i, k=key: _sort_value(i, k), reverse=direction == "desc")
    return images


def _qs(query: dict[str, str]) -> str:
    from urllib.parse import urlencode

    return urlencode(sorted(query.items()))


def find(ctx: Context, req: Request) -> Image:
    """The image named in the URL if the caller may see it; Glance's 404 otherwise."""
    image_id = req.params["image_id"]
    try:
        uuid.UUID(image_id)
    except ValueError:
        raise ApiError(404, f"No image found with ID {image_id}") from None
    image = image_store.get(ctx, image_id)
    if image is None or not image_store.visible(
        image, req.token.project_id, identity.is_admin(req.token)
    ):
        raise ApiError(404, f"No image found with ID {image_id}")
    return image


def show(ctx: Context, req: Request) -> Response:
    return Response(200, image_store.render(find(ctx, req)))
