"""Nova server writes other than create: update, delete, metadata, tags, and the
dispatcher of `POST /servers/{id}/action` (the actions live in `server_actions.py` and
`server_lock.py`)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from stackplan.sim import (
    instance_actions,
    lifecycle,
    quota,
    security_groups,
    server_actions,
    server_lock,
    servers,
)
from stackplan.sim.options import Context
from stackplan.sim.server_actions import check_lock, start_task
from stackplan.sim.wire import ApiError, Request, Response

_UPDATE_KEYS = {"name", "accessIPv4", "accessIPv6", "OS-DCF:diskConfig"}


def update(ctx: Context, req: Request) -> Response:
    body = req.json()
    server = body.get("server") if isinstance(body, dict) else None
    if not isinstance(server, dict):
        raise ApiError(400, "'server' is a required property")
    allowed = _UPDATE_KEYS | ({"description"} if req.version >= (2, 19) else set())
    unknown = sorted(set(server) - allowed)
    if unknown:
        raise ApiError(
            400,
            f"Invalid input for field/attribute server. Value: {server}. "
            f"Additional properties are not allowed ('{unknown[0]}' was "
            "unexpected)",
        )
    columns: dict[str, Any] = {}
    if "name" in server:
        columns["name"] = servers.check_name(server["name"])
    if "description" in server:
        columns["description"] = server["description"]
    for key, column in (("accessIPv4", "access_ipv4"), ("accessIPv6", "access_ipv6")):
        if key in server:
            columns[column] = server[key] or ""
    with ctx.db.write() as conn:
        row, _ = servers.load(ctx, req, conn)
        if columns:
            _set(ctx, conn, row, **columns)
        row, state = servers.load(ctx, req, conn)
        body = servers.render_one(ctx, req, row, state, reduced=True, conn=conn)
    if req.version >= (2, 63):  # Nova's update view adds it as the rebuild one does
        body["trusted_image_certificates"] = None
    return Response(200, {"server": body})


def _set(ctx: Context, conn: sqlite3.Connection, row: sqlite3.Row, **columns: Any) -> None:
    columns["updated"] = ctx.now()
    assignments = ", ".join(f"{k} = ?" for k in columns)
    conn.execute(f"UPDATE servers SET {assignments} WHERE id = ?", (*columns.values(), row["id"]))


def delete(ctx: Context, req: Request) -> Response:
    """Allowed in any state; the row is soft-deleted `--delete-seconds` from now."""
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        check_lock(req, row)
        if state.task_state != "deleting":  # Nova ignores a second delete (no action)
            gone_at = ctx.now() + ctx.options.delete_seconds
            start_task(
                ctx,
                conn,
                row,
                state.vm_state,
                "deleting",
                "deleted",
                task_until=gone_at,
                gone_at=gone_at,
            )
            # a server never placed is deleted locally: no compute host, no event
            host = row["host"]
            events = [instance_actions.Event("compute_terminate_instance", host)] if host else []
            instance_actions.record(ctx, conn, req, row["id"], "delete", events, gone_at)
    return Response(204)


# -- metadata --------------------------------------------------------------------------


def _writable(req: Request, row: sqlite3.Row, state: lifecycle.Settled) -> None:
    check_lock(req, row)
    if state.vm_state not in ("active", "paused", "suspended", "stopped") or state.task_state:
        raise ApiError(
            409,
            f"Cannot 'update metadata' instance {row['id']} while it is in "
            f"vm_state {state.vm_state}",
        )


def metadata_show(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    return Response(200, {"metadata": json.loads(row["metadata"])})


def metadata_write(ctx: Context, req: Request) -> Response:
    """POST merges, PUT replaces; both answer the whole new map."""
    body = req.json()
    given = body.get("metadata") if isinstance(body, dict) else None
    if given is None:
        raise ApiError(400, "'metadata' is a required property")
    servers.check_metadata(given)
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        _writable(req, row, state)
        new = {**json.loads(row["metadata"]), **given} if req.method == "POST" else dict(given)
        if len(new) > quota.MAX_METADATA:
            raise ApiError(403, f"Maximum number of metadata items exceeds {quota.MAX_METADATA}")
        _set(ctx, conn, row, metadata=json.dumps(new))
    return Response(200, {"metadata": new})


def meta_show(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    key = req.params["key"]
    metadata = json.loads(row["metadata"])
    if key not in metadata:
        raise ApiError(404, "Metadata item was not found")
    return Response(200, {"meta": {key: metadata[key]}})


def meta_put(ctx: Context, req: Request) -> Response:
    body = req.json()
    meta = body.get("meta") if isinstance(body, dict) else None
    key = req.params["key"]
    if not isinstance(meta, dict) or len(meta) != 1:
        raise ApiError(400, "Request body contains too many items")
    if key not in meta:
        raise ApiError(400, "Request body and URI mismatch")
    servers.check_metadata(meta)
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        _writable(req, row, state)
        new = {**json.loads(row["metadata"]), **meta}
        if len(new) > quota.MAX_METADATA:
            raise ApiError(403, f"Maximum number of metadata items exceeds {quota.MAX_METADATA}")
        _set(ctx, conn, row, metadata=json.dumps(new))
    return Response(200, {"meta": meta})


def meta_delete(ctx: Context, req: Request) -> Response:
    key = req.params["key"]
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        _writable(req, row, state)
        metadata = json.loads(row["metadata"])
        if key not in metadata:
            raise ApiError(404, "Metadata item was not found")
        del metadata[key]
        _set(ctx, conn, row, metadata=json.dumps(metadata))
    return Response(204)


# -- actions ---------------------------------------------------------------------------

_ACTIONS: dict[str, server_actions.Action] = {
    **server_actions.ACTIONS,
    **server_lock.ACTIONS,
    **security_groups.ACTIONS,
}


def action(ctx: Context, req: Request) -> Response:
    body = req.json()
    if not isinstance(body, dict) or len(body) != 1:
        raise ApiError(400, "Malformed request body")
    ((name, arg),) = body.items()
    handler = _ACTIONS.get(name)
    if handler is None:
        servers.load(ctx, req)  # a missing server is 404 before a bad action is 400
        raise ApiError(400, f"There is no such action: {name}")
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        response = handler(ctx, req, conn, row, state, arg)
        server_actions.record(ctx, conn, req, row, name)  # an error raised: nothing to record
        return response
