"""Tags on networks, subnets, ports, routers, security groups and floating IPs:
`GET/PUT/DELETE /{collection}/{id}/tags` and `GET/PUT/DELETE /{collection}/{id}/tags/{tag}`
(`neutron/extensions/tagging.py`, `neutron/services/tag/tag_plugin.py`). A change bumps
the resource's revision number, as the tag's standard attribute does in Neutron."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, store
from stackplan.sim.neutron.common import (
    Caller,
    bad_request,
    caller,
    invalid_input,
    not_found,
    policy_denied,
    read_body,
)
from stackplan.sim.neutron.query import param
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

MAX_TAGS = 50
MAX_TAG_LEN = 255
_MEMBER = {
    "networks": "network",
    "subnets": "subnet",
    "ports": "port",
    "routers": "router",
    "security-groups": "security_group",
    "floatingips": "floatingip",
}


def _kind(req: Request) -> str:
    """The collection in `/networking/v2.0/<collection>/<id>/tags[/<tag>]`."""
    parts = req.path.split("/")
    return parts[parts.index("v2.0") + 1]


def _can_read(conn: sqlite3.Connection, who: Caller, kind: str, row: sqlite3.Row) -> bool:
    if who.owns(row["project_id"]):
        return True
    if kind == "networks":
        return store.network_visible(who, row)
    if kind in ("subnets", "ports"):
        net = store.get(conn, "neutron_networks", row["network_id"])
        if net is None:
            return False
        return store.network_visible(who, net) if kind == "subnets" else who.owns(net["project_id"])
    return False


def _resource(conn: sqlite3.Connection, req: Request, action: str) -> tuple[str, sqlite3.Row]:
    kind = _kind(req)
    resource_id = param(req, "id")
    row = store.get(conn, store.KINDS[kind], resource_id)
    if row is None:
        raise not_found(
            "TagResourceNotFound",
            f"Resource {kind.replace('-', '_')} {resource_id} could not be found.",
        )
    who = caller(req)
    allowed = _can_read(conn, who, kind, row) if action == "get" else who.owns(row["project_id"])
    if not allowed:
        raise policy_denied(f"rule:{action}_{_MEMBER[kind]}:tags")
    return kind, row


def _one_tag(req: Request) -> str:
    tag = param(req, "tag")
    reason = checks.string(MAX_TAG_LEN)(tag)
    if reason:
        raise invalid_input(reason)
    return tag


def _limit(kind: str, tags: list[str]) -> None:
    if len(set(tags)) > MAX_TAGS:
        raise bad_request(
            kind.replace("-", "_"),
            f"The number of tags exceed the per-resource limit of {MAX_TAGS}",
        )


def _changed(ctx: Context, conn: sqlite3.Connection, kind: str, resource_id: str) -> None:
    store.bump(conn, store.KINDS[kind], resource_id, ctx.now())


def index(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    kind, row = _resource(conn, req, "get")
    return Response(200, {"tags": store.tags_of(conn, kind, row["id"])})


def replace(ctx: Context, req: Request) -> Response:
    body: Any = read_body(req)
    if not isinstance(body, dict) or "tags" not in body:
        raise invalid_input("Invalid tags body")
    reason = checks.unique_strings(MAX_TAG_LEN)(body["tags"])
    if reason:
        raise invalid_input(reason)
    with ctx.db.write() as conn:
        kind, row = _resource(conn, req, "update")
        _limit(kind, body["tags"])
        store.drop_tags(conn, kind, row["id"])
        store.add_tags(conn, kind, row["id"], body["tags"])
        _changed(ctx, conn, kind, row["id"])
    return Response(200, {"tags": body["tags"]})


def clear(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        kind, row = _resource(conn, req, "delete")
        store.drop_tags(conn, kind, row["id"])
        _changed(ctx, conn, kind, row["id"])
    return Response(204)


def check(ctx: Context, req: Request) -> Response:
    tag = _one_tag(req)
    conn = ctx.db.read()
    kind, row = _resource(conn, req, "get")
    if tag not in store.tags_of(conn, kind, row["id"]):
        raise not_found("TagNotFound", f"Tag {tag} could not be found.")
    return Response(204)


def add(ctx: Context, req: Request) -> Response:
    tag = _one_tag(req)
    with ctx.db.write() as conn:
        kind, row = _resource(conn, req, "update")
        have = store.tags_of(conn, kind, row["id"])
        _limit(kind, [*have, tag])
        if tag not in have:
            store.add_tags(conn, kind, row["id"], [tag])
            _changed(ctx, conn, kind, row["id"])
    return Response(201)


def remove(ctx: Context, req: Request) -> Response:
    tag = _one_tag(req)
    with ctx.db.write() as conn:
        kind, row = _resource(conn, req, "delete")
        if tag not in store.tags_of(conn, kind, row["id"]):
            raise not_found("TagNotFound", f"Tag {tag} could not be found.")
        conn.execute(
            "DELETE FROM neutron_tags WHERE kind = ? AND resource_id = ? AND tag = ?",
            (kind, row["id"], tag),
        )
        _changed(ctx, conn, kind, row["id"])
    return Response(204)
