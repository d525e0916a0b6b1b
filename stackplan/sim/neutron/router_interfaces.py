"""`PUT /routers/{id}/add_router_interface` and `remove_router_interface`, by subnet or
by port (`neutron/db/l3_db.py`): the interface is a port owned by the router's project
with device_owner `network:router_interface` and, by subnet, the subnet's gateway IP."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, ipam, ports, routers, store, subnets
from stackplan.sim.neutron.common import (
    Caller,
    NeutronError,
    bad_request,
    caller,
    conflict,
    not_found,
    read_body,
)
from stackplan.sim.neutron.query import param
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response


def _info(req: Request, removal: bool) -> tuple[dict[str, Any], bool]:
    info = read_body(req) or {}
    by_port, by_subnet = "port_id" in info, "subnet_id" in info
    if not (by_port or by_subnet):
        raise bad_request("router", "Either subnet_id or port_id must be specified")
    for key in ("port_id", "subnet_id"):
        if key in info:
            reason = checks.uuid_check(info[key])
            if reason:
                raise bad_request("router", reason)
    if not removal and by_port and by_subnet:
        raise bad_request("router", "Cannot specify both subnet-id and port-id")
    return info, by_port


def _answer(
    router: sqlite3.Row, port: dict[str, Any] | sqlite3.Row, subnet_ids: list[str], last: bool
) -> Response:
    return Response(
        200,
        {
            "id": router["id"],
            "project_id": port["project_id"],
            "port_id": port["id"],
            "network_id": port["network_id"],
            "subnet_id": subnet_ids[-1] if last else subnet_ids[0],
            "subnet_ids": subnet_ids,
        },
    )


def _attach_port(conn: sqlite3.Connection, router_id: str, port_id: str) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO neutron_router_ports VALUES (?, ?, ?)",
        (router_id, port_id, ports.ROUTER_INTERFACE),
    )


def add(ctx: Context, req: Request) -> Response:
    who = caller(req)
    with ctx.db.write() as conn:
        router = routers.load(conn, who, param(req, "id"))
        info, by_port = _info(req, removal=False)
        if by_port:
            port, subnet_ids = _add_by_port(ctx, conn, who, router, info["port_id"])
        else:
            port, subnet_ids = _add_by_subnet(ctx, conn, who, router, info["subnet_id"])
        _attach_port(conn, router["id"], port["id"])
        store.bump(conn, routers.TABLE, router["id"], ctx.now())
    return _answer(router, port, subnet_ids, last=True)


def attach_subnet(
    ctx: Context, conn: sqlite3.Connection, who: Caller, router_id: str, subnet_id: str
) -> dict[str, Any]:
    """An interface on the subnet (what `add_router_interface` by subnet does); the port."""
    router = routers.load(conn, who, router_id)
    port, _ = _add_by_subnet(ctx, conn, who, router, subnet_id)
    _attach_port(conn, router_id, port["id"])
    store.bump(conn, routers.TABLE, router_id, ctx.now())
    return port


def _add_by_subnet(
    ctx: Context, conn: sqlite3.Connection, who: Caller, router: sqlite3.Row, subnet_id: str
) -> tuple[dict[str, Any], list[str]]:
    subnet = subnets.load(conn, who, subnet_id)
    if not subnet["gateway_ip"]:
        raise bad_request("router", "Subnet for router interface must have a gateway IP")
    if subnet["project_id"] != who.project_id and not who.admin:
        raise bad_request(
            "router",
            f"Cannot add interface to router because subnet {subnet_id} is not owned by "
            "project making the request",
        )
    routers._check_dup_subnets(conn, router, [subnet])
    body = {
        "project_id": router["project_id"],
        "network_id": subnet["network_id"],
        "fixed_ips": [{"ip_address": subnet["gateway_ip"], "subnet_id": subnet["id"]}],
        "device_id": router["id"],
        "device_owner": ports.ROUTER_INTERFACE,
    }
    port = ports.create_port(ctx, conn, Caller(router["project_id"], True), body)
    return port, [subnet["id"]]


def _add_by_port(
    ctx: Context, conn: sqlite3.Connection, who: Caller, router: sqlite3.Row, port_id: str
) -> tuple[dict[str, Any], list[str]]:
    row, _ = ports.load(conn, who, port_id)
    if row["device_id"] != "":
        raise conflict(
            "PortInUse",
            f"Unable to complete operation on port {port_id} for network {row['network_id']}. "
            f"Port already has an attached device {row['device_id']}.",
        )
    ips = ports.ips_of(conn, port_id)
    if not ips:
        raise bad_request("router", "Router port must have at least one fixed IP")
    found = [store.get(conn, subnets.TABLE, ip["subnet_id"]) for ip in ips]
    subnet_rows = [s for s in found if s is not None]
    routers._check_dup_subnets(conn, router, subnet_rows)
    if len([s for s in subnet_rows if s["ip_version"] == 4]) > 1:
        raise bad_request("router", "Cannot have multiple IPv4 subnets on router port")
    if not who.admin:
        for ip, subnet in zip(ips, subnet_rows, strict=True):
            inside = any(
                ipam.address(p["start"]) <= ipam.address(ip["ip_address"]) <= ipam.address(p["end"])
                for p in json.loads(subnet["allocation_pools"])
            )
            if not inside and subnet["project_id"] != who.project_id:
                raise bad_request(
                    "router",
                    f"Cannot add interface to router because specified port {port_id} has an "
                    f"IP address out of the allocation pool of subnet {subnet['id']}, which is "
                    "not owned by the project making the request",
                )
    conn.execute(
        "UPDATE neutron_ports SET device_id = ?, device_owner = ?, port_security = 0,"
        " revision = revision + 1, updated = ? WHERE id = ?",
        (router["id"], ports.ROUTER_INTERFACE, ctx.now(), port_id),
    )
    conn.execute("DELETE FROM neutron_port_groups WHERE port_id = ?", (port_id,))
    port = ports.render(conn, store.get(conn, ports.TABLE, port_id))
    return port, [s["id"] for s in subnet_rows]


def _in_use_by_floating_ip(conn: sqlite3.Connection, router_id: str, subnet: sqlite3.Row) -> None:
    """Neutron's `_check_router_interface_not_in_use`."""
    net = ipam.network(subnet["cidr"])
    holders = {
        r["port_id"]
        for r in conn.execute(
            "SELECT port_id FROM neutron_ip_allocations WHERE subnet_id = ?", (subnet["id"],)
        ).fetchall()
    }
    for fip in conn.execute(
        "SELECT * FROM neutron_floatingips WHERE router_id = ?", (router_id,)
    ).fetchall():
        address = fip["fixed_ip_address"]
        if address and ipam.address(address) in net and fip["fixed_port_id"] in holders:
            raise conflict(
                "RouterInterfaceInUseByFloatingIP",
                f"Router interface for subnet {subnet['id']} on router {router_id} cannot be "
                "deleted, as it is required by one or more floating IPs.",
            )


def remove(ctx: Context, req: Request) -> Response:
    who = caller(req)
    with ctx.db.write() as conn:
        router = routers.load(conn, who, param(req, "id"))
        info, by_port = _info(req, removal=True)
        if by_port:
            port, subnet_ids = _remove_by_port(
                ctx, conn, router, info["port_id"], info.get("subnet_id")
            )
        else:
            port, subnet_ids = _remove_by_subnet(ctx, conn, who, router, info["subnet_id"])
        store.bump(conn, routers.TABLE, router["id"], ctx.now())
    return _answer(router, port, subnet_ids, last=False)


def _remove_by_port(
    ctx: Context, conn: sqlite3.Connection, router: sqlite3.Row, port_id: str, subnet_id: str | None
) -> tuple[sqlite3.Row, list[str]]:
    port = next(
        (p for p in routers.interface_ports(conn, router["id"]) if p["id"] == port_id), None
    )
    if port is None:
        raise not_found(
            "RouterInterfaceNotFound",
            f"Router {router['id']} does not have an interface with id {port_id}",
        )
    subnet_ids = [ip["subnet_id"] for ip in ports.ips_of(conn, port_id)]
    if subnet_id and subnet_id not in subnet_ids:
        raise NeutronError(
            400,
            "SubnetMismatchForPort",
            f"Subnet on port {port_id} does not match the requested subnet {subnet_id}.",
        )
    for sid in subnet_ids:
        subnet = store.get(conn, subnets.TABLE, sid)
        if subnet is not None:
            _in_use_by_floating_ip(conn, router["id"], subnet)
    ports.remove(conn, port_id, ctx.now())
    return port, subnet_ids


def _remove_by_subnet(
    ctx: Context, conn: sqlite3.Connection, who: Caller, router: sqlite3.Row, subnet_id: str
) -> tuple[sqlite3.Row, list[str]]:
    subnet = subnets.load(conn, who, subnet_id)
    candidates = [
        p
        for p in routers.interface_ports(conn, router["id"])
        if p["network_id"] == subnet["network_id"]
    ]
    if candidates:
        _in_use_by_floating_ip(conn, router["id"], subnet)
    for port in candidates:
        ips = ports.ips_of(conn, port["id"])
        held = [ip["subnet_id"] for ip in ips]
        if subnet_id not in held:
            continue
        if len(held) > 1:
            conn.execute(
                "DELETE FROM neutron_ip_allocations WHERE port_id = ? AND subnet_id = ?",
                (port["id"], subnet_id),
            )
        else:
            ports.remove(conn, port["id"], ctx.now())
        return port, [subnet_id]
    raise not_found(
        "RouterInterfaceNotFoundForSubnet",
        f"Router {router['id']} has no interface on subnet {subnet_id}",
    )
