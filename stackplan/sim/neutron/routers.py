"""Routers (`/routers`) with the external gateway (ext-gw-mode) and the interface
actions, as `neutron/db/l3_db.py` and `l3_gwmode_db.py` do them. The gateway port has
no project (Neutron hides it from the router's owner)."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, ipam, ports, quotas, store, subnets, zones
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    UNSET,
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
from stackplan.sim.neutron.query import STANDARD_FILTERS, Collection, listing, param, show
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

KIND = "routers"
TABLE = "neutron_routers"


def router_not_found(router_id: str) -> NeutronError:
    return not_found("RouterNotFound", f"Router {router_id} could not be found")


SPEC: AttrMap = {
    **read_only("id"),
    "name": Attr(default="", validate=checks.name_string()),
    "admin_state_up": Attr(default=True, convert=checks.to_bool),
    "external_gateway_info": Attr(default=None, validate=checks.gateway_info),
    "description": Attr(default="", validate=checks.string(255)),
    "availability_zone_hints": zones.HINTS,
    # l3-flavors: Neutron serves no router flavors here, so any flavor named is unknown
    "flavor_id": Attr(put=False),
    # extraroute: shown, but `routes` writes (and extraroute-atomic) are not served
    **read_only("status", "availability_zones", "routes"),
    **STANDARD_READ_ONLY,
    **read_only("tags"),
}
COLLECTION = Collection(
    "routers",
    {**STANDARD_FILTERS, "name": None, "admin_state_up": checks.to_bool},
    frozenset(
        {
            "id",
            "name",
            "admin_state_up",
            "status",
            "tenant_id",
            "project_id",
            "revision_number",
            "availability_zone_hints",
            "flavor_id",
        }
    ),
    router_not_found,
)


def render(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    gateway = None
    if row["gw_port_id"]:
        port = store.get(conn, ports.TABLE, row["gw_port_id"])
        assert port is not None
        gateway = {
            "network_id": port["network_id"],
            "external_fixed_ips": ports.ips_of(conn, port["id"]),
            "enable_snat": bool(row["enable_snat"]),
        }
    return {
        "id": row["id"],
        "name": row["name"],
        **store.owner(row["project_id"]),
        "admin_state_up": bool(row["admin_state_up"]),
        "status": row["status"],
        "external_gateway_info": gateway,
        **zones.view(),
        "flavor_id": None,
        "routes": [],
        **store.standard(conn, KIND, row),
    }


def load(conn: sqlite3.Connection, who: Caller, router_id: str) -> sqlite3.Row:
    row = store.get(conn, TABLE, router_id)
    if row is None or not who.owns(row["project_id"]):
        raise router_not_found(router_id)
    return row


def interface_ports(conn: sqlite3.Connection, router_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT p.* FROM neutron_router_ports rp JOIN neutron_ports p ON p.id = rp.port_id"
        " WHERE rp.router_id = ? AND rp.port_type = ? ORDER BY p.seq",
        (router_id, ports.ROUTER_INTERFACE),
    ).fetchall()


def _router_subnets(conn: sqlite3.Connection, router: sqlite3.Row) -> list[sqlite3.Row]:
    """Subnets the router reaches: its interfaces' and its gateway network's."""
    found: list[sqlite3.Row] = []
    for rp in conn.execute(
        "SELECT * FROM neutron_router_ports WHERE router_id = ?", (router["id"],)
    ).fetchall():
        port = store.get(conn, ports.TABLE, rp["port_id"])
        if port is None:
            continue
        if rp["port_type"] == ports.ROUTER_GATEWAY:
            found.extend(subnets.of_network(conn, port["network_id"]))
        else:
            for ip in ports.ips_of(conn, port["id"]):
                subnet = store.get(conn, subnets.TABLE, ip["subnet_id"])
                if subnet is not None:
                    found.append(subnet)
    return found


def _check_dup_subnets(
    conn: sqlite3.Connection, router: sqlite3.Row, new: list[sqlite3.Row]
) -> None:
    """Neutron's `_check_for_dup_router_subnets`."""
    new_ids = {s["id"] for s in new}
    for rp in conn.execute(
        "SELECT port_id FROM neutron_router_ports WHERE router_id = ?", (router["id"],)
    ).fetchall():
        for ip in ports.ips_of(conn, rp["port_id"]):
            if ip["subnet_id"] in new_ids:
                raise bad_request(
                    "router", f"Router already has a port on subnet {ip['subnet_id']}"
                )
    for have in _router_subnets(conn, router):
        for s in new:
            a, b = ipam.network(have["cidr"]), ipam.network(s["cidr"])
            if a.version == b.version and a.overlaps(b):
                raise bad_request(
                    "router",
                    f"Cidr {s['cidr']} of subnet {s['id']} overlaps with cidr {have['cidr']} "
                    f"of subnet {have['id']}",
                )


def _drop_gateway(ctx: Context, conn: sqlite3.Connection, router: sqlite3.Row) -> None:
    if not router["gw_port_id"]:
        return
    gw = store.get(conn, ports.TABLE, router["gw_port_id"])
    fip = conn.execute(
        "SELECT 1 FROM neutron_floatingips WHERE router_id = ? LIMIT 1", (router["id"],)
    ).fetchone()
    if fip is not None and gw is not None:
        raise conflict(
            "RouterExternalGatewayInUseByFloatingIp",
            f"Gateway cannot be updated for router {router['id']}, since a gateway to "
            f"external network {gw['network_id']} is required by one or more floating IPs.",
        )
    conn.execute(f"UPDATE {TABLE} SET gw_port_id = NULL WHERE id = ?", (router["id"],))
    ports.remove(conn, router["gw_port_id"], ctx.now())


def set_gateway(
    ctx: Context, conn: sqlite3.Connection, who: Caller, router_id: str, info: Any
) -> None:
    """Neutron's `_update_router_gw_info`: move, re-address or drop the gateway."""
    router = store.get(conn, TABLE, router_id)
    assert router is not None
    info = info or {}
    ext_ips = info.get("external_fixed_ips") or []
    network_id = info.get("network_id")
    if network_id:
        net = store.get(conn, "neutron_networks", network_id)
        if net is None or not store.network_visible(who, net):
            raise not_found("NetworkNotFound", f"Network {network_id} could not be found.")
        if not net["external"]:
            raise bad_request("router", f"Network {network_id} is not an external network")
        for ip in ext_ips:
            for subnet in subnets.of_network(conn, network_id):
                if subnet["gateway_ip"] and ip.get("ip_address") == subnet["gateway_ip"]:
                    raise bad_request(
                        "router", f"External IP {ip['ip_address']} is the same as the gateway IP"
                    )
    snat = int(info.get("enable_snat", True))
    gw = store.get(conn, ports.TABLE, router["gw_port_id"]) if router["gw_port_id"] else None
    if gw is not None and network_id == gw["network_id"]:
        if ext_ips and _ips_changed(ports.ips_of(conn, gw["id"]), ext_ips):
            ports.update(ctx, conn, Caller(who.project_id, True), gw["id"], {"fixed_ips": ext_ips})
    else:
        _drop_gateway(ctx, conn, router)
        if network_id:
            _check_dup_subnets(conn, router, subnets.of_network(conn, network_id))
            body = {
                "network_id": network_id,
                "device_id": router_id,
                "device_owner": ports.ROUTER_GATEWAY,
                "project_id": "",
            }
            if ext_ips:
                body["fixed_ips"] = ext_ips
            port = ports.create_port(ctx, conn, Caller("", True), body)
            conn.execute(
                "INSERT INTO neutron_router_ports VALUES (?, ?, ?)",
                (router_id, port["id"], ports.ROUTER_GATEWAY),
            )
            conn.execute(f"UPDATE {TABLE} SET gw_port_id = ? WHERE id = ?", (port["id"], router_id))
    conn.execute(f"UPDATE {TABLE} SET enable_snat = ? WHERE id = ?", (snat, router_id))


def _ips_changed(have: list[dict[str, str]], wanted: list[dict[str, Any]]) -> bool:
    if {f["subnet_id"] for f in wanted if f.get("subnet_id")} != {h["subnet_id"] for h in have}:
        return True
    return {f["ip_address"] for f in wanted if f.get("ip_address")} != {
        h["ip_address"] for h in have
    }


def _gateway_policy(action: str, item: dict[str, Any], who: Caller) -> None:
    info = item.get("external_gateway_info")
    if who.admin or not info:
        return
    subs = [k for k in ("network_id", "external_fixed_ips", "enable_snat") if k in info]
    if "enable_snat" in subs or "external_fixed_ips" in subs:
        raise policy_denied(rule(action, [("external_gateway_info", subs)]))


# -- handlers --------------------------------------------------------------------------


def list_routers(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall()
    return listing(req, COLLECTION, [render(conn, r) for r in rows if who.owns(r["project_id"])])


def show_router(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    return show(req, "router", render(conn, load(conn, caller(req), param(req, "id"))))


def insert(
    ctx: Context, conn: sqlite3.Connection, item: dict[str, Any], router_id: str | None = None
) -> str:
    router_id, now = router_id or new_id(), ctx.now()
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, name, description, admin_state_up, status,"
        " created, updated) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?)",
        (
            router_id,
            item["project_id"],
            item["name"],
            item["description"],
            int(item["admin_state_up"]),
            now,
            now,
        ),
    )
    return router_id


def create_router(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "router", SPEC, True, who)
    with ctx.db.write() as conn:
        quotas.check(ctx, conn, {(item["project_id"], "router"): 1})
        _gateway_policy("create_router", item, who)
        if item["flavor_id"] is not UNSET:  # null too: Neutron looks up "None"
            raise not_found("FlavorNotFound", f"Flavor {item['flavor_id']} could not be found.")
        zones.check_hints(item["availability_zone_hints"])
        router_id = insert(ctx, conn, item)
        if item["external_gateway_info"]:
            set_gateway(ctx, conn, who, router_id, item["external_gateway_info"])
        body = render(conn, store.get(conn, TABLE, router_id))
    return show(req, "router", body, 201)


def update_router(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "router", SPEC, False, who)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        _gateway_policy("update_router", item, who)
        if "external_gateway_info" in item:
            set_gateway(ctx, conn, who, row["id"], item["external_gateway_info"])
        values: dict[str, Any] = {k: item[k] for k in ("name", "description") if k in item}
        if "admin_state_up" in item:
            values["admin_state_up"] = int(item["admin_state_up"])
        store.update_row(conn, TABLE, row["id"], values, ctx.now())
        body = render(conn, store.get(conn, TABLE, row["id"]))
    return show(req, "router", body)


def delete_router(ctx: Context, req: Request) -> Response:
    who = caller(req)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        attached = interface_ports(conn, row["id"])
        if attached:
            raise conflict(
                "RouterInUse",
                f"Router {row['id']} has ports still attached: "
                f"{', '.join(p['id'] for p in attached)}",
            )
        _drop_gateway(ctx, conn, row)
        for rp in conn.execute(
            "SELECT port_id FROM neutron_router_ports WHERE router_id = ?", (row["id"],)
        ).fetchall():
            ports.remove(conn, rp["port_id"], ctx.now())
        conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (row["id"],))
        store.drop_tags(conn, KIND, row["id"])
    return Response(204)
