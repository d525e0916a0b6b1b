"""`POST /volumes/{id}/action` (`api/contrib/volume_actions.py`, `admin_actions.py`,
`volume/api.py`): os-extend, os-retype, os-set_bootable, the admin's os-reset_status and
os-force_delete, and the legacy attach bookkeeping (os-reserve, os-unreserve, os-attach,
os-begin_detaching, os-roll_detaching, os-detach), each with its schema and messages.

Extend and retype last `--build-seconds` (`extending`, `retyping`) and return to the
status the volume had. There is one backend, so a retype never migrates (the
`migration_policy` is checked and otherwise unused).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from stackplan.sim.cinder import attach, lifecycle, quotas, validation, volume_types, volumes
from stackplan.sim.cinder.common import (
    GENERIC_400,
    Caller,
    bad_request,
    bool_param,
    caller,
    invalid_input,
    invalid_volume,
    new_id,
    policy_denied,
)
from stackplan.sim.cinder.validation import BOOLEAN, UUID, VOLUME_SIZE, Schema
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

Action = Callable[[Context, Request, Caller, dict[str, Any]], Response]


def _schema(name: str, inner: Schema | None, nullable: bool = False) -> Schema:
    body: Schema = {} if inner is None else inner
    if inner is not None and nullable:
        body = {**inner, "type": ["object", "null"]}
    return {
        "type": "object",
        "properties": {name: body},
        "required": [name],
        "additionalProperties": False,
    }


def _object(properties: Schema, required: tuple[str, ...] = (), **more: Any) -> Schema:
    body: Schema = {"type": "object", "properties": properties}
    if required:
        body["required"] = list(required)
    return {**body, **more, "additionalProperties": False}


# -- resizing and retyping -------------------------------------------------------------


def _extend(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    new_size = int(body["os-extend"]["new_size"])
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        attached = req.version >= (3, 42) and volume["status"] == "in-use"
        increase = new_size - volume["size"]
        if increase <= 0:
            raise invalid_input(
                f"New size for extend must be greater than current size. (current: "
                f"{volume['size']}, extended: {new_size})."
            )
        expected = "in-use" if attached else "available"
        if volume["status"] != expected:
            raise invalid_volume(
                f"Volume {volume['id']} status must be '{{'status': '{expected}'}}' to extend, "
                f"currently {volume['status']}."
            )
        kind = volume_types.by_id(conn, volume["volume_type_id"])["name"]
        deltas = quotas.type_deltas(kind, gigabytes=increase)
        quotas.reserve(ctx, conn, volume["project_id"], deltas, increase, extend=True)
        now = ctx.now()
        failed = volumes.fails(conn, volume["id"], "extend")
        then = "error_extending" if failed else volume["status"]
        conn.execute(
            "UPDATE cinder_volumes SET previous_status = status WHERE id = ?", (volume["id"],)
        )
        pending = {} if failed else {"size": new_size}
        until = now + ctx.options.build_seconds
        lifecycle.start_task(conn, volume["id"], "extending", until, then, pending, now)
    return Response(202)


_RETYPE_REFUSED = (
    "Retype needs volume to be in available or in-use state, not be part of an active "
    "migration or a consistency group, requested type has to be different that the one "
    "from the volume, and for in-use volumes front-end qos specs cannot change."
)


def _retype(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    args = body["os-retype"]
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        new_type = volume_types.by_name_or_id(conn, args["new_type"])
        deltas = quotas.type_deltas(new_type["name"], volumes=1, gigabytes=volume["size"])
        deltas = {k: v for k, v in deltas.items() if k not in ("volumes", "gigabytes")}
        quotas.reserve(ctx, conn, volume["project_id"], deltas, volume["size"])
        if (
            volume["status"] not in ("available", "in-use")
            or volume["migration_status"] not in (None, "deleting", "error", "success")
            or volume["volume_type_id"] == new_type["id"]
        ):
            raise invalid_volume(_RETYPE_REFUSED)
        now = ctx.now()
        conn.execute(
            "UPDATE cinder_volumes SET previous_status = status WHERE id = ?", (volume["id"],)
        )
        until = now + ctx.options.build_seconds
        pending = {"volume_type_id": new_type["id"]}
        lifecycle.start_task(conn, volume["id"], "retyping", until, volume["status"], pending, now)
    return Response(202)


def _set_bootable(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    bootable = bool_param(body["os-set_bootable"]["bootable"], strict=True)
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        if volume["status"] == "maintenance":
            raise invalid_volume("The volume cannot be updated during maintenance.")
        conn.execute(
            "UPDATE cinder_volumes SET bootable = ?, updated = ? WHERE id = ?",
            (int(bootable), ctx.now(), volume["id"]),
        )
    return Response(200)


# -- admin actions ---------------------------------------------------------------------


def _reset_status(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    args = body["os-reset_status"]
    update: dict[str, Any] = {}
    for key in ("status", "attach_status", "migration_status"):
        if args.get(key):
            update[key] = args[key].lower()
    if update.get("migration_status") == "none":
        update["migration_status"] = None
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        if not who.admin:
            raise policy_denied("volume_extension:volume_admin_actions:reset_status")
        # Cinder's tuple lacks a comma: only `deleting` is refused here.
        if update.get("status") in ("deleting", "error_deletingdetaching"):
            raise bad_request(f"Cannot reset-state to {update['status']}")
        attachments = conn.execute(
            "SELECT id FROM cinder_attachments WHERE volume_id = ?", (volume["id"],)
        ).fetchall()
        if update.get("status") == "in-use" and not attachments:
            raise bad_request(
                "Cannot reset-state to in-use because volume does not have any attachments."
            )
        sets = "".join(f"{k} = ?, " for k in update)
        # A reset ends whatever the volume was doing (a delete in progress included).
        conn.execute(
            f"UPDATE cinder_volumes SET {sets}task_until = NULL, next_status = NULL,"
            " pending = NULL, gone_at = NULL, updated = ? WHERE id = ?",
            (*update.values(), ctx.now(), volume["id"]),
        )
        if update.get("attach_status") == "detached":
            for row in attachments:
                attach.remove_attachment(ctx, conn, who, row["id"])
    return Response(202)


def _force_delete(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    with ctx.db.write() as conn:
        volumes.load(ctx, conn, who, req.params["volume_id"])
        if not who.admin:
            raise policy_denied("volume_extension:volume_admin_actions:force_delete")
        volumes.delete(ctx, conn, who, req.params["volume_id"], force=True)
    return Response(202)


# -- the legacy attach bookkeeping -----------------------------------------------------


def _reserve(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        allowed = ("available", "in-use") if volume["multiattach"] else ("available",)
        if volume["status"] not in allowed:
            raise invalid_volume(
                f"Volume status must be {' or '.join(allowed)} to reserve, but the status is "
                f"{volume['status']}."
            )
        conn.execute("UPDATE cinder_volumes SET status = 'attaching' WHERE id = ?", (volume["id"],))
    return Response(202)


def _unreserve(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        if volume["status"] == "attaching":
            held = conn.execute(
                "SELECT 1 FROM cinder_attachments WHERE volume_id = ?", (volume["id"],)
            ).fetchone()
            conn.execute(
                "UPDATE cinder_volumes SET status = ? WHERE id = ?",
                ("in-use" if held else "available", volume["id"]),
            )
    return Response(202)


def _os_attach(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    args = body["os-attach"]
    server_id, mode = args.get("instance_uuid"), args.get("mode", "rw")
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        vid = volume["id"]
        if volume["status"] == "maintenance":
            raise invalid_volume("The volume cannot be attached in maintenance mode.")
        conn.execute(
            "INSERT OR IGNORE INTO cinder_admin_metadata VALUES (?, 'readonly', 'False')", (vid,)
        )
        same = conn.execute(
            "SELECT id FROM cinder_attachments WHERE volume_id = ? AND server_id = ?",
            (vid, server_id),
        ).fetchone()
        if same is None:
            if volume["status"] == "in-use" and not volume["multiattach"]:
                raise invalid_volume(
                    "volume is already attached and multiple attachments are not enabled"
                )
            conn.execute(
                "INSERT OR REPLACE INTO cinder_admin_metadata VALUES (?, 'attached_mode', ?)",
                (vid, mode),
            )
            now = ctx.now()
            conn.execute(
                "INSERT INTO cinder_attachments (id, volume_id, server_id, host_name,"
                " mountpoint, attach_status, attach_mode, attached, created)"
                " VALUES (?, ?, ?, ?, ?, 'attached', ?, ?, ?)",
                (new_id(), vid, server_id, args.get("host_name"), args["mountpoint"], mode,
                 now, now),
            )  # fmt: skip
        attach._refresh_status(conn, vid, ctx.now())
    return Response(202)


def _begin_detaching(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        if volume["status"] != "in-use" or volume["attach_status"] != "attached":
            raise invalid_volume(
                "Unable to detach volume. Volume status must be 'in-use' and attach_status "
                "must be 'attached' to detach."
            )
        conn.execute("UPDATE cinder_volumes SET status = 'detaching' WHERE id = ?", (volume["id"],))
    return Response(202)


def _roll_detaching(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        if volume["status"] == "detaching":
            conn.execute(
                "UPDATE cinder_volumes SET status = 'in-use' WHERE id = ?", (volume["id"],)
            )
    return Response(202)


def _os_detach(ctx: Context, req: Request, who: Caller, body: dict[str, Any]) -> Response:
    attachment_id = (body["os-detach"] or {}).get("attachment_id")
    with ctx.db.write() as conn:
        volume = volumes.load(ctx, conn, who, req.params["volume_id"], write=True)
        rows = conn.execute(
            "SELECT id FROM cinder_attachments WHERE volume_id = ? AND (? IS NULL OR id = ?)",
            (volume["id"], attachment_id, attachment_id),
        ).fetchall()
        if attachment_id is None and len(rows) > 1:
            raise invalid_volume(
                "Detach volume failed: More than one attachment, but no attachment_id provided."
            )
        for row in rows:
            attach.remove_attachment(ctx, conn, who, row["id"])
        attach._refresh_status(conn, volume["id"], ctx.now())
    return Response(202)


_EMPTY: Schema = {}
ACTIONS: dict[str, tuple[Schema, Action]] = {
    "os-extend": (_schema("os-extend", _object({"new_size": VOLUME_SIZE}, ("new_size",))),
                  _extend),
    "os-retype": (
        _schema("os-retype", _object(
            {"new_type": {"type": "string"},
             "migration_policy": {"type": ["string", "null"], "enum": ["on-demand", "never"]}},
            ("new_type",))),
        _retype,
    ),
    "os-set_bootable": (_schema("os-set_bootable", _object({"bootable": BOOLEAN}, ("bootable",))),
                        _set_bootable),
    "os-reset_status": (
        _schema("os-reset_status", _object(
            {"status": {"type": ["string", "null"], "format": "volume_status"},
             "attach_status": {"type": ["string", "null"], "format": "volume_attach_status"},
             "migration_status": {"type": ["string", "null"],
                                  "format": "volume_migration_status"}},
            format="validate_volume_reset_body")),
        _reset_status,
    ),
    "os-force_delete": (_schema("os-force_delete", _EMPTY), _force_delete),
    "os-reserve": (_schema("os-reserve", _EMPTY), _reserve),
    "os-unreserve": (_schema("os-unreserve", _EMPTY), _unreserve),
    "os-attach": (
        _schema("os-attach", _object(
            {"instance_uuid": UUID,
             "mountpoint": {"type": "string", "minLength": 1, "maxLength": 255},
             "host_name": {"type": "string", "maxLength": 255},
             "mode": {"type": "string", "enum": ["rw", "ro"]}},
            ("mountpoint",),
            anyOf=[{"required": ["instance_uuid"]}, {"required": ["host_name"]}])),
        _os_attach,
    ),
    "os-begin_detaching": (_schema("os-begin_detaching", _EMPTY), _begin_detaching),
    "os-roll_detaching": (_schema("os-roll_detaching", _EMPTY), _roll_detaching),
    "os-detach": (
        _schema("os-detach", _object(
            {"attachment_id": {"oneOf": [UUID, {"type": "null"}]}}), nullable=True),
        _os_detach,
    ),
}  # fmt: skip


def action(ctx: Context, req: Request) -> Response:
    """Find the action from the body's one key, check its schema, run it."""
    if not req.body:
        raise bad_request(GENERIC_400)
    try:
        body = json.loads(req.body)
    except ValueError:
        raise bad_request("Malformed request body") from None
    if not isinstance(body, dict) or len(body) != 1:
        raise bad_request("Malformed request body")
    (name,) = body
    if name not in ACTIONS:
        raise bad_request(
            f"There is no such action: {name}. Verify the request body and Content-Type "
            "header and try again."
        )
    schema, run = ACTIONS[name]
    validation.validate(schema, body)
    return run(ctx, req, caller(req), body)
