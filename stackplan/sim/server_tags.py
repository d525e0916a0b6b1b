"""`/servers/{id}/tags[/{tag}]` (microversion 2.26+), as Nova's `server_tags.py` serves
them: the instance mapping first (an unknown id is "has no mapping to a cell"), then the
policy on the server's project (403 for another project's member), then the instance
(404 once deleted). Writes need vm_state active, paused, suspended or stopped (409
otherwise; the lock does not guard tags). Tags come back in the order Nova's database
returns them: its primary key's, sorted.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any
from urllib.parse import quote, unquote

from stackplan.sim import identity, lifecycle
from stackplan.sim.cinder.validation import Schema, validate
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

MAX_TAGS = 50  # objects.instance.MAX_TAG_COUNT
_WRITABLE = ("active", "paused", "suspended", "stopped")
TAG: Schema = {"type": "string", "pattern": "^[^,/]*$", "minLength": 1, "maxLength": 60}
_UPDATE_ALL: Schema = {
    "type": "object",
    "properties": {"tags": {"type": "array", "items": TAG, "maxItems": MAX_TAGS}},
    "required": ["tags"],
    "additionalProperties": False,
}


def _server(
    ctx: Context, req: Request, rule: str, conn: sqlite3.Connection | None = None
) -> sqlite3.Row:
    """The server of the URL, or Nova's 404/403/404 in its order."""
    if req.version < (2, 26):
        raise ApiError(404, "The resource could not be found.")
    server_id = req.params["server_id"]
    row = (
        (conn or ctx.db.read())
        .execute("SELECT * FROM servers WHERE id = ?", (server_id,))
        .fetchone()
    )
    if row is None:
        raise ApiError(404, f"Instance {server_id} has no mapping to a cell.")
    if row["project_id"] != req.token.project_id and not identity.is_admin(req.token):
        raise ApiError(
            403, f"Policy doesn't allow os_compute_api:os-server-tags:{rule} to be performed."
        )
    if lifecycle.settle(row, ctx.now()).gone:
        raise ApiError(404, f"Instance {server_id} could not be found.")
    return row


def _writable(ctx: Context, row: sqlite3.Row, action: str) -> None:
    state = lifecycle.settle(row, ctx.now())
    if state.vm_state not in _WRITABLE:
        raise ApiError(
            409,
            f"Cannot '{action}' instance {row['id']} while it is in vm_state {state.vm_state}",
        )


def _store(ctx: Context, conn: sqlite3.Connection, row: sqlite3.Row, tags: list[str]) -> None:
    # Tags live in their own table: the instance's updated_at does not move.
    conn.execute("UPDATE servers SET tags = ? WHERE id = ?", (json.dumps(tags), row["id"]))


def _tag(req: Request) -> str:
    return unquote(req.params["tag"])


def index(ctx: Context, req: Request) -> Response:
    row = _server(ctx, req, "index")
    return Response(200, {"tags": json.loads(row["tags"])})


def show(ctx: Context, req: Request) -> Response:
    row = _server(ctx, req, "show")
    tag = _tag(req)
    if tag not in json.loads(row["tags"]):
        raise ApiError(404, f"Server {row['id']} has no tag '{tag}'")
    return Response(204)


def update_all(ctx: Context, req: Request) -> Response:
    """PUT /tags: the set given replaces the server's."""
    body: Any = req.json()
    validate(_UPDATE_ALL, body)
    with ctx.db.write() as conn:
        row = _server(ctx, req, "update_all", conn)
        _writable(ctx, row, "update tags")
        tags = sorted(set(body["tags"]))
        _store(ctx, conn, row, tags)
    return Response(200, {"tags": tags})


def update(ctx: Context, req: Request) -> Response:
    """PUT /tags/{tag}: 201 with its Location, or 204 when the server has it already."""
    validate({"type": "null"}, req.json())
    tag = _tag(req)
    with ctx.db.write() as conn:
        row = _server(ctx, req, "update", conn)
        _writable(ctx, row, "update tag")
        try:
            validate(TAG, tag)
        except ApiError as err:
            raise ApiError(
                400,
                f"Tag '{tag}' is invalid. It must be a non empty string without characters "
                f"'/' and ','. Validation error message: {err.message}",
            ) from None
        tags = json.loads(row["tags"])
        if len(tags) >= MAX_TAGS:
            raise ApiError(400, f"The number of tags exceeded the per-server limit {MAX_TAGS}")
        if tag in tags:
            return Response(204)
        _store(ctx, conn, row, sorted([*tags, tag]))
    location = f"{req.root}/servers/{row['id']}/tags/{quote(tag)}"
    return Response(201, None, {"Location": location})


def delete(ctx: Context, req: Request) -> Response:
    tag = _tag(req)
    with ctx.db.write() as conn:
        row = _server(ctx, req, "delete", conn)
        _writable(ctx, row, "delete tag")
        tags = json.loads(row["tags"])
        if tag not in tags:
            raise ApiError(404, f"Instance {row['id']} has no tag '{tag}'")
        tags.remove(tag)
        _store(ctx, conn, row, tags)
    return Response(204)


def delete_all(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        row = _server(ctx, req, "delete_all", conn)
        _writable(ctx, row, "delete tags")
        _store(ctx, conn, row, [])
    return Response(204)
