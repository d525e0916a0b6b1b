"""Neutron quotas: `GET /quotas`, `/quotas/{project_id}`, `/quotas/{project_id}/details`,
`/quotas/{project_id}/default`, `/quotas/project`, and the OverQuota check made before a
create (Neutron's quota hook runs before the policy check).

Limits come from the `SimOptions.quota_*` knobs (-1 is unlimited). `rbac_policy` counts
the project's shared and external networks (each is an RBAC entry in Neutron),
`subnetpool` is unlimited and unused, as on a devstack without pools, and `router_route`
(extraroute-atomic's, routes per router) is Neutron's 30, always counted as 0 used.
"""

from __future__ import annotations

import sqlite3

from stackplan.sim.neutron.common import NeutronError, caller, over_quota, policy_denied
from stackplan.sim.neutron.query import param
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.wire import Request, Response

RBAC_POLICY_LIMIT = 10  # Neutron's default; no knob
ROUTER_ROUTE_LIMIT = 30  # Neutron's default quota_router_route; no knob

# resource -> (table counted, SimOptions field)
_TRACKED = {
    "network": ("neutron_networks", "quota_networks"),
    "subnet": ("neutron_subnets", "quota_subnets"),
    "port": ("neutron_ports", "quota_ports"),
    "router": ("neutron_routers", "quota_routers"),
    "floatingip": ("neutron_floatingips", "quota_floatingips"),
    "security_group": ("neutron_security_groups", "quota_security_groups"),
    "security_group_rule": ("neutron_security_group_rules", "quota_security_group_rules"),
}


def limits(ctx: Context) -> dict[str, int]:
    found = {name: getattr(ctx.options, knob) for name, (_, knob) in _TRACKED.items()}
    found["rbac_policy"] = RBAC_POLICY_LIMIT
    found["subnetpool"] = UNLIMITED
    found["router_route"] = ROUTER_ROUTE_LIMIT
    return dict(sorted(found.items()))


def used(conn: sqlite3.Connection, project_id: str, resource: str) -> int:
    if resource in ("subnetpool", "router_route"):
        # router_route: Neutron's `get_router_routes_count` returns 0 by design (the
        # limit applies per router, as Nova's server_group_members per group)
        return 0
    if resource == "rbac_policy":
        sql = "SELECT count(*) FROM neutron_networks WHERE project_id = ? AND (shared OR external)"
    else:
        sql = f"SELECT count(*) FROM {_TRACKED[resource][0]} WHERE project_id = ?"
    return conn.execute(sql, (project_id,)).fetchone()[0]


def check(ctx: Context, conn: sqlite3.Connection, wanted: dict[tuple[str, str], int]) -> None:
    """Raise OverQuota if adding `wanted` ((project, resource) -> count) passes a limit."""
    caps = limits(ctx)
    over = sorted(
        {
            resource
            for (project, resource), count in wanted.items()
            if caps[resource] > UNLIMITED and used(conn, project, resource) + count > caps[resource]
        }
    )
    if over:
        raise over_quota(over)


def _target(req: Request) -> str:
    project_id = param(req, "project_id")
    who = caller(req)
    if project_id != who.project_id and not who.admin:
        raise policy_denied("rule:get_quota")
    return project_id


def show(ctx: Context, req: Request) -> Response:
    _target(req)
    return Response(200, {"quota": limits(ctx)})


def default(ctx: Context, req: Request) -> Response:
    _target(req)
    return Response(200, {"quota": limits(ctx)})


def details(ctx: Context, req: Request) -> Response:
    project_id = param(req, "project_id")
    who = caller(req)
    if project_id != who.project_id and not who.admin:
        raise NeutronError(
            403,
            "AdminRequired",
            "User does not have admin privileges: Only admin is authorized to access "
            "quotas for another project.",
        )
    conn = ctx.db.read()
    body = {
        name: {"limit": limit, "used": used(conn, project_id, name), "reserved": 0}
        for name, limit in limits(ctx).items()
    }
    return Response(200, {"quota": body})


def listing(ctx: Context, req: Request) -> Response:
    """Projects with limits other than the defaults: none (there is no quota update)."""
    if not caller(req).admin:
        raise policy_denied("rule:get_quota")
    return Response(200, {"quotas": []})


def project(ctx: Context, req: Request) -> Response:
    return Response(200, {"project": {"project_id": caller(req).project_id}})
