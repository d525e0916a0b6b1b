"""Networks (`/networks`): ML2 with VXLAN tenant networks as devstack runs it (MTU 1450;
the seeded flat `public` has 1500), `router:external`, `shared`, port security, and the
409 NetworkInUse while ports other than DHCP/distributed ones remain."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, quotas, security_groups, store, subnets, zones
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    bulk_requested,
    caller,
    conflict,
    explicitly_set,
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

KIND = "networks"
TABLE = "neutron_networks"
VXLAN_MTU = 1450  # global_physnet_mtu 1500 minus VXLAN's 50 bytes
IPV4_MIN_MTU = 68
IPV6_MIN_MTU = 1280


def network_not_found(network_id: str) -> NeutronError:
    return not_found("NetworkNotFound", f"Network {network_id} could not be found.")


SPEC: AttrMap = {
    **read_only("id", "subnets", "status"),
    "name": Attr(default="", validate=checks.name_string()),
    "admin_state_up": Attr(default=True, convert=checks.to_bool),
    "shared": Attr(default=False, convert=checks.to_bool),
    "router:external": Attr(default=False, convert=checks.to_bool),
    "mtu": Attr(default=0, convert=checks.to_int, validate=checks.non_negative),
    "port_security_enabled": Attr(default=True, convert=checks.to_bool),
    "description": Attr(default="", validate=checks.string(255)),
    "availability_zone_hints": zones.HINTS,
    # auto-allocated-topology: the default external network (at most one)
    "is_default": Attr(default=False, convert=checks.to_bool),
    **STANDARD_READ_ONLY,
    **read_only("tags", "availability_zones", "ipv4_address_scope", "ipv6_address_scope"),
}
# policy-enforced attributes, in the order Neutron's rule names them
_ENFORCED = ("shared", "router:external", "mtu", "port_security_enabled", "is_default")
_ADMIN_ONLY = ("shared", "router:external", "is_default")

COLLECTION = Collection(
    "networks",
    {
        **STANDARD_FILTERS,
        **dict.fromkeys(("name", "status")),
        "admin_state_up": checks.to_bool,
        "shared": checks.to_bool,
        "router:external": checks.to_bool,
        "mtu": checks.to_int,
        "is_default": checks.to_bool,
    },
    frozenset(
        {
            "id",
            "name",
            "admin_state_up",
            "status",
            "tenant_id",
            "project_id",
            "mtu",
            "revision_number",
            "availability_zone_hints",
        }
    ),
    network_not_found,
    # Neutron converts an `is_default` filter but applies it to nothing: every network
    # it would list without the filter is listed.
    {"is_default": lambda item, wanted: True},
)


def render(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    body = {
        "id": row["id"],
        "name": row["name"],
        **store.owner(row["project_id"]),
        "admin_state_up": bool(row["admin_state_up"]),
        "mtu": row["mtu"],
        "status": row["status"],
        "subnets": [s["id"] for s in subnets.of_network(conn, row["id"])],
        "shared": bool(row["shared"]),
        "router:external": bool(row["external"]),
        "port_security_enabled": bool(row["port_security"]),
        **zones.view(),
        # address-scope: only subnets from a pool in a scope give a network one
        "ipv4_address_scope": None,
        "ipv6_address_scope": None,
        **store.standard(conn, KIND, row),
    }
    if row["external"]:  # the flag lives on Neutron's externalnetworks row
        body["is_default"] = bool(row["is_default"])
    return body


def load(conn: sqlite3.Connection, who: Caller, network_id: str) -> sqlite3.Row:
    row = store.get(conn, TABLE, network_id)
    if row is None or not store.network_visible(who, row):
        raise network_not_found(network_id)
    return row


def _denied(action: str, item: dict[str, Any], who: Caller, creating: bool) -> None:
    if who.admin:
        return
    present = [
        name
        for name in _ENFORCED
        if (explicitly_set(item, SPEC, name) if creating else name in item)
    ]
    if any(name in _ADMIN_ONLY for name in present):
        raise policy_denied(rule(action, [(name, []) for name in present]))


def _check_default(conn: sqlite3.Connection, network_id: str | None, is_default: bool) -> None:
    """auto_allocate's callback: one default external network in the whole cloud (a
    network made or changed with `is_default` true while another is the default)."""
    if not is_default:
        return
    other = conn.execute(
        f"SELECT id FROM {TABLE} WHERE external AND is_default AND id != ? ORDER BY seq LIMIT 1",
        (network_id or "",),
    ).fetchone()
    if other is not None:
        raise conflict(
            "DefaultExternalNetworkExists",
            f"A default external network already exists: {other['id']}.",
        )


def insert(
    ctx: Context,
    conn: sqlite3.Connection,
    project_id: str,
    item: dict[str, Any],
    network_id: str | None = None,
    network_type: str = "vxlan",
) -> str:
    mtu = item.get("mtu") or (1500 if network_type == "flat" else VXLAN_MTU)
    limit = 1500 if network_type == "flat" else VXLAN_MTU
    if mtu > limit:
        raise invalid_input(f"Requested MTU is too big, maximum is {limit}")
    network_id, now = network_id or new_id(), ctx.now()
    external = bool(item["router:external"])
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, name, description, admin_state_up, status,"
        " shared, external, mtu, port_security, network_type, physical_network, created,"
        " updated, is_default) VALUES (?, ?, ?, ?, ?, 'ACTIVE', ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            network_id,
            project_id,
            item["name"],
            item["description"],
            int(item["admin_state_up"]),
            int(item["shared"]),
            int(item["router:external"]),
            mtu,
            int(item["port_security_enabled"]),
            network_type,
            "public" if network_type == "flat" else None,
            now,
            now,
            int(external and item.get("is_default") is True),
        ),
    )
    return network_id


def list_networks(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall()
    items = [render(conn, r) for r in rows if store.network_visible(who, r)]
    return listing(req, COLLECTION, items)


def show_network(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    return show(req, "network", render(conn, load(conn, caller(req), param(req, "id"))))


def create_network(ctx: Context, req: Request) -> Response:
    who = caller(req)
    items = prepare(req, "network", SPEC, True, who, bulk=True)
    with ctx.db.write() as conn:
        wanted: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["project_id"], "network")
            wanted[key] = wanted.get(key, 0) + 1
        quotas.check(ctx, conn, wanted)
        for item in items:
            _denied("create_network", item, who, creating=True)
        made = []
        for item in items:
            zones.check_hints(item["availability_zone_hints"])
            _check_default(conn, None, item["is_default"])
            security_groups.ensure_default(ctx, conn, who, item["project_id"])
            made.append(insert(ctx, conn, item["project_id"], item))
        bodies = []
        for network_id, item in zip(made, items, strict=True):
            body = render(conn, store.get(conn, TABLE, network_id))
            # the create answer reflects the request's flag, external or not
            body["is_default"] = item["is_default"]
            bodies.append(body)
    if not bulk_requested(req, "network"):
        return show(req, "network", bodies[0], 201)
    return Response(201, {"networks": bodies})


def update_network(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "network", SPEC, False, who)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        if not who.owns(row["project_id"]):
            raise policy_denied(rule("update_network", [(n, []) for n in _ENFORCED if n in item]))
        _denied("update_network", item, who, creating=False)
        if item.get("router:external") is False and row["external"]:
            gateways = conn.execute(
                "SELECT 1 FROM neutron_ports WHERE network_id = ?"
                " AND device_owner = 'network:router_gateway' LIMIT 1",
                (row["id"],),
            ).fetchone()
            if gateways is not None:
                raise conflict(
                    "ExternalNetworkInUse",
                    f"External network {row['id']} cannot be updated to be made "
                    "non-external, since it has existing gateway ports.",
                )
        if "mtu" in item:
            _check_mtu(conn, row, item["mtu"])
        values: dict[str, Any] = {k: item[k] for k in ("name", "description", "mtu") if k in item}
        external = item.get("router:external", bool(row["external"]))
        if "is_default" in item:
            _check_default(conn, row["id"], item["is_default"])
        if "is_default" in item or "router:external" in item:
            # a network made external starts as not the default; one made internal
            # loses its externalnetworks row, and the flag with it
            wanted = item.get("is_default", bool(row["is_default"]) and bool(row["external"]))
            values["is_default"] = int(bool(external and wanted))
        columns = {
            "admin_state_up": "admin_state_up",
            "shared": "shared",
            "router:external": "external",
            "port_security_enabled": "port_security",
        }
        values.update({col: int(item[key]) for key, col in columns.items() if key in item})
        store.update_row(conn, TABLE, row["id"], values, ctx.now())
        body = render(conn, store.get(conn, TABLE, row["id"]))
    return show(req, "network", body)


def _check_mtu(conn: sqlite3.Connection, row: sqlite3.Row, mtu: int) -> None:
    limit = 1500 if row["network_type"] == "flat" else VXLAN_MTU
    if mtu > limit:
        raise invalid_input(f"Requested MTU is too big, maximum is {limit}")
    versions = {s["ip_version"] for s in subnets.of_network(conn, row["id"])}
    minimum = IPV4_MIN_MTU if mtu < IPV4_MIN_MTU and versions else None
    if minimum is None and mtu < IPV6_MIN_MTU and 6 in versions:
        minimum = IPV6_MIN_MTU
    if minimum is not None:
        raise conflict(
            "NetworkMTUSubnetConflict",
            f"MTU of {row['id']} is not valid, subnet requires a minimum MTU of {minimum}.",
        )


def delete_network(ctx: Context, req: Request) -> Response:
    from stackplan.sim.neutron import ports

    who = caller(req)
    network_id = param(req, "id")
    with ctx.db.write() as conn:
        row = load(conn, who, network_id)
        if not who.owns(row["project_id"]):
            raise policy_denied(rule("delete_network"))
        marks = ", ".join("?" for _ in subnets.AUTO_DELETE_OWNERS)
        busy = conn.execute(
            "SELECT id FROM neutron_ports WHERE network_id = ?"
            f" AND device_owner NOT IN ({marks}) ORDER BY seq",
            (network_id, *subnets.AUTO_DELETE_OWNERS),
        ).fetchall()
        if busy:
            raise conflict(
                "NetworkInUse",
                f"Unable to complete operation on network {network_id}. There are one or "
                "more ports still in use on the network, id for these ports is: "
                f"{','.join(p['id'] for p in busy)}.",
            )
        auto = conn.execute(
            "SELECT id FROM neutron_ports WHERE network_id = ?", (network_id,)
        ).fetchall()
        for port in auto:  # only DHCP / distributed ports are left: Neutron deletes them
            ports.remove(conn, port["id"], ctx.now())
        for subnet in subnets.of_network(conn, network_id):
            subnets.delete(conn, subnet["id"], ctx.now())
        conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (network_id,))
        store.drop_tags(conn, KIND, network_id)
    return Response(204)
