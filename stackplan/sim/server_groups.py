"""Nova server groups (`/os-server-groups`) and the placement they make servers obey.

Members are the group's servers that are not deleted, read from the servers table, so a
deleted server leaves its group as in Nova. Placement runs at create: each server goes to
the least loaded of the `--hosts` compute hosts its group allows; when none is allowed the
build ends in ERROR with Nova's "No valid host was found".
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from stackplan.sim import compute, lifecycle, seed
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.wire import ApiError, Request, Response

POLICIES_V21 = ("anti-affinity", "affinity")
POLICIES = (*POLICIES_V21, "soft-anti-affinity", "soft-affinity")  # 2.15
POLICY_MICROVERSION = (2, 64)  # one `policy` and `rules` instead of `policies`


def host_names(ctx: Context) -> list[str]:
    return [f"sim-compute-{i}" for i in range(max(1, ctx.options.hosts))]


def _not_found(group_id: str) -> ApiError:
    return ApiError(404, f"Instance group {group_id} could not be found.")


def _bad(field: str, value: Any, reason: str) -> ApiError:
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def load(ctx: Context, project_id: str, group_id: str, conn: sqlite3.Connection | None = None):
    row = (
        (conn or ctx.db.read())
        .execute(
            "SELECT * FROM server_groups WHERE id = ? AND project_id = ?", (group_id, project_id)
        )
        .fetchone()
    )
    if row is None:
        raise _not_found(group_id)
    return row


def members(ctx: Context, conn: sqlite3.Connection, group_id: str) -> list[sqlite3.Row]:
    """The group's servers that are not deleted, oldest first."""
    now = ctx.now()
    rows = conn.execute(
        "SELECT * FROM servers WHERE server_group = ? ORDER BY seq", (group_id,)
    ).fetchall()
    return [r for r in rows if not lifecycle.settle(r, now).gone]


def render(
    ctx: Context, req: Request, row: sqlite3.Row, conn: sqlite3.Connection
) -> dict[str, Any]:
    body: dict[str, Any] = {"id": row["id"], "name": row["name"]}
    if req.version >= POLICY_MICROVERSION:
        body["policy"] = row["policy"]
        body["rules"] = json.loads(row["rules"])
    else:
        body["policies"] = [row["policy"]]
        body["metadata"] = {}  # exposed, never used, always empty (Nova's words)
    body["members"] = [m["id"] for m in members(ctx, conn, row["id"])]
    if req.version >= (2, 13):
        body["project_id"] = row["project_id"]
        body["user_id"] = row["user_id"]
    return body


def listing(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    if "all_projects" in req.query and _is_admin(req):
        rows = conn.execute("SELECT * FROM server_groups ORDER BY seq").fetchall()
    else:
        rows = conn.execute(
            "SELECT * FROM server_groups WHERE project_id = ? ORDER BY seq",
            (req.token.project_id,),
        ).fetchall()
    offset = _int_arg(req, "offset", 0)
    limit = min(_int_arg(req, "limit", compute.MAX_LIMIT), compute.MAX_LIMIT)
    page = rows[offset : offset + limit]
    return Response(200, {"server_groups": [render(ctx, req, r, conn) for r in page]})


def show(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    row = load(ctx, req.token.project_id, req.params["group_id"], conn)
    return Response(200, {"server_group": render(ctx, req, row, conn)})


def create(ctx: Context, req: Request) -> Response:
    body = req.json()
    group = body.get("server_group") if isinstance(body, dict) else None
    if not isinstance(group, dict):
        raise _bad("server_group", body, "'server_group' is a required property")
    policy, rules = _policy(req, group)
    name = group.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 255 or name != name.strip():
        raise _bad("name", name, "The name must be 1 to 255 printable characters.")
    token = req.token
    with ctx.db.write() as conn:
        limit = ctx.options.quota_server_groups
        used = conn.execute(
            "SELECT count(*) FROM server_groups WHERE project_id = ?", (token.project_id,)
        ).fetchone()[0]
        if limit != UNLIMITED and used + 1 > limit:
            raise ApiError(403, "Quota exceeded, too many server groups.")
        group_id = str(uuid.uuid4())
        conn.execute(
            "INSERT INTO server_groups (id, project_id, user_id, name, policy, rules, created)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (group_id, token.project_id, token.user_id, name, policy, json.dumps(rules), ctx.now()),
        )
        row = load(ctx, token.project_id, group_id, conn)
        return Response(200, {"server_group": render(ctx, req, row, conn)})


def delete(ctx: Context, req: Request) -> Response:
    with ctx.db.write() as conn:
        row = load(ctx, req.token.project_id, req.params["group_id"], conn)
        # Nova lets a group with members go: its servers simply belong to no group.
        conn.execute("UPDATE servers SET server_group = NULL WHERE server_group = ?", (row["id"],))
        conn.execute("DELETE FROM server_groups WHERE id = ?", (row["id"],))
    return Response(204)


def used(ctx: Context, project_id: str) -> int:
    return (
        ctx.db.read()
        .execute("SELECT count(*) FROM server_groups WHERE project_id = ?", (project_id,))
        .fetchone()[0]
    )


def _policy(req: Request, group: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The group's policy and rules, checked as Nova's schema for the microversion does."""
    if req.version >= POLICY_MICROVERSION:
        allowed = {"name", "policy", "rules"}
        extra = sorted(set(group) - allowed)
        if extra or "policy" not in group:
            reason = (
                f"Additional properties are not allowed ('{extra[0]}' was unexpected)"
                if extra
                else "'policy' is a required property"
            )
            raise _bad("server_group", group, reason)
        policy = group["policy"]
        if policy not in POLICIES:
            raise _bad("policy", policy, f"'{policy}' is not one of {list(POLICIES)}")
        rules = group.get("rules") or {}
        if not isinstance(rules, dict) or set(rules) - {"max_server_per_host"}:
            raise _bad("rules", rules, "Additional properties are not allowed")
        value = rules.get("max_server_per_host", 1)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise _bad("max_server_per_host", value, f"{value!r} is not a positive integer")
        if rules and policy != "anti-affinity":
            raise ApiError(400, "Only anti-affinity policy supports rules.")
        return policy, rules
    extra = sorted(set(group) - {"name", "policies"})
    if extra or "policies" not in group:
        reason = (
            f"Additional properties are not allowed ('{extra[0]}' was unexpected)"
            if extra
            else "'policies' is a required property"
        )
        raise _bad("server_group", group, reason)
    policies = group["policies"]
    allowed_policies = POLICIES if req.version >= (2, 15) else POLICIES_V21
    if not isinstance(policies, list) or len(policies) != 1:
        raise _bad("policies", policies, "exactly one policy is allowed")
    if policies[0] not in allowed_policies:
        raise _bad("policies", policies, f"'{policies[0]}' is not one of {list(allowed_policies)}")
    return policies[0], {}


def _is_admin(req: Request) -> bool:
    user = seed.find_user(user_id=req.token.user_id)
    return user is not None and user.role == "admin"


def _int_arg(req: Request, name: str, default: int) -> int:
    raw = req.arg(name)
    if raw is None:
        return default
    if not raw.isdigit():
        raise ApiError(400, f"Invalid input for query parameters {name}. Value: {raw}.")
    return int(raw)


# -- placement -------------------------------------------------------------------------


def hint(ctx: Context, req: Request, body: dict[str, Any], conn: sqlite3.Connection) -> str | None:
    """The server group a create's `os:scheduler_hints` names (checked), or None."""
    hints = body.get("os:scheduler_hints") or body.get("OS-SCH-HNT:scheduler_hints") or {}
    if not isinstance(hints, dict):
        raise _bad("os:scheduler_hints", hints, f"{hints!r} is not of type 'object'")
    group_id = hints.get("group")
    if group_id is None:
        return None
    try:
        uuid.UUID(str(group_id))
    except ValueError:
        raise _bad("group", group_id, f"'{group_id}' is not a 'uuid'") from None
    row = conn.execute(
        "SELECT * FROM server_groups WHERE id = ? AND project_id = ?",
        (group_id, req.token.project_id),
    ).fetchone()
    if row is None:
        raise ApiError(400, f"Instance group {group_id} could not be found.")
    return str(group_id)


def place(
    ctx: Context, conn: sqlite3.Connection, group_id: str | None, count: int
) -> list[str | None]:
    """A host for each of `count` new servers (None: no valid host), as the scheduler's
    affinity filters and weighers would choose, members placed so far included."""
    hosts = host_names(ctx)
    if len(hosts) == 1 and group_id is None:
        return [hosts[0]] * count  # one host and no policy: nothing to choose
    load_of = dict.fromkeys(hosts, 0)
    rows = conn.execute(
        "SELECT host, count(*) AS n FROM servers WHERE host IS NOT NULL"
        " AND (gone_at IS NULL OR gone_at > ?) GROUP BY host",
        (ctx.now(),),
    )
    for row in rows:
        if row["host"] in load_of:
            load_of[row["host"]] = row["n"]
    group = None
    in_group: dict[str, int] = dict.fromkeys(hosts, 0)
    if group_id is not None:
        group = conn.execute("SELECT * FROM server_groups WHERE id = ?", (group_id,)).fetchone()
        for member in members(ctx, conn, group_id):
            if member["host"] in in_group:
                in_group[member["host"]] += 1
    chosen: list[str | None] = []
    for _ in range(count):
        host = _choose(group, hosts, load_of, in_group)
        chosen.append(host)
        if host is not None:
            load_of[host] += 1
            in_group[host] += 1
    return chosen


def _choose(
    group: sqlite3.Row | None, hosts: list[str], load_of: dict[str, int], in_group: dict[str, int]
) -> str | None:
    def least_loaded(candidates: list[str]) -> str | None:
        return min(candidates, key=lambda h: (load_of[h], hosts.index(h))) if candidates else None

    if group is None:
        return least_loaded(hosts)
    policy = group["policy"]
    used = [h for h in hosts if in_group[h]]
    if policy == "affinity":
        return least_loaded(used or hosts)
    if policy == "anti-affinity":
        most = json.loads(group["rules"]).get("max_server_per_host", 1)
        return least_loaded([h for h in hosts if in_group[h] < most])
    if policy == "soft-affinity":
        return least_loaded(used) if used else least_loaded(hosts)
    # soft-anti-affinity: the host with the fewest members, then the least loaded
    return min(hosts, key=lambda h: (in_group[h], load_of[h], hosts.index(h)))
