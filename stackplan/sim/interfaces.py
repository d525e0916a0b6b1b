"""`/servers/{id}/os-interface`: a server's ports as Nova lists them, and attaching or
detaching one (`nova/api/openstack/compute/attach_interfaces.py`, the compute API's
`attach_interface`/`detach_interface`, `allocate_for_instance`,
`deallocate_port_for_instance`).

A port Nova makes for an attach gets Neutron's default group, not the server's groups:
Nova's attach asks for none. A detach is a cast in Nova: 202 whatever the compute host
then finds (a port not attached is only logged there), done at once here."""

from __future__ import annotations

from typing import Any

from stackplan.sim import instance_actions, nova_ports, port_allocation, port_settle, servers
from stackplan.sim.network_requests import NetworkRequest, Requested, is_uuid
from stackplan.sim.neutron import lookups, ports
from stackplan.sim.neutron.common import NeutronError
from stackplan.sim.options import Context
from stackplan.sim.server_actions import require
from stackplan.sim.server_checks import bad_field
from stackplan.sim.wire import ApiError, Request, Response

_ALLOWED = {"active", "paused", "stopped"}


def _view(port: dict[str, Any]) -> dict[str, Any]:
    """`_translate_interface_attachment_view` (no `tag` before 2.70)."""
    return {
        "net_id": port["network_id"],
        "port_id": port["id"],
        "mac_addr": port["mac_address"],
        "port_state": port["status"],
        "fixed_ips": port["fixed_ips"],
    }


def listing(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    found = ports.find_ports(ctx.db.read(), nova_ports.caller(req.token), device_id=row["id"])
    return Response(200, {"interfaceAttachments": [_view(p) for p in found]})


def _shown(ctx: Context, req: Request, server_id: str, port_id: str) -> Response:
    try:
        port = lookups.show_port(ctx.db.read(), nova_ports.caller(req.token), port_id)
    except NeutronError as err:
        if err.status == 404:
            raise ApiError(404, f"Port id {port_id} could not be found.") from None
        raise
    if port["device_id"] != server_id:
        raise ApiError(404, f"Instance {server_id} does not have a port with id {port_id}")
    return Response(200, {"interfaceAttachment": _view(port)})


def show(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    return _shown(ctx, req, row["id"], req.params["port_id"])


def _attachment(req: Request) -> tuple[str | None, str | None, str | None]:
    """(net_id, port_id, requested ip) from the body, checked as Nova's schema does."""
    body = req.json()
    if body is None:
        return None, None, None
    if not isinstance(body, dict) or set(body) - {"interfaceAttachment"}:
        raise bad_field("interfaceAttachment", body, "Additional properties are not allowed")
    attachment = body.get("interfaceAttachment") or {}
    if not isinstance(attachment, dict):
        raise bad_field("interfaceAttachment", attachment, "is not of type 'object'")
    allowed = {"net_id", "port_id", "fixed_ips"} | ({"tag"} if req.version >= (2, 49) else set())
    extra = sorted(set(attachment) - allowed)
    if extra:
        raise bad_field(
            "interfaceAttachment",
            attachment,
            f"Additional properties are not allowed ('{extra[0]}' was unexpected)",
        )
    for key in ("net_id", "port_id"):
        if key in attachment and not is_uuid(attachment[key]):
            raise bad_field(key, attachment[key], f"'{attachment[key]}' is not a 'uuid'")
    fixed = attachment.get("fixed_ips")
    ip = None
    if fixed is not None:
        if (
            not isinstance(fixed, list)
            or len(fixed) != 1
            or not isinstance(fixed[0], dict)
            or set(fixed[0]) != {"ip_address"}
        ):
            raise bad_field("fixed_ips", fixed, "must be one {'ip_address': ...}")
        ip = fixed[0]["ip_address"]
    return attachment.get("net_id"), attachment.get("port_id"), ip


def attach(ctx: Context, req: Request) -> Response:
    net_id, port_id, ip = _attachment(req)
    if net_id and port_id:  # checked before the server is looked up, as Nova does
        raise ApiError(400, "Must not input both network_id and port_id")
    if ip and not net_id:
        raise ApiError(400, "Must input network_id when request IP address")
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        require(req, row, state, "attach_interface", _ALLOWED)
        if port_id:
            requested = Requested("list", (NetworkRequest(port_id=port_id),))
        elif net_id:
            requested = Requested("list", (NetworkRequest(net_id, ip),))
        else:
            requested = Requested("single")
        who = nova_ports.caller(req.token)
        got = port_allocation.allocate(ctx, conn, who, row, requested)
        if len(got) != 1:
            raise ApiError(500, f"Failed to attach network adapter device to {row['id']}")
        port_settle.sync(ctx, conn, row, state)
        instance_actions.record_on_host(ctx, conn, req, row, "attach_interface")
    return _shown(ctx, req, row["id"], got[0])


def detach(ctx: Context, req: Request) -> Response:
    port_id = req.params["port_id"]
    with ctx.db.write() as conn:
        row, state = servers.load(ctx, req, conn)
        require(req, row, state, "detach_interface", _ALLOWED)
        cached = {r["port_id"] for r in nova_ports.cached(conn, [row["id"]]).get(row["id"], [])}
        if port_id in cached:  # Nova's compute host finds no such VIF otherwise, and logs it
            nova_ports.release(ctx, conn, row["id"], port_id)
        instance_actions.record_on_host(ctx, conn, req, row, "detach_interface")
    return Response(202)
