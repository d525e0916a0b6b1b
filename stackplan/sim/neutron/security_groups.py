"""Security groups (`/security-groups`), their project's `default` group, and the
rules a new group starts with (`neutron/db/securitygroups_db.py`).

Every project gets `default` on first use, as Neutron ensures it: when the project
lists its groups or rules, creates a network, or creates or updates a port. `default`
has four rules (egress IPv4/IPv6 to anywhere, ingress IPv4/IPv6 from itself); any other
group starts with the two egress rules (Neutron's default rule templates). The default
group and its rules have ids derived from the project (stable across restarts and
databases, so a test may name them).
"""

from __future__ import annotations

import sqlite3
import uuid
from typing import Any

from stackplan.sim.neutron import checks, quotas, store
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    UNSET,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    bulk_requested,
    caller,
    conflict,
    new_id,
    not_found,
    prepare,
    read_only,
)
from stackplan.sim.neutron.query import STANDARD_FILTERS, Collection, listing, param, show
from stackplan.sim.options import Context
from stackplan.sim.wire import Request, Response

KIND = "security-groups"
TABLE = "neutron_security_groups"
DEFAULT_DESCRIPTION = "Default security group"
_NAMESPACE = uuid.UUID("7d3c55c0-4a8f-4e0e-9f53-5ad1c9a7e0b1")


def default_group_id(project_id: str) -> str:
    """The id of the project's `default` group (the same in every database)."""
    return str(uuid.uuid5(_NAMESPACE, f"{project_id}/default"))


def default_rule_id(group_id: str, direction: str, ethertype: str) -> str:
    """The id of one of the four rules `default` is made with."""
    return str(uuid.uuid5(_NAMESPACE, f"{group_id}/{direction}/{ethertype}"))


def group_not_found(group_id: str) -> NeutronError:
    return not_found("SecurityGroupNotFound", f"Security group {group_id} does not exist")


def _name_not_default(data: Any) -> str | None:
    reason = checks.string(255)(data)
    if reason:
        return reason
    if data.lower() == "default":
        raise conflict(
            "SecurityGroupDefaultAlreadyExists", "Default security group already exists."
        )
    return None


SPEC: AttrMap = {
    **read_only("id"),
    "name": Attr(default="", validate=_name_not_default),
    "description": Attr(default="", validate=checks.string(255)),
    "stateful": Attr(default=True, convert=checks.to_bool),
    **read_only("security_group_rules", "shared"),
    **STANDARD_READ_ONLY,
    **read_only("tags"),
}

COLLECTION = Collection(
    "security_groups",
    {**STANDARD_FILTERS, "name": None, "stateful": checks.to_bool, "shared": checks.to_bool},
    frozenset({"id", "name", "tenant_id", "project_id", "description", "revision_number"}),
    group_not_found,
)


# -- default groups ----------------------------------------------------------------------


def _insert_rule(
    conn: sqlite3.Connection,
    now: float,
    rule_id: str,
    project_id: str,
    group_id: str,
    direction: str,
    ethertype: str,
    remote_group_id: str | None = None,
) -> None:
    # Neutron makes these rules itself without a description: theirs is null, not ''.
    conn.execute(
        "INSERT INTO neutron_security_group_rules (id, project_id, security_group_id,"
        " direction, ethertype, remote_group_id, created, updated, made_by_neutron)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
        (rule_id, project_id, group_id, direction, ethertype, remote_group_id, now, now),
    )


def _insert_group(
    ctx: Context,
    conn: sqlite3.Connection,
    project_id: str,
    name: str,
    description: str,
    stateful: bool,
    default: bool,
) -> str:
    now = ctx.now()
    delta = 4 if default else 2
    quotas.check(ctx, conn, {(project_id, "security_group_rule"): delta})
    group_id = default_group_id(project_id) if default else new_id()
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, name, description, stateful, is_default,"
        " created, updated) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (group_id, project_id, name, description, int(stateful), int(default), now, now),
    )
    for ethertype in ("IPv4", "IPv6"):
        rule_id = default_rule_id(group_id, "egress", ethertype) if default else new_id()
        _insert_rule(conn, now, rule_id, project_id, group_id, "egress", ethertype)
    if default:  # ingress from the group's own members
        for ethertype in ("IPv4", "IPv6"):
            rule_id = default_rule_id(group_id, "ingress", ethertype)
            _insert_rule(conn, now, rule_id, project_id, group_id, "ingress", ethertype, group_id)
    return group_id


def default_group(conn: sqlite3.Connection, project_id: str) -> str | None:
    row = conn.execute(
        f"SELECT id FROM {TABLE} WHERE project_id = ? AND is_default = 1",
        (project_id,),
    ).fetchone()
    return row["id"] if row else None


def ensure_default(
    ctx: Context, conn: sqlite3.Connection, who: Caller, project_id: str
) -> str | None:
    """The project's default group, created now if it has none. Neutron will not make
    one for another project unless the caller is the admin (bug 1987410)."""
    if not project_id or (project_id != who.project_id and not who.admin):
        return None
    found = default_group(conn, project_id)
    if found:
        return found
    return _insert_group(ctx, conn, project_id, "default", DEFAULT_DESCRIPTION, True, True)


# -- rendering -------------------------------------------------------------------------


def render(conn: sqlite3.Connection, row: sqlite3.Row, listed: bool = False) -> dict[str, Any]:
    """The group with its rules. `listed`: for `GET /security-groups`, whose rules
    Neutron builds from database rows, not objects, so their `belongs_to_default_sg`
    is null (a show, create or update gives true or false)."""
    from stackplan.sim.neutron import sg_rules

    rules = conn.execute(
        "SELECT * FROM neutron_security_group_rules WHERE security_group_id = ? ORDER BY seq",
        (row["id"],),
    ).fetchall()
    in_default = None if listed else bool(row["is_default"])
    return {
        "id": row["id"],
        "name": row["name"],
        "stateful": bool(row["stateful"]),
        **store.owner(row["project_id"]),
        "shared": False,
        "security_group_rules": [sg_rules.render_inside(conn, r, in_default) for r in rules],
        **store.standard(conn, KIND, row),
    }


def load(conn: sqlite3.Connection, who: Caller, group_id: str) -> sqlite3.Row:
    row = store.get(conn, TABLE, group_id)
    if row is None or not who.owns(row["project_id"]):
        raise group_not_found(group_id)
    return row


def in_use(conn: sqlite3.Connection, group_id: str) -> bool:
    found = conn.execute(
        "SELECT 1 FROM neutron_port_groups WHERE group_id = ? LIMIT 1", (group_id,)
    ).fetchone()
    return found is not None


# -- handlers --------------------------------------------------------------------------


def list_groups(ctx: Context, req: Request) -> Response:
    who = caller(req)
    project = (req.query.get("project_id") or req.query.get("tenant_id") or [who.project_id])[0]
    with ctx.db.write() as conn:
        ensure_default(ctx, conn, who, project)
    conn = ctx.db.read()
    rows = conn.execute(f"SELECT * FROM {TABLE} ORDER BY seq").fetchall()
    items = [render(conn, r, listed=True) for r in rows if who.owns(r["project_id"])]
    return listing(req, COLLECTION, items)


def show_group(ctx: Context, req: Request) -> Response:
    conn = ctx.db.read()
    return show(req, "security_group", render(conn, load(conn, caller(req), param(req, "id"))))


def create_group(ctx: Context, req: Request) -> Response:
    who = caller(req)
    items = prepare(req, "security_group", SPEC, True, who, bulk=True)
    with ctx.db.write() as conn:
        wanted: dict[tuple[str, str], int] = {}
        for item in items:
            key = (item["project_id"], "security_group")
            wanted[key] = wanted.get(key, 0) + 1
        quotas.check(ctx, conn, wanted)
        made = []
        for item in items:
            ensure_default(ctx, conn, who, item["project_id"])
            stateful = True if item["stateful"] is UNSET else item["stateful"]
            made.append(
                _insert_group(
                    ctx,
                    conn,
                    item["project_id"],
                    item["name"],
                    item["description"],
                    stateful,
                    False,
                )
            )
        bodies = [render(conn, store.get(conn, TABLE, g)) for g in made]
    if not bulk_requested(req, "security_group"):
        return show(req, "security_group", bodies[0], 201)
    return Response(201, {"security_groups": bodies})


def update_group(ctx: Context, req: Request) -> Response:
    who = caller(req)
    (item,) = prepare(req, "security_group", SPEC, False, who)
    with ctx.db.write() as conn:
        row = load(conn, who, param(req, "id"))
        changed = "stateful" in item and bool(item["stateful"]) != bool(row["stateful"])
        if changed and in_use(conn, row["id"]):
            raise conflict("SecurityGroupInUse", f"Security Group {row['id']} in use.")
        if row["is_default"] and "name" in item:
            raise conflict(
                "SecurityGroupCannotUpdateDefault", "Updating default security group not allowed."
            )
        values = {k: item[k] for k in ("name", "description") if k in item}
        if "stateful" in item:
            values["stateful"] = int(item["stateful"])
        store.update_row(conn, TABLE, row["id"], values, ctx.now())
        body = render(conn, store.get(conn, TABLE, row["id"]))
    return show(req, "security_group", body)


def delete_group(ctx: Context, req: Request) -> Response:
    who = caller(req)
    group_id = param(req, "id")
    with ctx.db.write() as conn:
        load(conn, who, group_id)  # the policy hook's fetch: another project's is a 404
        if in_use(conn, group_id):
            raise conflict("SecurityGroupInUse", f"Security Group {group_id} in use.")
        row = store.get(conn, TABLE, group_id)
        assert row is not None
        if row["name"] == "default" and not who.admin:
            raise conflict(
                "SecurityGroupCannotRemoveDefault",
                "Insufficient rights for removing default security group.",
            )
        delete(conn, group_id)
    return Response(204)


def delete(conn: sqlite3.Connection, group_id: str) -> None:
    """The group, its rules, and (foreign keys cascade) other groups' rules naming it."""
    rules = conn.execute(
        "SELECT id, security_group_id FROM neutron_security_group_rules"
        " WHERE security_group_id = ? OR remote_group_id = ?",
        (group_id, group_id),
    ).fetchall()
    conn.executemany(
        "DELETE FROM neutron_security_group_rules WHERE id = ?", [(r["id"],) for r in rules]
    )
    conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (group_id,))
    store.drop_tags(conn, KIND, group_id)
