"""`/volumes`: the HTTP side of `volumes.py` (`api/v3/volumes.py`): body checks per
microversion, the look-ups the controller makes before the create (type, snapshot,
source volume, group, image, backup, in that order), lists, shows, updates, deletes.
"""

from __future__ import annotations

import json
from typing import Any

from stackplan.sim import image_store
from stackplan.sim.cinder import listing, validation, views, volume_types, volumes
from stackplan.sim.cinder.common import (
    GENERIC_400,
    Caller,
    bad_request,
    bool_param,
    caller,
    is_uuid_like,
    policy_denied,
    volume_not_found,
)
from stackplan.sim.cinder.paging import page, parse_paging
from stackplan.sim.cinder.views import View
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

SORT_KEYS = frozenset(
    {
        "id", "name", "display_name", "status", "size", "availability_zone", "bootable",
        "created_at", "updated_at", "project_id", "user_id", "volume_type_id",
        "migration_status", "multiattach", "attach_status", "host",
    }
)  # fmt: skip
_SORT_COLUMNS = {"name": "name", "display_name": "name", "created_at": "created"}
_SORT_COLUMNS["updated_at"] = "updated"
_MULTIATTACH_REMOVED = (
    "multiattach parameter has been removed. The default behavior is to use multiattach "
    "enabled volume types. Contact your administrator to create a multiattach enabled "
    "volume type and use it to create multiattach volumes."
)


def read_body(req: Request) -> Any:
    """The JSON body; no body at all is the TypeError Cinder answers with a plain 400."""
    if not req.body:
        raise bad_request(GENERIC_400)
    try:
        return json.loads(req.body)
    except ValueError:
        raise bad_request("Malformed request body") from None


def _strip(fields: dict[str, Any]) -> dict[str, Any]:
    """`clean_name_and_description`, then the API names (`name` wins over `display_name`)."""
    for key in ("name", "description", "display_name", "display_description"):
        if isinstance(fields.get(key), str):
            fields[key] = fields[key].strip()
    for api, old in (("name", "display_name"), ("description", "display_description")):
        if old in fields and api not in fields:
            fields[api] = fields.pop(old)
        fields.pop(old, None)
    return fields


def find_image(ctx: Context, who: Caller, ref: Any) -> Image:
    """`_image_uuid_from_ref`: an id (or a URL ending in one) Glance shows the caller,
    else an image name that only one image visible to the caller has."""
    image_id = str(ref).split("/")[-1]
    if is_uuid_like(image_id):
        image = image_store.get(ctx, image_id)
        if image is not None and image_store.visible(image, who.project_id, who.admin):
            return image
    named = [
        i
        for i in image_store.every(ctx)
        if i.name == ref and image_store.listed(i, who.project_id, who.admin, None)
    ]
    if len(named) > 1:
        raise ApiError(409, f"Multiple matches found for '{ref}', use an ID to be more specific.")
    if named:
        return named[0]
    raise bad_request("Invalid image identifier or unable to access requested image.")


def _spec(ctx: Context, who: Caller, volume: dict[str, Any]) -> volumes.VolumeSpec:
    conn = ctx.db.read()
    if volume.get("volume_type"):
        volume_types.by_name_or_id(conn, volume["volume_type"])
    if volume.get("snapshot_id") is not None:
        raise ApiError(404, f"Snapshot {volume['snapshot_id']} could not be found.")
    if volume.get("source_volid") is not None:
        volumes.load(ctx, conn, who, volume["source_volid"])
    for key in ("consistencygroup_id", "group_id"):
        if volume.get(key) is not None:
            raise ApiError(404, f"Group {volume[key]} could not be found.")
    ref = volume.get("imageRef", volume.get("image_id"))
    image = find_image(ctx, who, ref) if ref is not None else None
    if volume.get("backup_id"):
        raise ApiError(404, f"Backup {volume['backup_id']} could not be found.")
    if bool_param(volume.get("multiattach") or False):
        raise bad_request(_MULTIATTACH_REMOVED)
    size = volume.get("size")
    return volumes.VolumeSpec(
        size=int(size) if size is not None else None,
        name=volume.get("name"),
        description=volume.get("description"),
        metadata=volume.get("metadata") or {},
        volume_type=volume.get("volume_type") or None,
        availability_zone=volume.get("availability_zone"),
        source_volid=volume.get("source_volid"),
        image=image,
    )


def create(ctx: Context, req: Request) -> Response:
    who = caller(req)
    body = read_body(req)
    validation.validate(validation.create_volume(req.version), body)
    spec = _spec(ctx, who, _strip(dict(body["volume"])))
    with ctx.db.write() as conn:
        volume = volumes.create(ctx, conn, who, spec)
        shown = views.detail(conn, View.of(req, who), volume, fresh=True)
    return Response(202, {"volume": shown})


def _sort_value(volume: dict[str, Any], key: str) -> Any:
    return volume[_SORT_COLUMNS.get(key, key)]


def _listing(ctx: Context, req: Request, detailed: bool) -> Response:
    who = caller(req)
    paging = parse_paging(req)
    conn = ctx.db.read()
    chosen, show_count = listing.select(conn, req, who, ctx.now())
    total = len(chosen) if show_count else None
    collection = "volumes/detail" if detailed else "volumes"
    items, links = page(
        req, paging, chosen, collection, _sort_value, SORT_KEYS, volume_not_found, total
    )
    view = View.of(req, who)
    shown = [views.detail(conn, view, v) if detailed else views.summary(view, v) for v in items]
    body: dict[str, Any] = {"volumes": shown}
    if links:
        body["volumes_links"] = links
    if total is not None:
        body["count"] = total
    return Response(200, body)


def list_volumes(ctx: Context, req: Request) -> Response:
    return _listing(ctx, req, detailed=False)


def list_detail(ctx: Context, req: Request) -> Response:
    return _listing(ctx, req, detailed=True)


def show(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    volume = volumes.load(ctx, conn, who, req.params["volume_id"])
    return Response(200, {"volume": views.detail(conn, View.of(req, who), volume)})


def update(ctx: Context, req: Request) -> Response:
    who = caller(req)
    body = read_body(req)
    validation.validate(validation.update_volume(req.version), body)
    fields = _strip(dict(body["volume"]))
    with ctx.db.write() as conn:
        before = volumes.update(ctx, conn, who, req.params["volume_id"], fields)
        # The answer is the object as loaded, with the new values: its updated_at is the
        # one it had before this update.
        after = {**before, **{k: v for k, v in fields.items() if k in ("name", "description")}}
        shown = views.detail(conn, View.of(req, who), after, extensions=False)
    return Response(200, {"volume": shown})


def delete(ctx: Context, req: Request) -> Response:
    who = caller(req)
    force = req.version >= (3, 23) and bool_param(req.arg("force") or False)
    volume_id = req.params["volume_id"]
    with ctx.db.write() as conn:
        volumes.load(ctx, conn, who, volume_id)
        if force and not who.admin:
            raise policy_denied("volume:force_delete")
        volumes.delete(ctx, conn, who, volume_id, force=force)
    return Response(202)
