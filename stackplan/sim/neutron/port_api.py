"""`/ports`: the HTTP side of `ports.py` (body checks, quota, listing filters)."""

from __future__ import annotations

from typing import Any

from stackplan.sim.neutron import checks, ports, quotas, store
from stackplan.sim.neutron.common import bulk_requested, caller, prepare
from stackplan.sim.neutron.query import (
    STANDARD_FILTERS,
    Collection,
    Item,
    listing,
    narrowing,
    param,
    show,
)
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response


def _fixed_ips(item: Item, wanted: list[Any]) -> bool:
    """`fixed_ips=subnet_id=X&fixed_ips=ip_address=Y`: one address matching all given keys."""
    (spec,) = wanted
    if not spec:
        return True
    for ip in item["fixed_ips"]:
        if "ip_address" in spec and ip["ip_address"] not in spec["ip_address"]:
            continue
        if "subnet_id" in spec and ip["subnet_id"] not in spec["subnet_id"]:
            continue
        subs = spec.get("ip_address_substr", [])
        if subs and not any(s in ip["ip_address"] for s in subs):
            continue
        return True
    return False


def _groups(item: Item, wanted: list[Any]) -> bool:
    return bool(set(item["security_groups"]) & set(wanted))


COLLECTION = Collection(
    "ports",
    {
        **STANDARD_FILTERS,
        **dict.fromkeys(("name", "network_id", "device_id", "device_owner", "status")),
        "admin_state_up": checks.to_bool,
        "mac_address": checks.sanitized_mac,
        "fixed_ips": None,
        "security_groups": None,
    },
    frozenset(
        {
            "id",
            "name",
            "network_id",
            "admin_state_up",
            "mac_address",
            "device_id",
            "device_owner",
            "tenant_id",
            "project_id",
            "status",
            "revision_number",
        }
    ),
    ports.port_not_found,
    {"fixed_ips": _fixed_ips, "security_groups": _groups},
)


# Filters that are text columns of their own (the rest are filtered once rendered).
_COLUMNS = {k: k for k in ("id", "name", "network_id", "device_id", "device_owner", "mac_address")}


def list_ports(ctx: Context, req: Request) -> Response:
    who = caller(req)
    conn = ctx.db.read()
    nets = {n["id"]: n for n in conn.execute("SELECT * FROM neutron_networks").fetchall()}
    where, args = narrowing(req, _COLUMNS)
    rows = conn.execute(f"SELECT * FROM neutron_ports WHERE 1{where} ORDER BY seq", args).fetchall()
    items = [
        ports.render(conn, r) for r in rows if store.port_visible(who, r, nets.get(r["network_id"]))
    ]
    return listing(req, COLLECTION, items)


def show_port(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    row, _ = ports.load(conn, caller(req), param(req, "id"))
    return show(req, "port", ports.render(conn, row))


def create_port(ctx: Context, req: Request) -> Response:
    who = caller(req)
    items = prepare(req, "port", ports.SPEC, True, who, bulk=True)
    with ctx.db.write() as conn:
        wanted: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["project_id"], "port")
            wanted[key] = wanted.get(key, 0) + 1
        quotas.check(ctx, conn, wanted)
        made = [ports.create(ctx, conn, who, item) for item in items]
        bodies = [ports.render(conn, store.get(conn, ports.TABLE, p)) for p in made]
    if not bulk_requested(req, "port"):
        return show(req, "port", bodies[0], 201)
    return Response(201, {"ports": bodies})


def update_port(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "port", ports.SPEC, False, who)
    port_id = param(req, "id")
    with ctx.db.write() as conn:
        ports.update(ctx, conn, who, port_id, item)
        body = ports.render(conn, store.get(conn, ports.TABLE, port_id))
    return show(req, "port", body)


def delete_port(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        ports.delete_port(ctx, conn, caller(req), param(req, "id"))
    return Response(204)
