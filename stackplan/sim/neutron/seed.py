"""What devstack's `create_neutron_initial_network` leaves behind, written once when the
database is created: the external flat network `public` (admin project) with
`public-subnet` 172.24.4.0/24 (no DHCP), the demo project's `private` network with
`private-subnet` 10.0.0.0/26 (or `--private-cidr`) and `router1` (gateway on `public`,
interface on `private-subnet`), a `shared` network (admin, shared) with 192.168.233.0/24
(unless `--no-shared-network`), and the two projects' default security groups (Neutron
makes them with the projects' first network).

Networks, subnets and the router have fixed ids; the ports made for the router get
fresh ones, kept with the rest of the database (`--db`)."""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from stackplan.sim import seed as sim_seed
from stackplan.sim.neutron import networks, router_interfaces, routers, security_groups, subnets
from stackplan.sim.neutron.common import Caller, prepare_item
from stackplan.sim.options import Context

_NAMESPACE = uuid.UUID("3f4c1a0e-9b57-4a3d-8a0e-6e1d2c5b7f10")


def _id(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


ADMIN = sim_seed.ADMIN_PROJECT.id
DEMO = sim_seed.DEMO_PROJECT.id
PUBLIC = _id("network/public")
PUBLIC_SUBNET = _id("subnet/public-subnet")
PRIVATE = _id("network/private")
PRIVATE_SUBNET = _id("subnet/private-subnet")
SHARED = _id("network/shared")
SHARED_SUBNET = _id("subnet/shared-subnet")
ROUTER1 = _id("router/router1")
ROUTER1_GATEWAY_IP = "172.24.4.10"


def _network(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    network_id: str,
    body: dict[str, Any],
    network_type: str = "vxlan",
) -> None:
    item = prepare_item(body, "network", networks.SPEC, True, who)
    networks.insert(ctx, conn, body["project_id"], item, network_id, network_type)


def _subnet(
    ctx: Context, conn: sqlite3.Connection, who: Caller, subnet_id: str, body: dict[str, Any]
) -> None:
    item = prepare_item({"ip_version": 4, **body}, "subnet", subnets.SPEC, True, who)
    item["id"] = subnet_id
    subnets.create(ctx, conn, who, item)


def populate(ctx: Context, conn: sqlite3.Connection) -> None:
    admin = Caller(ADMIN, True)
    security_groups.ensure_default(ctx, conn, admin, ADMIN)
    security_groups.ensure_default(ctx, conn, admin, DEMO)
    _network(
        ctx,
        conn,
        admin,
        PUBLIC,
        # devstack creates it with `--default` when Neutron has auto-allocated-topology
        {"name": "public", "router:external": True, "is_default": True, "project_id": ADMIN},
        "flat",
    )
    _subnet(
        ctx,
        conn,
        admin,
        PUBLIC_SUBNET,
        {
            "name": "public-subnet",
            "network_id": PUBLIC,
            "cidr": "172.24.4.0/24",
            "gateway_ip": "172.24.4.1",
            "enable_dhcp": False,
            "project_id": ADMIN,
            "allocation_pools": [{"start": "172.24.4.2", "end": "172.24.4.254"}],
        },
    )
    if ctx.options.shared_network:
        _network(ctx, conn, admin, SHARED, {"name": "shared", "shared": True, "project_id": ADMIN})
        _subnet(
            ctx,
            conn,
            admin,
            SHARED_SUBNET,
            {
                "name": "shared-subnet",
                "network_id": SHARED,
                "cidr": "192.168.233.0/24",
                "project_id": ADMIN,
            },
        )
    _network(ctx, conn, admin, PRIVATE, {"name": "private", "project_id": DEMO})
    _subnet(
        ctx,
        conn,
        admin,
        PRIVATE_SUBNET,
        {
            "name": "private-subnet",
            "network_id": PRIVATE,
            "cidr": ctx.options.private_cidr,
            "project_id": DEMO,
        },
    )
    item = {"project_id": DEMO, "name": "router1", "description": "", "admin_state_up": True}
    routers.insert(ctx, conn, item, ROUTER1)
    gateway = {
        "network_id": PUBLIC,
        "external_fixed_ips": [{"subnet_id": PUBLIC_SUBNET, "ip_address": ROUTER1_GATEWAY_IP}],
    }
    routers.set_gateway(ctx, conn, admin, ROUTER1, gateway)
    router_interfaces.attach_subnet(ctx, conn, admin, ROUTER1, PRIVATE_SUBNET)
