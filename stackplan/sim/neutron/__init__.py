"""Neutron v2.0 at `/networking` (catalog type `network`, as devstack registers it).

`ROUTES` are `(methods, template, handler, auth, discovery)` for `stackplan.sim.routes`;
every handler first makes sure the Neutron tables exist (`schema.ready`). The in-process
port functions for Nova are in `ports` (`create_port`, `update_port`, `delete_port`).
"""

from __future__ import annotations

from collections.abc import Callable

from stackplan.sim.neutron import (
    discovery,
    floating_ips,
    networks,
    port_api,
    quotas,
    router_interfaces,
    routers,
    schema,
    security_groups,
    sg_rules,
    subnets,
    tags,
)
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

Handler = Callable[[Context, Request], Response]
N = "/networking/v2.0"
TAGGED = ("networks", "subnets", "ports", "routers", "security-groups", "floatingips")


def _ready(handler: Handler) -> Handler:
    def run(ctx: Context, req: Request) -> Response:
        schema.ready(ctx)
        return handler(ctx, req)

    run.__name__ = handler.__name__
    return run


def _crud(collection: str, module_handlers: tuple[Handler, ...]) -> list[tuple[str, str, Handler]]:
    listing, create, show, update, delete = module_handlers
    base = f"{N}/{collection}"
    return [
        ("GET", base, listing),
        ("POST", base, create),
        ("GET", f"{base}/{{id}}", show),
        ("PUT", f"{base}/{{id}}", update),
        ("DELETE", f"{base}/{{id}}", delete),
    ]


_API: list[tuple[str, str, Handler]] = [
    ("GET", f"{N}/extensions", discovery.extensions),
    ("GET", f"{N}/extensions/{{alias}}", discovery.extension),
    *_crud(
        "networks",
        (
            networks.list_networks,
            networks.create_network,
            networks.show_network,
            networks.update_network,
            networks.delete_network,
        ),
    ),
    *_crud(
        "subnets",
        (
            subnets.list_subnets,
            subnets.create_subnet,
            subnets.show_subnet,
            subnets.update_subnet,
            subnets.delete_subnet,
        ),
    ),
    *_crud(
        "ports",
        (
            port_api.list_ports,
            port_api.create_port,
            port_api.show_port,
            port_api.update_port,
            port_api.delete_port,
        ),
    ),
    *_crud(
        "routers",
        (
            routers.list_routers,
            routers.create_router,
            routers.show_router,
            routers.update_router,
            routers.delete_router,
        ),
    ),
    ("PUT", f"{N}/routers/{{id}}/add_router_interface", router_interfaces.add),
    ("PUT", f"{N}/routers/{{id}}/remove_router_interface", router_interfaces.remove),
    *_crud(
        "floatingips",
        (
            floating_ips.list_fips,
            floating_ips.create_fip,
            floating_ips.show_fip,
            floating_ips.update_fip,
            floating_ips.delete_fip,
        ),
    ),
    *_crud(
        "security-groups",
        (
            security_groups.list_groups,
            security_groups.create_group,
            security_groups.show_group,
            security_groups.update_group,
            security_groups.delete_group,
        ),
    ),
    ("GET", f"{N}/security-group-rules", sg_rules.list_rules),
    ("POST", f"{N}/security-group-rules", sg_rules.create_rule),
    ("GET", f"{N}/security-group-rules/{{id}}", sg_rules.show_rule),
    ("DELETE", f"{N}/security-group-rules/{{id}}", sg_rules.delete_rule),
    *(
        route
        for c in TAGGED
        for route in (
            ("GET", f"{N}/{c}/{{id}}/tags", tags.index),
            ("PUT", f"{N}/{c}/{{id}}/tags", tags.replace),
            ("DELETE", f"{N}/{c}/{{id}}/tags", tags.clear),
            ("GET", f"{N}/{c}/{{id}}/tags/{{tag}}", tags.check),
            ("PUT", f"{N}/{c}/{{id}}/tags/{{tag}}", tags.add),
            ("DELETE", f"{N}/{c}/{{id}}/tags/{{tag}}", tags.remove),
        )
    ),
    ("GET", f"{N}/quotas", quotas.listing),
    ("GET", f"{N}/quotas/project", quotas.project),
    ("GET", f"{N}/quotas/{{project_id}}", quotas.show),
    ("GET", f"{N}/quotas/{{project_id}}/details", quotas.details),
    ("GET", f"{N}/quotas/{{project_id}}/default", quotas.default),
]

ROUTES: tuple[tuple[str, str, Handler, bool, bool], ...] = (
    ("GET", "/networking", discovery.versions, False, True),
    ("GET", N, discovery.resources, True, True),
    *((methods, template, _ready(handler), True, False) for methods, template, handler in _API),
)
