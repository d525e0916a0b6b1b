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

from stackplan.sim import (
    compute,
    flavor_specs,
    identity,
    instance_actions,
    lifecycle,
    quota,
    servers,
)
from stackplan.sim.instance_actions import CONTROLLER, Event
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
    specs = flavor_specs.of(conn, new.id)
    if not flavor_specs.placeable(specs):
        # The API has said 202 before the conductor asks the scheduler: no host, so the
        # server goes back to its vm_state on its old flavor, with no fault shown (Nova
        # records one, but shows faults of ERROR and DELETED servers only); only the
        # instance action says "Error".
        start_task(ctx, conn, row, state.vm_state, "resize_prep", state.vm_state)
        trace = instance_actions.no_valid_host(flavor_specs.NO_CANDIDATES)
        events = [
            Event("conductor_migrate_server", CONTROLLER, "Error", trace),
            Event("cold_migrate", CONTROLLER, "Error", trace),
        ]
        _record(ctx, conn, req, row, "resize", events)
        return Response(202)
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
        flavor_specs=json.dumps(specs),
        old_flavor_specs=row["flavor_specs"],
    )
    host = row["host"] or CONTROLLER
    events = [
        Event("conductor_migrate_server", CONTROLLER),
        Event("cold_migrate", CONTROLLER),
        *(Event(f"compute_{step}", host) for step in ("prep_resize", "resize_instance")),
        Event("compute_finish_resize", host),
    ]
    _record(ctx, conn, req, row, "resize", events)
    return Response(202)


def _record(
    ctx: Context,
    conn: sqlite3.Connection,
    req: Request,
    row: sqlite3.Row,
    action: str,
    events: list[Event],
    task: bool = True,
) -> None:
    """The instance action of what was just done: its events end with the task it
    started (at once without one: lock, unlock, confirmResize)."""
    after = conn.execute(
        "SELECT task_state, task_until FROM servers WHERE id = ?", (row["id"],)
    ).fetchone()
    until = after["task_until"] if task and after["task_state"] else None
    instance_actions.record(ctx, conn, req, row["id"], action, events, until)


# The instance action Nova records for the other actions, and the events it gets, in
# the order they start (`compute_*` on the server's host, the rest on the controller).
RECORDED: dict[str, tuple[str, tuple[str, ...]]] = {
    "confirmResize": ("confirmResize", ("compute_confirm_resize",)),
    "revertResize": ("revertResize", ("compute_revert_resize", "compute_finish_revert_resize")),
    "reboot": ("reboot", ("compute_reboot_instance",)),
    "rebuild": ("rebuild", ("rebuild_server", "compute_rebuild_instance")),
    "os-start": ("start", ("compute_start_instance",)),
    "os-stop": ("stop", ("compute_stop_instance",)),
    "pause": ("pause", ("compute_pause_instance",)),
    "unpause": ("unpause", ("compute_unpause_instance",)),
    "suspend": ("suspend", ("compute_suspend_instance",)),
    "resume": ("resume", ("compute_resume_instance",)),
    "lock": ("lock", ("api_lock",)),
    "unlock": ("unlock", ("api_unlock",)),
}


def record(
    ctx: Context, conn: sqlite3.Connection, req: Request, row: sqlite3.Row, name: str
) -> None:
    """Record the instance action of the server action `name` (a body key), if any."""
    if name not in RECORDED:
        return
    action, steps = RECORDED[name]
    host = row["host"] or CONTROLLER
    events = [Event(e, host if e.startswith("compute_") else CONTROLLER) for e in steps]
    _record(ctx, conn, req, row, action, events, task=action not in ("lock", "unlock"))


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
    conn.execute("UPDATE servers SET old_flavor_specs = NULL WHERE id = ?", (row["id"],))
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
        flavor_specs=row["old_flavor_specs"] or "{}",
        old_flavor_specs=None,
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
