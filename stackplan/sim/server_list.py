"""Nova server reads: `GET /servers`, `/servers/detail` with Nova's filters (an admin's
`all_tenants` included), and show."""

from __future__ import annotations

import ipaddress
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from stackplan.sim import (
    block_devices,
    compute,
    identity,
    lifecycle,
    nova_ports,
    server_addresses,
    servers,
)
from stackplan.sim.neutron import lookups
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

Matcher = Callable[[sqlite3.Row, lifecycle.Settled], bool]
_SORT_KEYS: dict[str, Callable[[sqlite3.Row, lifecycle.Settled], Any]] = {
    "created_at": lambda r, s: r["seq"],
    "display_name": lambda r, s: r["name"],
    "updated_at": lambda r, s: s.updated,
    "uuid": lambda r, s: r["id"],
    "vm_state": lambda r, s: s.vm_state,
    "key_name": lambda r, s: r["key_name"] or "",
    "launched_at": lambda r, s: r["launched_at"] or 0,
}


def _parse_time(value: str) -> float:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ApiError(
            400,
            f"Invalid input for query parameters changes-since. Value: "
            f"{value}. '{value}' is not a 'date-time'",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _name_matcher(pattern: str) -> Matcher:
    # Nova's name filter is an unanchored regex search (REGEXP); a pattern Python cannot
    # compile falls back to a substring match, as Nova does on non-regex backends.
    try:
        regex = re.compile(pattern)
        return lambda r, s: regex.search(r["name"]) is not None
    except re.error:
        return lambda r, s: pattern in r["name"]


def _status_matcher(req: Request, values: list[str]) -> Matcher:
    vm_states: set[str] = set()
    for value in values:
        wanted = lifecycle.STATUS_TO_VM_STATES.get(value.upper())
        if wanted is None:
            if req.version >= (2, 38):
                raise ApiError(400, "Invalid status value")
            return lambda r, s: False
        vm_states |= wanted
    return lambda r, s: s.vm_state in vm_states


def _tags_matchers(req: Request) -> list[Matcher]:
    if req.version < (2, 26):
        return []
    matchers: list[Matcher] = []
    for param, want_all, negate in (
        ("tags", True, False),
        ("tags-any", False, False),
        ("not-tags", True, True),
        ("not-tags-any", False, True),
    ):
        raw = req.arg(param)
        if not raw:
            continue
        wanted = set(raw.split(","))

        def match(
            r: sqlite3.Row,
            s: lifecycle.Settled,
            wanted: set[str] = wanted,
            want_all: bool = want_all,
            negate: bool = negate,
        ) -> bool:
            have = set(json.loads(r["tags"]))
            hit = wanted <= have if want_all else bool(wanted & have)
            return hit != negate

        matchers.append(match)
    return matchers


def _ip_matcher(ctx: Context, pattern: str, version: int) -> Matcher:
    """Nova's `ip`/`ip6` filters: the regex matches the start of a fixed address of the
    given version on one of the server's ports (floating addresses do not count)."""
    regex = re.compile(pattern)
    by_server = lookups.fixed_ips_by_device(ctx.db.read(), "compute:")

    def match(r: sqlite3.Row, s: lifecycle.Settled) -> bool:
        return any(
            ipaddress.ip_address(a).version == version and regex.match(a)
            for a in by_server.get(r["id"], [])
        )

    return match


def _matchers(ctx: Context, req: Request) -> tuple[list[Matcher], float | None]:
    matchers: list[Matcher] = []
    if (name := req.arg("name")) is not None:
        matchers.append(_name_matcher(name))
    if statuses := req.query.get("status"):
        matchers.append(_status_matcher(req, statuses))
    since = None
    if (raw := req.arg("changes-since")) is not None:
        since = _parse_time(raw)
        matchers.append(lambda r, s: s.updated >= since)
    for param, column in (
        ("image", "image_id"),
        ("flavor", "flavor_id"),
        ("reservation_id", "id"),
        ("key_name", "key_name"),
    ):
        if (value := req.arg(param)) is not None:
            matchers.append(lambda r, s, c=column, v=value: r[c] == v)
    for param, version in (("ip", 4), ("ip6", 6)):
        if (pattern := req.arg(param)) is not None:
            matchers.append(_ip_matcher(ctx, pattern, version))
    matchers.extend(_tags_matchers(req))
    return matchers, since


# oslo's bool_from_string(strict=True), which Nova applies to `all_tenants`.
_TRUE = ("1", "t", "true", "on", "y", "yes")
_FALSE = ("0", "f", "false", "off", "n", "no")


def _all_tenants(req: Request, detail: bool) -> bool:
    """Whether the listing spans projects: `all_tenants` bare or truthy, admins only."""
    raw = req.arg("all_tenants")
    if raw is None:
        return False
    if raw and raw.strip().lower() not in _TRUE + _FALSE:
        accepted = ", ".join(f"'{v}'" for v in sorted(_TRUE + _FALSE))
        raise ApiError(
            400,
            f"Invalid input received: Unrecognized value '{raw}', acceptable values are: "
            f"{accepted}",
        )
    if raw and raw.strip().lower() in _FALSE:
        return False
    if not identity.is_admin(req.token):
        rule = "detail" if detail else "index"
        raise ApiError(
            403,
            f"Policy doesn't allow os_compute_api:servers:{rule}:get_all_tenants to be performed.",
        )
    return True


@dataclass(frozen=True, slots=True)
class _Paged:
    """One page read straight from the database (`_page_of`), `limit` asked."""

    rows: list[tuple[sqlite3.Row, lifecycle.Settled]]
    limit: int


def _select(
    ctx: Context, req: Request, detail: bool
) -> list[tuple[sqlite3.Row, lifecycle.Settled]] | _Paged:
    matchers, since = _matchers(ctx, req)
    now = ctx.now()
    if _all_tenants(req, detail):
        # Only with all_tenants does Nova honour a project filter (lp:#1185290).
        project = req.arg("project_id") or req.arg("tenant_id")
        sql = "SELECT * FROM servers WHERE " + ("project_id = ?" if project else "1")
        args: list[Any] = [project] if project else []
    else:
        sql = "SELECT * FROM servers WHERE project_id = ?"
        args = [req.token.project_id]
    if since is None:  # only changes-since shows deleted servers, as in Nova
        sql += " AND (gone_at IS NULL OR gone_at > ?)"
        args.append(now)
    sort_key = req.arg("sort_key")
    if not matchers and sort_key is None and since is None:
        # Nothing to filter on or sort by (the SQL leaves the deleted out): the page alone
        # is read, from the marker on, as Nova's database query does (not all 10,000).
        return _page_of(ctx, req, sql, args)
    rows = ctx.db.read().execute(sql + " ORDER BY seq DESC", args).fetchall()
    picked = []
    for row in rows:
        state = lifecycle.settle(row, now)
        if (since is None and state.gone) or not all(m(row, state) for m in matchers):
            continue
        picked.append((row, state))
    if sort_key is not None:
        if sort_key not in _SORT_KEYS:
            raise ApiError(400, f"Invalid input for query parameters sort_key. Value: {sort_key}.")
        key = _SORT_KEYS[sort_key]
        picked.sort(key=lambda p: key(*p), reverse=req.arg("sort_dir") != "asc")
    return picked


def _page_of(ctx: Context, req: Request, sql: str, args: list[Any]) -> _Paged:
    conn = ctx.db.read()
    marker = req.arg("marker")
    if marker is not None:
        found = conn.execute(sql.replace("SELECT *", "SELECT seq", 1) + " AND id = ?",
                             [*args, marker]).fetchone()  # fmt: skip
        if found is None:
            raise compute.marker_not_found(marker)
        sql, args = sql + " AND seq < ?", [*args, found["seq"]]
    limit = compute.page_limit(req)
    rows = conn.execute(sql + " ORDER BY seq DESC LIMIT ?", [*args, limit]).fetchall()
    now = ctx.now()
    return _Paged([(row, lifecycle.settle(row, now)) for row in rows], limit)


def _list(ctx: Context, req: Request, detail: bool) -> Response:
    picked = _select(ctx, req, detail)
    path = "servers/detail" if detail else "servers"
    key: Callable[[tuple[sqlite3.Row, lifecycle.Settled]], str] = lambda p: p[0]["id"]  # noqa: E731
    if isinstance(picked, _Paged):
        page = picked.rows
        extra = compute.next_links(req, page, picked.limit, key, "servers", path)
    else:
        page, extra = compute.paginate(req, picked, key, "servers", path)
    if detail:
        conn = ctx.db.read()
        nets = server_addresses.of_servers(
            conn, nova_ports.caller(req.token), [row["id"] for row, _ in page]
        )
        disks = block_devices.of_servers(conn, [row["id"] for row, _ in page])
        items = [
            servers.render(req, row, state, nets[row["id"]], disks=disks[row["id"]])
            for row, state in page
        ]
    else:
        items = [
            {
                "id": row["id"],
                "name": row["name"],
                "links": compute.links(req, "servers", row["id"]),
            }
            for row, _ in page
        ]
    return Response(200, {"servers": items, **extra})


def server_list(ctx: Context, req: Request) -> Response:
    return _list(ctx, req, detail=False)


def server_detail(ctx: Context, req: Request) -> Response:
    return _list(ctx, req, detail=True)


def server_show(ctx: Context, req: Request) -> Response:
    row, state = servers.load(ctx, req)
    return Response(200, {"server": servers.render_one(ctx, req, row, state)})
