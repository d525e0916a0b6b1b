"""Server actions: resize, confirm/revert, reboot, rebuild, start/stop, pause/unpause,
suspend/resume (`server_lock.py` has lock/unlock and the console log,
`security_groups.py` add/removeSecurityGroup; the dispatcher of
`POST /servers/{id}/action` is `server_ops.action`).

Each action checks the lock and Nova's allowed vm_states (409 otherwise), then starts a
task that `lifecycle.settle` finishes at read time after `--build-seconds`.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

from stackplan.sim import compute, identity, lifecycle, quota, servers
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

Action = Callable[
    [Context, Request, sqlite3.Connection, sqlite3.Row, lifecycle.Settled, Any], Response
]


def check_lock(req: Request, row: sqlite3.Row) -> None:
    """Nova's check_instance_lock: a locked server refuses all but an admin."""
    if row["locked"] and not identity.is_admin(req.token):
        raise ApiError(409, f"Instance {row['id']} is locked")


def require(
    req: Request, row: sqlite3.Row, state: lifecycle.Settled, action: str, allowed: set[str]
) -> None:
    """Nova's check_instance_lock, then check_instance_state: an allowed vm_state, no task,
    launched once."""
    check_lock(req, row)
    if state.vm_state not in allowed:
        raise ApiError(
            409, f"Cannot '{action}' instance {row['id']} while it is in vm_state {state.vm_state}"
        )
    if state.task_state is not None:
        raise ApiError(
            409,
            f"Cannot '{action}' instance {row['id']} while it is in task_state {state.task_state}",
        )
    if row["launched_at"] is None:
        raise ApiError(
            409, f"Cannot '{action}' instance {row['id']} while it is in launched_at None"
        )


def start_task(
    ctx: Context,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    vm_state: str,
    task: str | None,
    next_state: str,
    **columns: Any,
) -> None:
    """Persist the settled vm_state plus a new task ending `build_seconds` from now; the
    server's ports are due for `port_settle` when the task ends (now, without one)."""
    now = ctx.now()
    until = now + ctx.options.build_seconds if task else None
    values = {
        "vm_state": vm_state,
        "task_state": task,
        "task_until": until,
        "next_vm_state": next_state,
        "updated": now,
        **columns,
    }
    values["ports_due"] = values["task_until"] if values["task_until"] is not None else now
    assignments = ", ".join(f"{k} = ?" for k in values)
    conn.execute(f"UPDATE servers SET {assignments} WHERE id = ?", (*values.values(), row["id"]))


def _resize(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    if not isinstance(arg, dict) or "flavorRef" not in arg:
        raise ApiError(
            400, "Invalid input for field/attribute resize. 'flavorRef' is a required property"
        )
    require(req, row, state, "resize", {"active", "stopped"})
    new = compute.find_flavor(arg["flavorRef"])
    if new is None:
        raise ApiError(400, f"Flavor {arg['flavorRef']} could not be found.")
    old = compute.find_flavor(row["flavor_id"])
    assert old is not None
    if new.id == old.id:
        raise ApiError(400, "When resizing, instances must change flavor!")
    used = quota.usage(ctx, req.token.project_id, conn)
    quota.check(ctx, used, quota.Usage(0, new.vcpus - old.vcpus, new.ram - old.ram))
    start_task(
        ctx,
        conn,
        row,
        state.vm_state,
        "resize_prep",
        "resized",
        flavor_id=new.id,
        old_flavor_id=old.id,
        resize_from=state.vm_state,
    )
    return Response(202)


def _confirm(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    require(req, row, state, "confirmResize", {"resized"})
    back = row["resize_from"] or "active"
    start_task(ctx, conn, row, back, None, back, old_flavor_id=None, resize_from=None)
    return Response(204)


def _revert(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    require(req, row, state, "revertResize", {"resized"})
    back = row["resize_from"] or "active"
    start_task(
        ctx,
        conn,
        row,
        "resized",
        "resize_reverting",
        back,
        flavor_id=row["old_flavor_id"],
        old_flavor_id=None,
        resize_from=None,
    )
    return Response(202)


def _reboot(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    kind = arg.get("type") if isinstance(arg, dict) else None
    if kind not in ("SOFT", "Soft", "soft", "HARD", "Hard", "hard"):
        raise ApiError(
            400,
            f"Invalid input for field/attribute type. Value: {kind}. It is not one of SOFT, HARD",
        )
    hard = kind.upper() == "HARD"
    allowed = {"active", "stopped", "paused", "suspended", "error"} if hard else {"active"}
    require(req, row, state, "reboot", allowed)
    start_task(ctx, conn, row, state.vm_state, "rebooting_hard" if hard else "rebooting", "active")
    return Response(202)


def _power(target: str, action: str, allowed: set[str], task: str) -> Action:
    def run(
        ctx: Context,
        req: Request,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        state: lifecycle.Settled,
        arg: Any,
    ) -> Response:
        require(req, row, state, action, allowed)
        start_task(ctx, conn, row, state.vm_state, task, target)
        return Response(202)

    return run


def _rebuild(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    if not isinstance(arg, dict) or "imageRef" not in arg:
        raise ApiError(
            400, "Invalid input for field/attribute rebuild. 'imageRef' is a required property"
        )
    require(req, row, state, "rebuild", {"active", "stopped", "error"})
    image = compute.find_image(ctx, req, arg["imageRef"])
    if image is None or image.status != "active":
        raise ApiError(400, "Cannot find image for rebuild")
    columns: dict[str, Any] = {"image_id": image.id}
    if "name" in arg:
        columns["name"] = servers.check_name(arg["name"])
    if "metadata" in arg:
        columns["metadata"] = json.dumps(servers.check_metadata(arg["metadata"]))
    if "description" in arg and req.version >= (2, 19):
        columns["description"] = arg["description"]
    if "key_name" in arg and req.version >= (2, 54):
        key = arg["key_name"]
        if (
            key is not None
            and conn.execute(
                "SELECT 1 FROM keypairs WHERE user_id = ? AND name = ?", (req.token.user_id, key)
            ).fetchone()
            is None
        ):
            raise ApiError(400, "Invalid key_name provided.")
        columns["key_name"] = key
    if "user_data" in arg and req.version >= (2, 57):
        columns["user_data"] = arg["user_data"]
    back = state.vm_state if state.vm_state in ("active", "stopped") else "active"
    start_task(ctx, conn, row, state.vm_state, "rebuilding", back, **columns)
    new_row, new_state = servers.load(ctx, req, conn)
    body = servers.render_one(ctx, req, new_row, new_state, reduced=True, conn=conn)
    body["adminPass"] = arg.get("adminPass") or servers.password()
    if req.version >= (2, 54):
        body["key_name"] = new_row["key_name"]
    if req.version >= (2, 57):
        body["user_data"] = new_row["user_data"]
    if req.version >= (2, 63):
        body["trusted_image_certificates"] = None
    location = compute.links(req, "servers", row["id"])[0]["href"]
    return Response(202, {"server": body}, {"Location": location})


ACTIONS: dict[str, Action] = {
    "resize": _resize,
    "confirmResize": _confirm,
    "revertResize": _revert,
    "reboot": _reboot,
    "rebuild": _rebuild,
    "os-start": _power("active", "start", {"stopped"}, "powering-on"),
    "os-stop": _power("stopped", "stop", {"active", "error"}, "powering-off"),
    "pause": _power("paused", "pause", {"active"}, "pausing"),
    "unpause": _power("active", "unpause", {"paused"}, "unpausing"),
    "suspend": _power("suspended", "suspend", {"active"}, "suspending"),
    "resume": _power("active", "resume", {"suspended"}, "resuming"),
}
