"""Floating IPs (`/floatingips`), allocated on an external network through a hidden
port (device_owner `network:floatingip`, no project), and associated with a port only
through a router that has its gateway on that network and an interface on the port's
subnet (`neutron/db/l3_db.py`). Status is ACTIVE while associated, DOWN otherwise (as
the OVN L3 plugin reports; the agent-based one needs an L3 agent to say so)."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, ipam, ports, quotas, store, subnets
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    bad_request,
    caller,
    conflict,
    new_id,
    not_found,
    policy_denied,
    prepare,
    read_only,
    rule,
)
from stackplan.sim.neutron.query import (
    STANDARD_FILTERS,
    Collection,
    listing,
    narrowing,
    param,
    show,
)
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

KIND = "floatingips"
TABLE = "neutron_floatingips"


def fip_not_found(fip_id: str) -> NeutronError:
    return not_found("FloatingIPNotFound", f"Floating IP {fip_id} could not be found")


SPEC: AttrMap = {
    **read_only("id"),
    "floating_ip_address": Attr(put=False, default=None, validate=checks.ip_or_none),
    "subnet_id": Attr(put=False, default=None, validate=checks.uuid_or_none),
    "floating_network_id": Attr(put=False, required=True, validate=checks.uuid_check),
    "port_id": Attr(default=None, validate=checks.uuid_or_none),
    "fixed_ip_address": Attr(default=None, validate=checks.ip_or_none),
    "description": Attr(default="", validate=checks.string(255)),
    **read_only("router_id", "status", "port_details"),
    **STANDARD_READ_ONLY,
    **read_only("tags"),
}
COLLECTION = Collection(
    "floatingips",
    {
        **STANDARD_FILTERS,
        **dict.fromkeys(("floating_ip_address", "floating_network_id", "router_id")),
        **dict.fromkeys(("port_id", "fixed_ip_address", "status")),
    },
    frozenset(
        {
            "id",
            "floating_ip_address",
            "floating_network_id",
            "router_id",
            "fixed_ip_address",
            "tenant_id",
            "project_id",
            "status",
        }
    ),
    fip_not_found,
)


def render(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    details = None
    if row["fixed_port_id"]:
        port = store.get(conn, ports.TABLE, row["fixed_port_id"])
        if port is not None:
            details = {
                "name": port["name"],
                "network_id": port["network_id"],
                "mac_address": port["mac_address"],
                "admin_state_up": bool(port["admin_state_up"]),
                "status": port["status"],
                "device_id": port["device_id"],
                "device_owner": port["device_owner"],
            }
    return {
        "id": row["id"],
        **store.owner(row["project_id"]),
        "floating_ip_address": row["floating_ip_address"],
        "floating_network_id": row["floating_network_id"],
        "router_id": row["router_id"],
        "port_id": row["fixed_port_id"],
        "fixed_ip_address": row["fixed_ip_address"],
        "status": row["status"],
        "port_details": details,
        **store.standard(conn, KIND, row),
    }


def load(conn: sqlite3.Connection, who: Caller, fip_id: str) -> sqlite3.Row:
    row = store.get(conn, TABLE, fip_id)
    if row is None or not who.owns(row["project_id"]):
        raise fip_not_found(fip_id)
    return row


def router_for(
    conn: sqlite3.Connection, port: sqlite3.Row, subnet: sqlite3.Row, external_id: str
) -> str:
    """Neutron's `get_router_for_floatingip`: a router with an interface on the subnet
    and its gateway on the external network, the one holding the gateway IP first."""
    found = conn.execute(
        "SELECT DISTINCT rp.router_id, a.ip_address FROM neutron_router_ports rp"
        " JOIN neutron_ports p ON p.id = rp.port_id"
        " JOIN neutron_ip_allocations a ON a.port_id = p.id"
        " JOIN neutron_ports gw ON gw.device_id = rp.router_id"
        " WHERE p.network_id = ? AND rp.port_type = ? AND a.subnet_id = ?"
        " AND gw.network_id = ? AND gw.device_owner = ? ORDER BY p.seq",
        (
            port["network_id"],
            ports.ROUTER_INTERFACE,
            subnet["id"],
            external_id,
            ports.ROUTER_GATEWAY,
        ),
    ).fetchall()
    for row in found:
        if row["ip_address"] == subnet["gateway_ip"]:
            return row["router_id"]
    if found:
        return found[0]["router_id"]
    raise not_found(
        "ExternalGatewayForFloatingIPNotFound",
        f"External network {external_id} is not reachable from subnet {subnet['id']}.  "
        f"Therefore, cannot associate Port {port['id']} with a Floating IP.",
    )


def _association(
    conn: sqlite3.Connection, who: Caller, fip: dict[str, Any], port_id: str, fixed: str | None
) -> tuple[str, str, str]:
    """(port_id, fixed_ip_address, router_id) for associating `fip` with the port."""
    port, _ = ports.load(conn, who, port_id)
    if port["project_id"] != fip["project_id"] and not who.admin:
        raise bad_request(
            "floatingip",
            f"Cannot process floating IP association with Port {port_id}, since that port "
            "is owned by a different project",
        )
    if port["device_owner"] == "network:dhcp":
        raise bad_request("floatingip", "Port %(id)s is unable to be assigned a floating IP")
    ips = ports.ips_of(conn, port_id)
    if fixed:
        if ipam.address(fixed).version != 4:
            raise bad_request(
                "floatingip",
                f"Cannot process floating IP association with {fixed}, since that is not an "
                "IPv4 address",
            )
        match = next((ip for ip in ips if ip["ip_address"] == fixed), None)
        if match is None:
            raise bad_request("floatingip", f"Port {port_id} does not have fixed ip {fixed}")
    else:
        v4 = [ip for ip in ips if ipam.address(ip["ip_address"]).version == 4]
        if not v4:
            raise bad_request(
                "floatingip",
                f"Cannot add floating IP to port {port_id} that has no fixed IPv4 addresses",
            )
        if len(v4) > 1:
            raise bad_request(
                "floatingip",
                f"Port {port_id} has multiple fixed IPv4 addresses.  Must provide a specific "
                "IPv4 address when assigning a floating IP",
            )
        match = v4[0]
    subnet = store.get(conn, subnets.TABLE, match["subnet_id"])
    assert subnet is not None
    router_id = router_for(conn, port, subnet, fip["floating_network_id"])
    return port_id, match["ip_address"], router_id


def associate(
    conn: sqlite3.Connection, who: Caller, fip: dict[str, Any], body: dict[str, Any]
) -> tuple[Any, Any, Any]:
    """Neutron's `_check_and_get_fip_assoc`: the new (port, fixed ip, router)."""
    if body.get("fixed_ip_address") and not body.get("port_id"):
        raise bad_request("floatingip", "fixed_ip_address cannot be specified without a port_id")
    if body.get("port_id"):
        port_id, fixed, router_id = _association(
            conn, who, fip, body["port_id"], body.get("fixed_ip_address")
        )
        if port_id != fip.get("fixed_port_id"):
            other = conn.execute(
                f"SELECT id FROM {TABLE} WHERE fixed_port_id = ? AND floating_network_id = ?"
                " AND fixed_ip_address = ?",
                (port_id, fip["floating_network_id"], fixed),
            ).fetchone()
            if other is not None:
                raise conflict(
                    "FloatingIPPortAlreadyAssociated",
                    f"Cannot associate floating IP {fip['floating_ip_address']} ({fip['id']}) "
                    f"with port {port_id} using fixed IP {fixed}, as that fixed IP already has "
                    f"a floating IP on external network {fip['floating_network_id']}.",
                )
        return port_id, fixed, router_id
    if "port_id" not in body and fip.get("fixed_port_id"):
        return _association(conn, who, fip, fip["fixed_port_id"], fip.get("fixed_ip_address"))
    return None, None, None


# -- handlers --------------------------------------------------------------------------


def list_fips(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    where, args = narrowing(req, _COLUMNS)
    rows = conn.execute(f"SELECT * FROM {TABLE} WHERE 1{where} ORDER BY seq", args).fetchall()
    return listing(req, COLLECTION, [render(conn, r) for r in rows if who.owns(r["project_id"])])


# Filters that are text columns of their own (the rest are filtered once rendered).
_COLUMNS = {
    "id": "id",
    "floating_network_id": "floating_network_id",
    "floating_ip_address": "floating_ip_address",
    "port_id": "fixed_port_id",
    "router_id": "router_id",
}


def show_fip(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    return show(req, "floatingip", render(conn, load(conn, caller(req), param(req, "id"))))


def create_fip(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "floatingip", SPEC, True, who)
    with ctx.db.write() as conn:
        quotas.check(ctx, conn, {(item["project_id"], "floatingip"): 1})
        if item["floating_ip_address"] is not None and not who.admin:
            raise policy_denied(rule("create_floatingip", [("floating_ip_address", [])]))
        fip_id = create(ctx, conn, who, item)
        body = render(conn, store.get(conn, TABLE, fip_id))
    return show(req, "floatingip", body, 201)


def create(ctx: Context, conn: sqlite3.Connection, who: Caller, item: dict[str, Any]) -> str:
    network_id = item["floating_network_id"]
    net = store.get(conn, "neutron_networks", network_id)
    if net is None or not store.network_visible(who, net):
        raise not_found("NetworkNotFound", f"Network {network_id} could not be found.")
    if not net["external"]:
        raise bad_request("floatingip", f"Network {network_id} is not a valid external network")
    if not any(s["ip_version"] == 4 for s in subnets.of_network(conn, network_id)):
        raise bad_request("floatingip", f"Network {network_id} does not contain any IPv4 subnet")
    fip_id = new_id()
    fixed: dict[str, Any] = {}
    if item["subnet_id"]:
        fixed["subnet_id"] = item["subnet_id"]
    if item["floating_ip_address"]:
        fixed["ip_address"] = item["floating_ip_address"]
    body: dict[str, Any] = {
        "network_id": network_id,
        "device_id": fip_id,
        "device_owner": ports.FLOATINGIP,
        "project_id": "",
    }
    if fixed:
        body["fixed_ips"] = [fixed]
    port = ports.create_port(ctx, conn, Caller("", True), body)
    conn.execute(f"UPDATE {ports.TABLE} SET status = 'N/A' WHERE id = ?", (port["id"],))
    v4 = [ip for ip in port["fixed_ips"] if ipam.address(ip["ip_address"]).version == 4]
    if not v4:
        raise bad_request_exhausted(network_id)
    draft = {
        "id": fip_id,
        "project_id": item["project_id"],
        "floating_network_id": network_id,
        "floating_ip_address": v4[0]["ip_address"],
    }
    port_id, fixed_ip, router_id = associate(conn, who, draft, item)
    now = ctx.now()
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, floating_network_id, floating_ip_address,"
        " floating_port_id, fixed_port_id, fixed_ip_address, router_id, status, description,"
        " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fip_id,
            item["project_id"],
            network_id,
            v4[0]["ip_address"],
            port["id"],
            port_id,
            fixed_ip,
            router_id,
            "ACTIVE" if port_id else "DOWN",
            item["description"],
            now,
            now,
        ),
    )
    return fip_id


def bad_request_exhausted(network_id: str) -> NeutronError:
    return NeutronError(
        400,
        "ExternalIpAddressExhausted",
        f"Unable to find any IP address on external network {network_id}.",
    )


def update_fip(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "floatingip", SPEC, False, who)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        port_id, fixed, router_id = associate(conn, who, dict(row), item)
        values: dict[str, Any] = {
            "fixed_port_id": port_id,
            "fixed_ip_address": fixed,
            "router_id": router_id,
            "status": "ACTIVE" if port_id else "DOWN",
        }
        if "description" in item:
            values["description"] = item["description"]
        store.update_row(conn, TABLE, row["id"], values, ctx.now())
        body = render(conn, store.get(conn, TABLE, row["id"]))
    return show(req, "floatingip", body)


def delete_fip(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        row = load(conn, caller(req), param(req, "id"))
        conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (row["id"],))
        ports.remove(conn, row["floating_port_id"], ctx.now())
        store.drop_tags(conn, KIND, row["id"])
    return Response(204)
