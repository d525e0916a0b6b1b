"""Nova's security group views: `GET /servers/{id}/os-security-groups` and the proxy
`GET /os-security-groups` (gone from 2.36). The simulator keeps groups as names; each
gets a stable id, and `default` Neutron's usual rules as Nova's proxy shows them."""

from __future__ import annotations

import json
import uuid
from typing import Any

from stackplan.sim import servers
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

_NAMESPACE = uuid.UUID("7d3c55c0-4a8f-4e0e-9f53-5ad1c9a7e0b1")


def group_id(project_id: str, name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{project_id}/{name}"))


def render(project_id: str, name: str) -> dict[str, Any]:
    """A group in Nova's proxy shape. Neutron's default group lets in everything from its
    own members (one rule per ethertype) and lets everything out; Nova shows only the
    ingress rules, with the remote group named instead of a CIDR."""
    sg_id = group_id(project_id, name)
    rules: list[dict[str, Any]] = []
    if name == "default":
        rules = [
            {
                "id": str(uuid.uuid5(_NAMESPACE, f"{sg_id}/ingress/{ethertype}")),
                "parent_group_id": sg_id,
                "ip_protocol": None,
                "from_port": None,
                "to_port": None,
                "group": {"name": "default", "tenant_id": project_id},
                "ip_range": {},
            }
            for ethertype in ("IPv4", "IPv6")
        ]
    return {
        "id": sg_id,
        "name": name,
        "description": "Default security group" if name == "default" else "",
        "tenant_id": project_id,
        "rules": rules,
    }


def of_server(ctx: Context, req: Request) -> Response:
    row, _ = servers.load(ctx, req)
    names = {g["name"] for g in json.loads(row["security_groups"])}
    groups = sorted((render(row["project_id"], n) for n in names), key=lambda g: g["name"])
    return Response(200, {"security_groups": groups})


def listing(ctx: Context, req: Request) -> Response:
    """The project's groups: `default` (Neutron makes it with the project) and every name
    its servers use."""
    if req.version >= (2, 36):
        raise ApiError(404, "The resource could not be found.")
    project = req.token.project_id
    names = {"default"}
    for row in ctx.db.read().execute(
        "SELECT security_groups FROM servers WHERE project_id = ?"
        " AND (gone_at IS NULL OR gone_at > ?)",
        (project, ctx.now()),
    ):
        names |= {g["name"] for g in json.loads(row["security_groups"])}
    groups = [render(project, n) for n in sorted(names)]
    return Response(200, {"security_groups": groups})
