"""Nova's security group proxy over Neutron: `GET /servers/{id}/os-security-groups`,
`GET /os-security-groups` (gone from 2.36), and the `addSecurityGroup` /
`removeSecurityGroup` actions, which change every port of the server
(`nova/api/openstack/compute/security_groups.py`, `nova/network/security_group_api.py`).

Groups are Neutron's; Nova shows only their ingress rules, a remote group by its name
and project, and a missing prefix as 0.0.0.0/0 (IPv6 rules too, as Nova does)."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim import identity, lifecycle, network_requests, nova_ports, servers
from stackplan.sim.neutron import lookups, ports
from stackplan.sim.neutron.common import Caller, NeutronError
from stackplan.sim.options import Context
from stackplan.sim.port_allocation import CANNOT_APPLY
from stackplan.sim.wire import ApiError, Request, Response


def _rule(rule: dict[str, Any], remote: dict[str, Any] | None) -> dict[str, Any]:
    """`_convert_to_nova_security_group_rule_format` then `_format_security_group_rule`."""
    protocol = rule["protocol"]
    low, high = rule["port_range_min"], rule["port_range_max"]
    if protocol and low is None and high is None:
        low, high = (1, 65535) if protocol.upper() in ("TCP", "UDP") else (-1, -1)
    shown: dict[str, Any] = {
        "id": rule["id"],
        "parent_group_id": rule["security_group_id"],
        "ip_protocol": protocol,
        "from_port": low,
        "to_port": high,
        "group": {},
        "ip_range": {},
    }
    if rule["remote_group_id"]:
        shown["group"] = remote or {}
    else:
        shown["ip_range"] = {"cidr": rule["remote_ip_prefix"] or "0.0.0.0/0"}
    return shown


def render_groups(
    ctx: Context, conn: sqlite3.Connection, who: Caller, groups: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Neutron groups in Nova's shape, sorted by project and name. A rule whose remote
    group the caller cannot see is left out, as Nova does."""
    known = {g["id"]: {"name": g["name"], "tenant_id": g["project_id"]} for g in groups}
    remote_ids = {
        r["remote_group_id"]
        for g in groups
        for r in g["security_group_rules"]
        if r["remote_group_id"] and r["remote_group_id"] not in known
    }
    for g in lookups.find_groups(ctx, conn, who, ids=remote_ids) if remote_ids else []:
        known[g["id"]] = {"name": g["name"], "tenant_id": g["project_id"]}
    shown = []
    for group in groups:
        rules = [
            _rule(r, known.get(r["remote_group_id"]))
            for r in group["security_group_rules"]
            if r["direction"] == "ingress"
            and (not r["remote_group_id"] or r["remote_group_id"] in known)
        ]
        shown.append(
            {
                "id": group["id"],
                "description": group["description"],
                "name": group["name"],
                "tenant_id": group["project_id"],
                "rules": rules,
            }
        )
    return sorted(shown, key=lambda g: (g["tenant_id"], g["name"]))


def of_server(ctx: Context, req: Request) -> Response:
    """One entry per group per port of the server, as Nova lists them."""
    who = nova_ports.caller(req.token)
    with ctx.db.write() as conn:  # Neutron's listing makes the default group if missing
        row, _ = servers.load(ctx, req, conn)
        bound = ports.find_ports(conn, who, device_id=row["id"])
        ids = [g for p in bound for g in p["security_groups"]]
        by_id = {g["id"]: g for g in lookups.find_groups(ctx, conn, who, ids=set(ids))}
        groups = render_groups(ctx, conn, who, [by_id[g] for g in ids if g in by_id])
    return Response(200, {"security_groups": groups})


def _proxy_allowed(req: Request) -> None:
    if req.version >= (2, 36):
        raise ApiError(404, "The resource could not be found.")


def _paging(req: Request, name: str) -> int | None:
    raw = req.arg(name)
    if raw is None:
        return None
    if not raw.isdigit():
        raise ApiError(400, f"Invalid input for query parameters {name}. Value: {raw}.")
    return int(raw)


def listing(ctx: Context, req: Request) -> Response:
    """The project's groups (every project's for the admin with `all_tenants`)."""
    _proxy_allowed(req)
    who = nova_ports.caller(req.token)
    offset, limit = _paging(req, "offset") or 0, _paging(req, "limit")
    every = identity.is_admin(req.token) and "all_tenants" in req.query
    with ctx.db.write() as conn:
        found = lookups.find_groups(ctx, conn, who, project_id=None if every else who.project_id)
        page = found[offset : offset + (limit or 1000)]
        groups = render_groups(ctx, conn, who, page)
    return Response(200, {"security_groups": groups})


# -- add / remove ----------------------------------------------------------------------


def _group_name(action: str, arg: Any) -> str:
    if not isinstance(arg, dict):
        raise ApiError(
            400,
            f"Invalid input for field/attribute {action}. Value: {arg}. {arg!r} is not of "
            "type 'object'",
        )
    if "name" not in arg:
        raise ApiError(
            400,
            f"Invalid input for field/attribute {action}. Value: {arg}. 'name' is a "
            "required property",
        )
    name = arg["name"]
    if not isinstance(name, str) or not name:
        raise ApiError(
            400,
            f"Invalid input for field/attribute name. Value: {name}. {name!r} should be non-empty",
        )
    if not name.strip():
        raise ApiError(400, "Security group name cannot be empty")
    return name


def _find(ctx: Context, conn: sqlite3.Connection, who: Caller, ref: str) -> str:
    found = network_requests.find_group(ctx, conn, who, ref)
    if found is None:
        raise ApiError(404, f"Security group {ref} is not found for project {who.project_id}")
    return found


def _change(add: bool) -> Any:
    action = "addSecurityGroup" if add else "removeSecurityGroup"

    def run(
        ctx: Context,
        req: Request,
        conn: sqlite3.Connection,
        row: sqlite3.Row,
        state: lifecycle.Settled,
        arg: Any,
    ) -> Response:
        name = _group_name(action, arg)
        who = nova_ports.caller(req.token)
        group_id = _find(ctx, conn, who, name)
        bound = ports.find_ports(conn, who, device_id=row["id"])
        if not bound:
            raise ApiError(
                404, f"instance_id {row['id']} could not be found as device id on any ports"
            )
        changed = False
        for port in bound:
            groups = list(port["security_groups"])
            if add:
                if not (port["port_security_enabled"] and port["fixed_ips"]):
                    raise ApiError(400, CANNOT_APPLY)
                groups.append(group_id)  # Neutron keeps a group once
            elif group_id in groups:
                groups.remove(group_id)
            else:
                continue
            try:
                ports.update_port(ctx, conn, who, port["id"], {"security_groups": groups})
            except NeutronError as err:
                if add and err.status in (400, 409):
                    raise ApiError(err.status, err.message) from None
                raise
            changed = True
        if not add and not changed:
            raise ApiError(
                404, f"Security group {name} not associated with the instance {row['id']}"
            )
        return Response(202)

    run.__name__ = action
    return run


ACTIONS = {"addSecurityGroup": _change(add=True), "removeSecurityGroup": _change(add=False)}
