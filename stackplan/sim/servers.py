"""Nova servers: create, list (with filters), show, update, delete, and the renderer.

Status comes from `lifecycle.settle` at read time; each list is one SQL query with
filters applied in Python, so `GET /servers/detail` stays fast with 1,000 servers.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import string
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from stackplan.sim import compute, identity, lifecycle, quota, seed, server_groups
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.server_checks import (
    allowed_keys,
    bad_field,
    check_image,
    check_metadata,
    check_name,
    check_networks,
    check_tags,
    check_user_data,
    check_zone,
    count,
)
from stackplan.sim.wire import ApiError, Request, Response

_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
FAIL_KEY = "sim:fail"  # metadata `sim:fail: build` makes the build end in ERROR


def ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def ts_naive(t: float | None) -> str | None:
    if t is None:
        return None
    return datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")


def not_found(server_id: str) -> ApiError:
    return ApiError(404, f"Instance {server_id} could not be found.")


def load(
    ctx: Context, req: Request, conn: sqlite3.Connection | None = None
) -> tuple[sqlite3.Row, lifecycle.Settled]:
    """The caller's server named in the URL, settled now; 404 if absent or gone."""
    server_id = req.params["server_id"]
    row = (
        (conn or ctx.db.read())
        .execute(
            "SELECT * FROM servers WHERE id = ? AND project_id = ?",
            (server_id, req.token.project_id),
        )
        .fetchone()
    )
    if row is None:
        raise not_found(server_id)
    state = lifecycle.settle(row, ctx.now())
    if state.gone:
        raise not_found(server_id)
    return row, state


# -- rendering -------------------------------------------------------------------------


def _flavor_ref(req: Request, flavor_id: str) -> dict[str, Any]:
    if req.version >= (2, 47):
        f = seed.FLAVORS_BY_ID[flavor_id]
        return {
            "vcpus": f.vcpus,
            "ram": f.ram,
            "disk": f.disk,
            "ephemeral": 0,
            "swap": 0,
            "original_name": f.name,
            "extra_specs": {},
        }
    return {"id": flavor_id, "links": compute.links(req, "flavors", flavor_id)[1:]}


def render(
    req: Request, row: sqlite3.Row, state: lifecycle.Settled, reduced: bool = False
) -> dict[str, Any]:
    """The server at the request's microversion; `reduced` is the pre-2.75 PUT shape."""
    status = state.status
    building = state.vm_state == "building"
    address: dict[str, Any] = {"addr": row["ip"], "version": 4}
    if not reduced:
        address.update({"OS-EXT-IPS:type": "fixed", "OS-EXT-IPS-MAC:mac_addr": row["mac"]})
    # Nova's hostId: a hash of the project and the host, so a project can tell whether two
    # of its servers share a host without learning the host's name.
    host = row["host"]
    host_id = hashlib.sha224(f"{row['project_id']}{host}".encode()).hexdigest() if host else ""
    body: dict[str, Any] = {
        "id": row["id"],
        "name": row["name"],
        "status": status,
        "tenant_id": row["project_id"],
        "user_id": row["user_id"],
        "created": ts(row["created"]),
        "updated": ts(state.updated),
        "hostId": "" if building else host_id,
        "image": {
            "id": row["image_id"],
            "links": compute.links(req, "images", row["image_id"])[1:],
        },
        "flavor": _flavor_ref(req, row["flavor_id"]),
        "addresses": {} if building or not row["ip"] else {"private": [address]},
        "accessIPv4": row["access_ipv4"],
        "accessIPv6": row["access_ipv6"],
        "metadata": json.loads(row["metadata"]),
        "links": compute.links(req, "servers", row["id"]),
        "OS-DCF:diskConfig": "MANUAL",
    }
    if status in _PROGRESS_STATUSES:
        body["progress"] = 100 if status == "ACTIVE" else 0
    if row["fault"] and status in ("ERROR", "DELETED"):
        body["fault"] = json.loads(row["fault"])
    if req.version >= (2, 9):
        body["locked"] = bool(row["locked"])
    if req.version >= (2, 19):
        body["description"] = row["description"]
    if req.version >= (2, 26):
        body["tags"] = json.loads(row["tags"])
    if reduced:
        return body
    launched = row["launched_at"] if state.vm_state not in ("building", "error") else None
    if state.vm_state == "error" and row["launched_at"] and row["fault"] is None:
        launched = row["launched_at"]
    volumes: list[dict[str, Any]] = []
    body.update(
        {
            "key_name": row["key_name"],
            "config_drive": "",
            "OS-EXT-AZ:availability_zone": "nova",
            "OS-EXT-STS:vm_state": state.vm_state,
            "OS-EXT-STS:task_state": state.task_state,
            "OS-EXT-STS:power_state": state.power_state,
            "OS-SRV-USG:launched_at": ts_naive(launched),
            "OS-SRV-USG:terminated_at": ts_naive(row["gone_at"]) if state.gone else None,
            "os-extended-volumes:volumes_attached": volumes,
        }
    )
    if identity.is_admin(req.token):
        shown_host = None if building else host
        body["OS-EXT-SRV-ATTR:host"] = shown_host
        body["OS-EXT-SRV-ATTR:hypervisor_hostname"] = shown_host
        body["OS-EXT-SRV-ATTR:instance_name"] = f"instance-{row['seq']:08x}"
    if req.version >= (2, 63):
        body["trusted_image_certificates"] = None
    groups = json.loads(row["security_groups"])
    if groups:
        body["security_groups"] = groups
    return body


# -- create ----------------------------------------------------------------------------


def mac_tail(n: int) -> str:
    return ":".join(f"{(n >> s) & 255:02x}" for s in (16, 8, 0))


def password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def create(ctx: Context, req: Request) -> Response:
    body = req.json()
    server = body.get("server") if isinstance(body, dict) else None
    if not isinstance(server, dict):
        raise ApiError(400, "'server' is a required property")
    unknown = sorted(set(server) - allowed_keys(req.version))
    if unknown:
        raise bad_field(
            "server",
            server,
            f"Additional properties are not allowed ('{unknown[0]}' was unexpected)",
        )
    for required in ("name", "flavorRef"):
        if required not in server:
            raise bad_field("server", server, f"'{required}' is a required property")
    name = check_name(server["name"])
    flavor = compute.find_flavor(server["flavorRef"])
    if flavor is None:
        raise ApiError(400, f"Flavor {server['flavorRef']} could not be found.")
    forced_host = check_zone(ctx, req, server)
    image = check_image(ctx, req, server.get("imageRef"), flavor)
    no_network = check_networks(req, server)
    metadata = check_metadata(server.get("metadata", {}))
    tags = check_tags(server.get("tags", []))
    user_data = check_user_data(server["user_data"]) if "user_data" in server else None
    # The create response echoes the request's groups; the server gets `default` when none
    # are named, and none at all without a port to carry them (`networks: "none"`) or
    # with port security off, where asking for any but `default` fails the build.
    echoed = server.get("security_groups", [{"name": "default"}])
    if not isinstance(echoed, list) or not all(isinstance(g, dict) and "name" in g for g in echoed):
        raise bad_field("security_groups", echoed, "must be a list of {'name': ...}")
    names = list(dict.fromkeys(g["name"] for g in echoed if g["name"])) or ["default"]
    portless = no_network or not ctx.options.port_security
    groups = [] if portless else [{"name": n} for n in names]
    unappliable = not no_network and not ctx.options.port_security and names != ["default"]
    number = count(server)
    key_name = server.get("key_name")
    description = server.get("description") if req.version >= (2, 19) else name
    token = req.token
    now = ctx.now()
    build_end = now + ctx.options.build_seconds
    no_host = "No valid host was found. There are not enough hosts available."
    ids = [str(uuid.uuid4()) for _ in range(number)]
    # Nova suffixes each display name of a multiple create with its 1-based index.
    display = [f"{name}-{n}" for n in range(1, number + 1)] if number > 1 else [name]
    with ctx.db.write() as conn:
        group_id = server_groups.hint(ctx, req, body, conn)
        if group_id is not None:
            limit = ctx.options.quota_server_group_members
            have = len(server_groups.members(ctx, conn, group_id))
            if limit != UNLIMITED and have + number > limit:
                raise ApiError(403, "Quota exceeded, too many servers in group")
        if forced_host is not None:  # a forced host skips the scheduler's filters
            known = forced_host in server_groups.host_names(ctx)
            hosts: list[str | None] = [forced_host if known else None] * number
        else:
            hosts = server_groups.place(ctx, conn, group_id, number)
        if (
            key_name is not None
            and conn.execute(
                "SELECT 1 FROM keypairs WHERE user_id = ? AND name = ?", (token.user_id, key_name)
            ).fetchone()
            is None
        ):
            raise ApiError(400, "Invalid key_name provided.")
        used = quota.usage(ctx, token.project_id, conn)
        want = quota.Usage(number, flavor.vcpus * number, flavor.ram * number)
        quota.check(ctx, used, want)
        for server_id, host, display_name in zip(ids, hosts, display, strict=True):
            # The scheduler finds no valid host, the network cannot take the groups, or
            # the test asked for a failed build.
            fail = host is None or unappliable or metadata.get(FAIL_KEY) == "build"
            message = no_host
            if unappliable and host is not None:
                message = (
                    f"Build of instance {server_id} aborted: Network requires "
                    "port_security_enabled and subnet associated in order to apply "
                    "security groups."
                )
            fault = {"code": 500, "created": ts(build_end), "message": message}
            n = uuid.UUID(server_id).int
            conn.execute(
                "INSERT INTO servers (id, project_id, user_id, name, description, flavor_id,"
                " image_id, key_name, metadata, tags, security_groups, user_data,"
                " access_ipv4, access_ipv6, ip, mac, created, updated, launched_at,"
                " vm_state, task_state, task_until, next_vm_state, fault, host, server_group)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?)",
                (
                    server_id,
                    token.project_id,
                    token.user_id,
                    display_name,
                    description,
                    flavor.id,
                    image.id,
                    key_name,
                    json.dumps(metadata),
                    json.dumps(tags),
                    json.dumps(groups),
                    user_data,
                    server.get("accessIPv4", ""),
                    server.get("accessIPv6", ""),
                    "" if no_network else f"10.0.{(n >> 8) % 250 + 1}.{n % 250 + 2}",
                    "" if no_network else "fa:16:3e:" + mac_tail(n),
                    now,
                    now,
                    None if fail else build_end,
                    "building",
                    "spawning",
                    build_end,
                    "error" if fail else "active",
                    json.dumps(fault) if fail else None,
                    None if fail else host,
                    group_id,
                ),
            )
    if server.get("return_reservation_id"):
        return Response(202, {"reservation_id": f"r-{secrets.token_hex(4)}"})
    self_link = compute.links(req, "servers", ids[0])
    return Response(
        202,
        {
            "server": {
                "id": ids[0],
                "links": self_link,
                "OS-DCF:diskConfig": "MANUAL",
                "security_groups": echoed,
                "adminPass": server.get("adminPass") or password(),
            }
        },
        {"Location": self_link[0]["href"]},
    )
