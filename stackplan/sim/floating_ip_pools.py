"""`GET /os-floating-ip-pools`, Nova's proxy of Neutron's external networks (gone from
2.36 like the other proxies): each pool is an external network the caller can see, by
name, or by id when it has none (`nova/api/openstack/compute/floating_ip_pools.py`)."""

from __future__ import annotations

from stackplan.sim import nova_ports
from stackplan.sim.neutron import lookups
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response


def listing(ctx: Context, req: Request) -> Response:
    if req.version >= (2, 36):
        raise ApiError(404, "The resource could not be found.")
    nets = lookups.external_networks(ctx.db.read(), nova_ports.caller(req.token))
    return Response(200, {"floating_ip_pools": [{"name": n["name"] or n["id"]} for n in nets]})
