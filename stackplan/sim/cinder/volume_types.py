"""Volume types: `GET /types`, `GET /types/{id}` (and `/types/default`), and the look-ups
the volume code makes (`cinder/volume/volume_types.py`, `api/v3/types.py`, its view and
the `os-volume-type-access` extension).

A member sees only the user-visible extra specs (`multiattach`,
`RESKEY:availability_zones`, `replication_enabled`); the admin sees all of them and
`qos_specs_id`. Types are listed newest first.
"""

from __future__ import annotations

import ast
import json
import sqlite3
from typing import Any

from stackplan.sim.cinder.common import (
    Caller,
    bool_param,
    caller,
    is_uuid_like,
    type_name_not_found,
    type_not_found,
)
from stackplan.sim.cinder.paging import page, parse_paging
from stackplan.sim.cinder.seed import DEFAULT_TYPE
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

USER_VISIBLE_EXTRA_SPECS = ("RESKEY:availability_zones", "multiattach", "replication_enabled")
ACCESS_KEY = "os-volume-type-access:is_public"


def _decode(row: sqlite3.Row) -> dict[str, Any]:
    vtype = dict(row)
    vtype["extra_specs"] = json.loads(row["extra_specs"])
    vtype["is_public"] = bool(row["is_public"])
    return vtype


def by_id(conn: sqlite3.Connection, type_id: str) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM cinder_types WHERE id = ?", (type_id,)).fetchone()
    if row is None:
        raise type_not_found(type_id)
    return _decode(row)


def by_name_or_id(conn: sqlite3.Connection, identity: str) -> dict[str, Any]:
    """Cinder's `get_by_name_or_id`: an id-like value is tried as an id, then as a name."""
    if is_uuid_like(identity):
        row = conn.execute(
            "SELECT * FROM cinder_types WHERE id = ? OR name = ? ORDER BY id = ? DESC",
            (identity, identity, identity),
        ).fetchone()
        if row is None:
            raise type_not_found(identity)
        return _decode(row)
    row = conn.execute("SELECT * FROM cinder_types WHERE name = ?", (identity,)).fetchone()
    if row is None:
        raise type_name_not_found(identity)
    return _decode(row)


def default(conn: sqlite3.Connection) -> dict[str, Any]:
    row = conn.execute("SELECT * FROM cinder_types WHERE name = ?", (DEFAULT_TYPE,)).fetchone()
    return _decode(row)


def every(conn: sqlite3.Connection) -> list[dict[str, Any]]:
    """All types, newest first (Cinder's default sort: created_at desc)."""
    rows = conn.execute("SELECT * FROM cinder_types ORDER BY created DESC, id DESC").fetchall()
    return [_decode(r) for r in rows]


def render(vtype: dict[str, Any], who: Caller, access_field: bool = True) -> dict[str, Any]:
    specs = vtype["extra_specs"]
    if not who.admin:
        specs = {k: v for k, v in specs.items() if k in USER_VISIBLE_EXTRA_SPECS}
    body: dict[str, Any] = {
        "id": vtype["id"],
        "name": vtype["name"],
        "is_public": vtype["is_public"],
        "description": vtype["description"],
        "extra_specs": specs,
    }
    if who.admin:
        body["qos_specs_id"] = None
    if access_field:
        body[ACCESS_KEY] = vtype["is_public"]
    return body


# -- HTTP ----------------------------------------------------------------------------------


def _filters(req: Request, who: Caller) -> dict[str, Any]:
    allowed = ("is_public", "extra_specs")
    skip = ("limit", "marker", "offset", "sort", "sort_key", "sort_dir")
    found = {k: v[-1] for k, v in req.query.items() if k not in skip}
    if not who.admin:
        unknown = [k for k in found if k not in allowed]
        if unknown and req.version >= (3, 52):
            raise ApiError(400, f"Invalid filters {','.join(unknown)} are found in query options.")
        found = {k: v for k, v in found.items() if k in allowed}
    return found


def _matches(vtype: dict[str, Any], filters: dict[str, Any], who: Caller) -> bool:
    raw_public = filters.get("is_public") if who.admin else None
    if raw_public is not None and raw_public.lower() != "none":
        if vtype["is_public"] != bool_param(raw_public):
            return False
    elif not who.admin and not vtype["is_public"]:
        return False
    if "extra_specs" in filters:
        try:
            wanted = ast.literal_eval(filters["extra_specs"])
        except (ValueError, SyntaxError):
            wanted = filters["extra_specs"]
        if not isinstance(wanted, dict):
            return False
        if not who.admin and any(k not in USER_VISIBLE_EXTRA_SPECS for k in wanted):
            return False
        if any(vtype["extra_specs"].get(k) != str(v) for k, v in wanted.items()):
            return False
    return True


def listing(ctx: Context, req: Request) -> Response:
    who = caller(req)
    paging = parse_paging(req, default_key="created_at")
    filters = _filters(req, who)
    conn = ctx.db.read()
    chosen = [t for t in every(conn) if _matches(t, filters, who)]
    items, links = page(req, paging, chosen, "types", _sort_value, SORT_KEYS, type_not_found)
    body: dict[str, Any] = {"volume_types": [render(t, who) for t in items]}
    if links:
        body["volume_type_links"] = links
    return Response(200, body)


SORT_KEYS = frozenset({"id", "name", "description", "is_public", "created_at"})


def _sort_value(vtype: dict[str, Any], key: str) -> Any:
    return vtype["created"] if key == "created_at" else vtype[key]


def show(ctx: Context, req: Request) -> Response:
    type_id = req.params["type_id"]
    conn = ctx.db.read()
    if type_id == "default":
        # The access extension finds no cached type named "default": no access field.
        return Response(200, {"volume_type": render(default(conn), caller(req), False)})
    vtype = by_id(conn, type_id)
    who = caller(req)
    if not (vtype["is_public"] or who.admin):
        raise type_not_found(type_id)
    return Response(200, {"volume_type": render(vtype, who)})
