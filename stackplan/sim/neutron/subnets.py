"""Subnets (`/subnets`) with Neutron's IPAM checks: the cidr, the gateway (the first
address by default, null allowed), the allocation pools (the rest of the range by
default), no overlap within a network, and SubnetInUse while ports hold addresses
(`neutron/db/db_base_plugin_v2.py`, `ipam_backend_mixin.py`). IPv6 is accepted with the
same rules (no SLAAC: every address comes from the pools)."""

from __future__ import annotations

import ipaddress
import json
import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, ipam, quotas, store
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    UNSET,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    bad_request,
    bulk_requested,
    caller,
    conflict,
    invalid_input,
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

KIND = "subnets"
TABLE = "neutron_subnets"
MAX_DNS = 5  # max_dns_nameservers
MAX_ROUTES = 20  # max_subnet_host_routes
AUTO_DELETE_OWNERS = ("network:dhcp", "network:distributed", "network:floatingip_agent_gateway")
IPV6_MODES = ["dhcpv6-stateful", "dhcpv6-stateless", "slaac"]


def subnet_not_found(subnet_id: str) -> NeutronError:
    return not_found("SubnetNotFound", f"Subnet {subnet_id} could not be found.")


SPEC: AttrMap = {
    **read_only("id"),
    "name": Attr(default="", validate=checks.name_string()),
    "ip_version": Attr(
        put=False, required=True, convert=checks.to_int, validate=checks.values([4, 6])
    ),
    "network_id": Attr(put=False, required=True, validate=checks.uuid_check),
    "subnetpool_id": Attr(put=False),
    "prefixlen": Attr(put=False, convert=checks.to_int, validate=checks.non_negative),
    "cidr": Attr(put=False, convert=checks.canonical_cidr, validate=checks.subnet_or_none),
    "gateway_ip": Attr(convert=checks.canonical_ip, validate=checks.ip_or_none),
    "allocation_pools": Attr(convert=checks.canonical_pools, validate=checks.ip_pools),
    "dns_nameservers": Attr(convert=checks.none_to_list, validate=checks.nameservers),
    "host_routes": Attr(convert=checks.none_to_list, validate=checks.hostroutes),
    "enable_dhcp": Attr(default=True, convert=checks.to_bool),
    "ipv6_ra_mode": Attr(put=False, validate=checks.values(IPV6_MODES)),
    "ipv6_address_mode": Attr(put=False, validate=checks.values(IPV6_MODES)),
    "description": Attr(default="", validate=checks.string(255)),
    # subnet-service-types: shown (empty), writes (admin-only in Neutron) not served
    **read_only("shared", "router:external", "service_types"),
    **STANDARD_READ_ONLY,
    **read_only("tags"),
}
_FILTERS = {
    **STANDARD_FILTERS,
    **dict.fromkeys(("name", "network_id", "subnetpool_id", "cidr", "gateway_ip")),
    **dict.fromkeys(("ipv6_ra_mode", "ipv6_address_mode")),
    "ip_version": checks.to_int,
    "enable_dhcp": checks.to_bool,
    "shared": checks.to_bool,
    "router:external": checks.to_bool,
}
COLLECTION = Collection(
    "subnets",
    _FILTERS,
    frozenset(
        {
            "id",
            "name",
            "ip_version",
            "network_id",
            "subnetpool_id",
            "cidr",
            "gateway_ip",
            "tenant_id",
            "project_id",
            "enable_dhcp",
            "ipv6_ra_mode",
            "ipv6_address_mode",
            "revision_number",
        }
    ),
    subnet_not_found,
)


def render(
    conn: sqlite3.Connection, row: sqlite3.Row, net: sqlite3.Row | None = None
) -> dict[str, Any]:
    net = net or store.get(conn, "neutron_networks", row["network_id"])
    assert net is not None
    return {
        "id": row["id"],
        "name": row["name"],
        **store.owner(row["project_id"]),
        "network_id": row["network_id"],
        "ip_version": row["ip_version"],
        "subnetpool_id": None,
        "enable_dhcp": bool(row["enable_dhcp"]),
        "ipv6_ra_mode": row["ipv6_ra_mode"],
        "ipv6_address_mode": row["ipv6_address_mode"],
        "gateway_ip": row["gateway_ip"],
        "cidr": row["cidr"],
        "allocation_pools": json.loads(row["allocation_pools"]),
        "host_routes": json.loads(row["host_routes"]),
        "dns_nameservers": json.loads(row["dns_nameservers"]),
        "router:external": bool(net["external"]),
        "service_types": [],
        **store.standard(conn, KIND, row),
        "_shared": bool(net["shared"]),
    }


def visible(conn: sqlite3.Connection, who: Caller, row: sqlite3.Row) -> bool:
    if who.owns(row["project_id"]):
        return True
    net = store.get(conn, "neutron_networks", row["network_id"])
    return net is not None and store.network_visible(who, net)


def load(conn: sqlite3.Connection, who: Caller, subnet_id: str) -> sqlite3.Row:
    row = store.get(conn, TABLE, subnet_id)
    if row is None or not visible(conn, who, row):
        raise subnet_not_found(subnet_id)
    return row


def of_network(conn: sqlite3.Connection, network_id: str) -> list[sqlite3.Row]:
    return conn.execute(
        f"SELECT * FROM {TABLE} WHERE network_id = ? ORDER BY seq",
        (network_id,),
    ).fetchall()


def _check(
    s: dict[str, Any], cidr: str | None, ip_version: int, current: sqlite3.Row | None
) -> None:
    """Neutron's `_validate_subnet` for a create (`current` None) or an update."""
    net = ipam.network(cidr) if cidr else None
    if net is not None and current is None:
        if net.version != ip_version:
            raise ipam.cidr_version_mismatch("cidr", s["cidr"], ip_version)
        if ip_version == 6 and int(net.network_address) == 0:
            raise invalid_input("IPv6 subnet '::' is not supported")
    was_dhcp = bool(current["enable_dhcp"]) if current is not None else False
    if net is not None and s.get("enable_dhcp") and not was_dhcp:
        if (ip_version == 4 and net.prefixlen > 30) or (ip_version == 6 and net.prefixlen > 126):
            raise invalid_input(
                "Subnet has a prefix length that is incompatible with DHCP service enabled"
            )
        if net.is_multicast:
            raise invalid_input("Multicast IP subnet is not supported if enable_dhcp is True")
        if net.is_loopback:
            raise invalid_input("Loopback IP subnet is not supported if enable_dhcp is True")
        if ip_version == 4 and int(net.network_address) == 0:
            raise invalid_input(
                "First IP '0.0.0.0' of network is not supported if enable_dhcp is True."
            )
    gateway = s.get("gateway_ip", UNSET)
    if gateway not in (UNSET, None):
        if ipam.address(gateway).version != ip_version:
            raise ipam.cidr_version_mismatch("gateway_ip", gateway, ip_version)
        gw = ipam.address(gateway)
        edges = (net.network_address, net.broadcast_address) if net is not None else ()
        if net is not None and net.version == 4 and gw in edges:
            raise invalid_input("Gateway is not valid on subnet")
    subnet_label = current["id"] if current is not None else "new subnet"
    if s.get("dns_nameservers", UNSET) is not UNSET:
        if len(s["dns_nameservers"]) > MAX_DNS:
            raise bad_request_exhausted(
                "DNSNameServersExhausted", subnet_label, "DNS nameservers", MAX_DNS
            )
        for dns in s["dns_nameservers"]:
            if ipam.address(dns).version != ip_version:
                raise ipam.cidr_version_mismatch("dns_nameserver", dns, ip_version)
    if s.get("host_routes", UNSET) is not UNSET:
        if len(s["host_routes"]) > MAX_ROUTES:
            raise bad_request_exhausted(
                "HostRoutesExhausted", subnet_label, "host routes", MAX_ROUTES
            )
        for route in s["host_routes"]:
            for key in ("nexthop", "destination"):
                if ipaddress.ip_interface(route[key]).version != ip_version:
                    raise ipam.cidr_version_mismatch(key, route[key], ip_version)
    if ip_version == 4:
        for mode in ("ipv6_ra_mode", "ipv6_address_mode"):
            if s.get(mode, UNSET) not in (UNSET, None):
                raise invalid_input(f"{mode} is not valid when ip_version is 4")


def bad_request_exhausted(kind: str, subnet: str, what: str, limit: int) -> NeutronError:
    return NeutronError(
        400,
        kind,
        f"Unable to complete operation for {subnet}. The number of {what} exceeds the "
        f"limit {limit}.",
    )


def create(ctx: Context, conn: sqlite3.Connection, who: Caller, s: dict[str, Any]) -> str:
    """Check and store one subnet (already through `prepare`); its id."""
    net = store.get(conn, "neutron_networks", s["network_id"])
    if net is None:
        raise not_found("NetworkNotFound", f"Network {s['network_id']} could not be found.")
    if not who.owns(net["project_id"]):
        raise policy_denied(rule("create_subnet"))
    has_cidr = s["cidr"] not in (UNSET, None)
    if has_cidr and s["prefixlen"] is not UNSET:
        raise bad_request("subnets", "cidr and prefixlen must not be supplied together")
    if s["subnetpool_id"] not in (UNSET, None):
        raise not_found(
            "SubnetPoolNotFound", f"Subnet pool {s['subnetpool_id']} could not be found."
        )
    if not has_cidr:
        raise bad_request("subnets", "a subnetpool must be specified in the absence of a cidr")
    parsed = ipam.network(s["cidr"])
    cidr = f"{parsed.network_address}/{parsed.prefixlen}"
    _check(s, cidr, s["ip_version"], None)
    gateway = ipam.default_gateway(cidr) if s["gateway_ip"] is UNSET else s["gateway_ip"]
    if s["allocation_pools"] is UNSET:
        pools = ipam.generate_pools(cidr, gateway)
    else:
        ipam.check_pools(s["allocation_pools"], cidr)
        pools = [{"start": p["start"], "end": p["end"]} for p in s["allocation_pools"]]
        if gateway:
            ipam.check_gateway_out_of_pools(gateway, pools)
    if parsed.prefixlen == 0:
        raise invalid_input("0 is not allowed as CIDR prefix length")
    if ipam.overlaps(cidr, [o["cidr"] for o in of_network(conn, net["id"])]):
        raise invalid_input(
            f"Requested subnet with cidr: {cidr} for network: {net['id']} overlaps with "
            "another subnet"
        )
    subnet_id, now = s.get("id") or new_id(), ctx.now()  # an id: the seed's
    dns = [] if s["dns_nameservers"] is UNSET else s["dns_nameservers"]
    routes = [] if s["host_routes"] is UNSET else s["host_routes"]
    modes = [None if s[m] is UNSET else s[m] for m in ("ipv6_ra_mode", "ipv6_address_mode")]
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, network_id, name, description, ip_version,"
        " cidr, gateway_ip, allocation_pools, dns_nameservers, host_routes, enable_dhcp,"
        " ipv6_ra_mode, ipv6_address_mode, created, updated)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            subnet_id,
            s["project_id"],
            net["id"],
            s["name"],
            s["description"],
            s["ip_version"],
            cidr,
            gateway,
            json.dumps(pools),
            json.dumps(dns),
            json.dumps(routes),
            int(s["enable_dhcp"]),
            *modes,
            now,
            now,
        ),
    )
    store.bump(conn, "neutron_networks", net["id"], now)
    return subnet_id


def list_subnets(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall()
    return listing(req, COLLECTION, [render(conn, r) for r in rows if visible(conn, who, r)])


def show_subnet(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    return show(req, "subnet", render(conn, load(conn, caller(req), param(req, "id"))))


def create_subnet(ctx: Context, req: Request) -> Response:
    who = caller(req)
    items = prepare(req, "subnet", SPEC, True, who, bulk=True)
    with ctx.db.write() as conn:
        wanted: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["project_id"], "subnet")
            wanted[key] = wanted.get(key, 0) + 1
        quotas.check(ctx, conn, wanted)
        made = [create(ctx, conn, who, item) for item in items]
        bodies = [render(conn, store.get(conn, TABLE, s)) for s in made]
    if not bulk_requested(req, "subnet"):
        return show(req, "subnet", bodies[0], 201)
    return Response(201, {"subnets": bodies})


def update_subnet(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (s,) = prepare(req, "subnet", SPEC, False, who)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        if not who.owns(row["project_id"]):
            raise policy_denied(rule("update_subnet"))
        _check(s, row["cidr"], row["ip_version"], row)
        if "gateway_ip" in s and s["gateway_ip"] != row["gateway_ip"] and row["gateway_ip"]:
            holder = conn.execute(
                "SELECT a.port_id FROM neutron_ip_allocations a JOIN neutron_ports p"
                " ON p.id = a.port_id WHERE a.subnet_id = ? AND a.ip_address = ?"
                " AND p.device_owner LIKE 'network:router_interface%'",
                (row["id"], row["gateway_ip"]),
            ).fetchone()
            if holder is not None:
                raise conflict(
                    "GatewayIpInUse",
                    f"Current gateway ip {row['gateway_ip']} already in use by port "
                    f"{holder['port_id']}. Unable to update.",
                )
        pools = json.loads(row["allocation_pools"])
        if s.get("allocation_pools") is not None:
            ipam.check_pools(s["allocation_pools"], row["cidr"])
            pools = [{"start": p["start"], "end": p["end"]} for p in s["allocation_pools"]]
        gateway = s.get("gateway_ip", row["gateway_ip"])
        if (gateway != row["gateway_ip"] or "allocation_pools" in s) and gateway:
            ipam.check_gateway_out_of_pools(gateway, pools)
        values: dict[str, Any] = {k: s[k] for k in ("name", "description") if k in s}
        if "gateway_ip" in s:
            values["gateway_ip"] = s["gateway_ip"]
        if "enable_dhcp" in s:
            values["enable_dhcp"] = int(s["enable_dhcp"])
        values["allocation_pools"] = json.dumps(pools)
        for key in ("dns_nameservers", "host_routes"):
            if key in s:
                values[key] = json.dumps(s[key])
        store.update_row(conn, TABLE, row["id"], values, ctx.now())
        body = render(conn, store.get(conn, TABLE, row["id"]))
    return show(req, "subnet", body)


def in_use(conn: sqlite3.Connection, subnet_id: str) -> bool:
    """Router interfaces, or ports other than the auto-deleted owners, hold an address."""
    marks = ", ".join("?" for _ in AUTO_DELETE_OWNERS)
    found = conn.execute(
        "SELECT 1 FROM neutron_ip_allocations a JOIN neutron_ports p ON p.id = a.port_id"
        f" WHERE a.subnet_id = ? AND p.device_owner NOT IN ({marks}) LIMIT 1",
        (subnet_id, *AUTO_DELETE_OWNERS),
    ).fetchone()
    return found is not None


def delete(conn: sqlite3.Connection, subnet_id: str, now: float) -> None:
    row = store.get(conn, TABLE, subnet_id)
    assert row is not None
    conn.execute("DELETE FROM neutron_ip_allocations WHERE subnet_id = ?", (subnet_id,))
    conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (subnet_id,))
    store.drop_tags(conn, KIND, subnet_id)
    store.bump(conn, "neutron_networks", row["network_id"], now)


def delete_subnet(ctx: Context, req: Request) -> Response:
    who = caller(req)
    subnet_id = param(req, "id")
    with ctx.db.write() as conn:
        row = load(conn, who, subnet_id)
        if not who.owns(row["project_id"]):
            raise policy_denied(rule("delete_subnet"))
        if in_use(conn, subnet_id):
            raise conflict(
                "SubnetInUse",
                f"Unable to complete operation on subnet {subnet_id}: One or more ports "
                "have an IP allocation from this subnet.",
            )
        delete(conn, subnet_id, ctx.now())
    return Response(204)
