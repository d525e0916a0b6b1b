"""`/servers/{id}/os-volume_attachments[/{volume_id}]`: a server's volumes as Nova lists
them, and attaching or detaching one (`api/openstack/compute/volume_attachments.py`,
the compute API's `attach_volume`/`detach_volume`, `_check_volume_already_attached`,
`compute/utils.py` `check_attach_and_reserve_volume`, `volume/cinder.py`'s translation
of Cinder's answers).

Nova's attach returns once the device is reserved and the compute host attaches the
volume moments later; the simulator attaches at once (the volume is `in-use` when the
answer arrives). A detach is a cast: 202, and the volume is `available` at once.
Microversions 2.70 (`tag`), 2.79 (`delete_on_termination`) and 2.89 are rendered as
Nova does, for whenever the simulator advertises them.
"""

from __future__ import annotations

import copy
from typing import Any

from stackplan.sim import block_devices, instance_actions, servers
from stackplan.sim.cinder import attach, volumes
from stackplan.sim.cinder.common import bool_param
from stackplan.sim.cinder.validation import Schema, validate
from stackplan.sim.options import Context
from stackplan.sim.server_actions import require
from stackplan.sim.wire import ApiError, Request, Response

# the vm_states `attach_volume` and `detach_volume` allow (shelved ones are not simulated)
_ALLOWED = {"active", "paused", "stopped", "resized", "soft-delete"}
_DEVICE = "(^/dev/x{0,1}[a-z]{0,1}d{0,1})([a-z]+)[0-9]*$"
_BOOLEAN: Schema = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
}  # fmt: skip
_CREATE: Schema = {
    "type": "object",
    "properties": {
        "volumeAttachment": {
            "type": "object",
            "properties": {
                "volumeId": {"type": "string", "format": "uuid"},
                "device": {"type": ["string", "null"], "pattern": _DEVICE},
            },
            "required": ["volumeId"],
            "additionalProperties": False,
        }
    },
    "required": ["volumeAttachment"],
    "additionalProperties": False,
}


def _create_schema(version: tuple[int, int]) -> Schema:
    schema = copy.deepcopy(_CREATE)
    properties = schema["properties"]["volumeAttachment"]["properties"]
    if version >= (2, 49):
        properties["tag"] = {
            "type": "string",
            "pattern": "^[^,/]*$",
            "minLength": 1,
            "maxLength": 60,
        }
    if version >= (2, 79):
        properties["delete_on_termination"] = _BOOLEAN
    return schema


def _view(req: Request, bdm: Any) -> dict[str, Any]:
    """`_translate_attachment_detail_view` at the request's microversion."""
    newest = req.version >= (2, 89)
    shown: dict[str, Any] = {} if newest else {"id": bdm["volume_id"]}
    shown.update(volumeId=bdm["volume_id"], serverId=bdm["server_id"])
    if bdm["device_name"]:
        shown["device"] = bdm["device_name"]
    if req.version >= (2, 70):
        shown["tag"] = bdm["tag"]
    if req.version >= (2, 79):
        shown["delete_on_termination"] = bool(bdm["delete_on_termination"])
    if newest:
        shown.update(attachment_id=bdm["attachment_id"], bdm_uuid=bdm["id"])
    return shown


def _not_attached(server_id: str, volume_id: str) -> ApiError:
    return ApiError(404, f"Instance {server_id} is not attached to volume {volume_id}")


def _paging(req: Request) -> tuple[int, int]:
    """`common.limited`: offset and limit (at most 1000), non-negative integers."""
    found = []
    for name, default in (("offset", 0), ("limit", 1000)):
        raw = req.arg(name)
        if raw is None:
            found.append(default)
            continue
        if not raw.isdigit():
            raise ApiError(
                400,
                f"Invalid input for query parameters {name}. Value: {raw}. "
                f"'{raw}' does not match '^[0-9]*$'",
            )
        found.append(min(int(raw), 1000) if name == "limit" else int(raw))
    return found[0], found[1]


def listing(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    offset, limit = _paging(req)
    bdms = block_devices.mappings(ctx.db.read(), row["id"])[offset : offset + limit]
    shown = [
        _view(req, b)
        for b in bdms
        if b["volume_id"] and not (req.version >= (2, 89) and b["attachment_id"] is None)
    ]
    return Response(200, {"volumeAttachments": shown})


def show(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    volume_id = req.params["volume_id"]
    bdm = block_devices.find(ctx.db.read(), row["id"], volume_id)
    if bdm is None or (req.version >= (2, 89) and bdm["attachment_id"] is None):
        raise _not_attached(row["id"], volume_id)
    return Response(200, {"volumeAttachment": _view(req, bdm)})


def _volume(ctx: Context, conn: Any, req: Request, volume_id: str) -> dict[str, Any]:
    """`volume_api.get` with the caller's token: Cinder's 404 is Nova's VolumeNotFound."""
    try:
        return volumes.load(ctx, conn, block_devices.cinder_caller(req.token), volume_id)
    except ApiError as err:
        if err.status == 404:
            raise ApiError(404, f"Volume {volume_id} could not be found.") from None
        raise


def attach_volume(ctx: Context, req: Request) -> Response:
    body = req.json()
    validate(_create_schema(req.version), body)
    args = body["volumeAttachment"]
    volume_id = args["volumeId"]
    delete = bool_param(args.get("delete_on_termination", False))
    block_devices.ready(ctx)
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        require(req, row, state, "attach_volume", _ALLOWED)
        volume = _volume(ctx, conn, req, volume_id)
        holders = block_devices.of_volume(conn, volume_id)
        if holders and not volume["multiattach"]:
            uuids = " ".join(h["server_id"] for h in holders)
            raise ApiError(
                400,
                f"Invalid volume: volume {volume_id} is already attached to instances: {uuids}",
            )
        if any(h["server_id"] == row["id"] for h in holders):
            raise ApiError(400, f"Invalid volume: volume {volume_id} already attached")
        # libvirt ignores a requested device name and takes the next free one
        device = block_devices.next_device(conn, row)
        who = block_devices.cinder_caller(req.token)
        try:
            reserved = attach.reserve(ctx, conn, who, volume_id, row["id"])
        except ApiError as err:
            if err.status == 404:
                raise ApiError(404, f"Volume {volume_id} could not be found.") from None
            message = block_devices.client_error(err)
            raise ApiError(400, f"Invalid input received: {message}") from None
        attach.complete(ctx, conn, who, reserved["id"], device, row["host"] or "")
        conn.execute(
            "INSERT INTO nova_bdms (id, server_id, source_type, destination_type, volume_id,"
            " attachment_id, device_name, delete_on_termination, tag)"
            " VALUES (?, ?, 'volume', 'volume', ?, ?, ?, ?, ?)",
            (
                block_devices.new_bdm_id(),
                row["id"],
                volume_id,
                reserved["id"],
                device,
                int(delete),
                args.get("tag"),
            ),
        )
        instance_actions.record_on_host(ctx, conn, req, row, "attach_volume")
    if req.version >= (2, 101):
        return Response(202)
    shown: dict[str, Any] = {
        "id": volume_id,
        "serverId": row["id"],
        "volumeId": volume_id,
        "device": device,
    }
    if req.version >= (2, 70):
        shown["tag"] = args.get("tag")
    if req.version >= (2, 79):
        shown["delete_on_termination"] = delete
    return Response(200, {"volumeAttachment": shown})


def detach_volume(ctx: Context, req: Request) -> Response:
    volume_id = req.params["volume_id"]
    block_devices.ready(ctx)
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        volume = _volume(ctx, conn, req, volume_id)
        bdm = block_devices.find(conn, row["id"], volume_id)
        if bdm is None:
            raise _not_attached(row["id"], volume_id)
        if bdm["boot_index"] == 0:
            raise ApiError(400, "Cannot detach a root device volume")
        require(req, row, state, "detach_volume", _ALLOWED)
        if volume["status"] != "in-use" or volume["attach_status"] != "attached":
            cinder = (
                "Invalid volume: Unable to detach volume. Volume status must be 'in-use' and "
                "attach_status must be 'attached' to detach."
            )
            message = block_devices.client_error(ApiError(400, cinder))
            raise ApiError(400, f"Invalid volume: Invalid input received: {message}")
        who = block_devices.cinder_caller(req.token)
        if bdm["attachment_id"] is not None:
            attach.remove_attachment(ctx, conn, who, bdm["attachment_id"])
        # delete_on_termination is for the server's delete only: a detached volume stays
        conn.execute("DELETE FROM nova_bdms WHERE id = ?", (bdm["id"],))
        instance_actions.record_on_host(ctx, conn, req, row, "detach_volume")
    return Response(202)
