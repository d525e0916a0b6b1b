"""`/volumes/{id}/metadata[/{key}]` (`api/v3/volume_metadata.py`): GET, POST merges, PUT
replaces, PUT/GET/DELETE one key. From 3.15 the listing carries an `Etag` (the MD5 of its
JSON) and a PUT with a stale `If-Match` is 412, as Cinder's ETAGS microversion has it.
"""

from __future__ import annotations

import hashlib
import json
from urllib.parse import unquote

from stackplan.sim.cinder import validation, views, volumes
from stackplan.sim.cinder.common import bad_request, caller, invalid_volume
from stackplan.sim.cinder.volume_api import read_body
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response


def _key(req: Request) -> str:
    return unquote(req.params["key"])


def _not_found(volume_id: str, key: str) -> ApiError:
    return ApiError(404, f"Volume {volume_id} has no metadata with key {key}.")


def _etag(metadata: dict[str, str]) -> str:
    digest = hashlib.md5(json.dumps({"metadata": metadata}).encode(), usedforsecurity=False)
    return digest.hexdigest()


def _etag_matches(ctx: Context, req: Request) -> bool:
    """False for a stale `If-Match` from 3.15 on (Cinder then answers a bare 412)."""
    wanted = req.header("If-Match")
    if req.version < (3, 15) or not wanted:
        return True
    conn = ctx.db.read()
    volumes.load(ctx, conn, caller(req), req.params["volume_id"])
    tags = [t.strip().strip('"') for t in wanted.split(",")]
    return "*" in tags or _etag(views.user_metadata(conn, req.params["volume_id"])) in tags


def _writable(status: str, verb: str) -> None:
    if status in ("maintenance", "uploading"):
        raise invalid_volume(
            f"{verb} volume metadata is not allowed for volumes in {status} status."
        )


def index(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    volume = volumes.load(ctx, conn, caller(req), req.params["volume_id"])
    metadata = views.user_metadata(conn, volume["id"])
    headers = {"Etag": _etag(metadata)} if req.version >= (3, 15) else {}
    return Response(200, {"metadata": metadata}, headers)


def _write(ctx: Context, req: Request, replace: bool) -> Response:
    body = read_body(req)
    validation.validate(validation.METADATA_CREATE, body)
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, caller(req), req.params["volume_id"], write=True)
        _writable(volume["status"], "Updating")
        result = volumes.set_metadata(conn, volume["id"], body["metadata"], delete=replace)
    return Response(200, {"metadata": result})


def create(ctx: Context, req: Request) -> Response:
    return _write(ctx, req, replace=False)


def update_all(ctx: Context, req: Request) -> Response:
    if not _etag_matches(ctx, req):
        return Response(412)
    return _write(ctx, req, replace=True)


def show(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    volume = volumes.load(ctx, conn, caller(req), req.params["volume_id"])
    key = _key(req)
    metadata = views.user_metadata(conn, volume["id"])
    if key not in metadata:
        raise _not_found(volume["id"], key)
    return Response(200, {"meta": {key: metadata[key]}})


def update(ctx: Context, req: Request) -> Response:
    if not _etag_matches(ctx, req):
        return Response(412)
    body = read_body(req)
    validation.validate(validation.METADATA_UPDATE, body)
    key = _key(req)
    if key not in body["meta"]:
        raise bad_request("Request body and URI mismatch")
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, caller(req), req.params["volume_id"], write=True)
        _writable(volume["status"], "Updating")
        volumes.set_metadata(conn, volume["id"], body["meta"], delete=False)
    return Response(200, {"meta": body["meta"]})


def delete(ctx: Context, req: Request) -> Response:
    key = _key(req)
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, caller(req), req.params["volume_id"], write=True)
        if key not in views.user_metadata(conn, volume["id"]):
            raise _not_found(volume["id"], key)
        _writable(volume["status"], "Deleting")
        conn.execute(
            "DELETE FROM cinder_volume_metadata WHERE volume_id = ? AND key = ?",
            (volume["id"], key),
        )
    return Response(200)
