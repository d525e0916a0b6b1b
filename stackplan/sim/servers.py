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
from functools import lru_cache
from typing import Any

from stackplan.sim import (
    block_devices,
    compute,
    flavor_specs,
    identity,
    instance_actions,
    lifecycle,
    network_requests,
    nova_ports,
    port_allocation,
    quota,
    seed,
    server_addresses,
    server_groups,
)
from stackplan.sim.neutron import schema
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.server_checks import (
    allowed_keys,
    bad_field,
    check_image,
    check_metadata,
    check_name,
    check_tags,
    check_user_data,
    check_zone,
    count,
)
from stackplan.sim.wire import ApiError, Request, Response

_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
FAIL_KEY = "sim:fail"  # metadata `sim:fail: build` makes the build end in ERROR


# Cached: a poll renders the same servers' times again and again.
@lru_cache(maxsize=16384)
def ts(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


@lru_cache(maxsize=16384)
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


def _flavor_ref(req: Request, row: sqlite3.Row) -> dict[str, Any]:
    flavor_id = row["flavor_id"]
    if req.version >= (2, 47):
        f = seed.FLAVORS_BY_ID[flavor_id]
        return {
            "vcpus": f.vcpus,
            "ram": f.ram,
            "disk": f.disk,
            "ephemeral": 0,
            "swap": 0,
            "original_name": f.name,
            # the specs as they were when the server booted or resized (Nova's copy)
            "extra_specs": json.loads(row["flavor_specs"]),
        }
    return {"id": flavor_id, "links": compute.links(req, "flavors", flavor_id)[1:]}


def render(
    req: Request,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    net: server_addresses.Networking,
    reduced: bool = False,
    disks: block_devices.Disks | None = None,
) -> dict[str, Any]:
    """The server at the request's microversion, with its networking as read from
    Neutron (`server_addresses`); `reduced` is the pre-2.75 PUT shape."""
    status = state.status
    building = state.vm_state == "building"
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
        }
        if row["image_id"]
        else "",  # booted from a volume
        "flavor": _flavor_ref(req, row),
        # Nova hides the addresses of a building server.
        "addresses": {} if building else net.rendered(extended=not reduced),
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
    volumes = block_devices.volumes_attached(req, disks)
    body.update(
        {
            "key_name": row["key_name"],
            "config_drive": block_devices.config_drive(disks),
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
    if net.security_groups:  # absent without a port to carry them
        body["security_groups"] = [{"name": n} for n in net.security_groups]
    return body


def render_one(
    ctx: Context,
    req: Request,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    reduced: bool = False,
    conn: sqlite3.Connection | None = None,
) -> dict[str, Any]:
    """`render` for one server, its networking read now."""
    net = server_addresses.of_server(conn or ctx.db.read(), nova_ports.caller(req.token), row["id"])
    disks = block_devices.of_server(conn or ctx.db.read(), row["id"])
    return render(req, row, state, net, reduced, disks)


# -- create ----------------------------------------------------------------------------


def password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


MAX_ATTEMPTS = 3  # Nova's [scheduler] max_attempts: a host and two alternates


def _fault(
    ctx: Context,
    server_id: str,
    host: str | None,
    refused: ApiError | None,
    forced: bool,
    test_fail: bool,
) -> str | None:
    """Why the build ends in ERROR, or None: the scheduler finds no valid host (no port
    is ever made), the compute host cannot allocate the network, or the test asked for it.

    An allocation error the compute manager does not abort on is rescheduled
    (`_do_build_and_run_instance`), failing the same way on every alternate host, until
    the conductor gives up with MaxRetriesExceeded: "Exhausted all hosts" when the
    alternates run out first (fewer than 3 hosts), the third attempt's error otherwise
    (`populate_retry`). A forced host is never retried: the fault is the error itself."""
    no_host = "No valid host was found. There are not enough hosts available."
    if host is None:
        return no_host
    if refused is None:
        return no_host if test_fail else None
    if isinstance(refused, nova_ports.NotRescheduled):
        return f"Build of instance {server_id} aborted: {refused.reason}"
    if forced:
        return refused.message
    if len(server_groups.host_names(ctx)) >= MAX_ATTEMPTS:
        return (
            f"Exceeded maximum number of retries. Exceeded max scheduling attempts "
            f"{MAX_ATTEMPTS} for instance {server_id}. Last exception: {refused.message}"
        )
    return (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        f"build failures for instance {server_id}."
    )


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
    storage = block_devices.requested(ctx, req, server, flavor, count(server)[1])
    # A server booted from a volume without imageRef has none ("" in its view).
    image_id = (
        "" if storage.volume_backed else check_image(ctx, req, server.get("imageRef"), flavor).id
    )
    min_count, number = count(server)
    requested = network_requests.parse(req, server, number)
    group_refs = network_requests.group_names(server)
    metadata = check_metadata(server.get("metadata", {}))
    tags = check_tags(server.get("tags", []))
    user_data = check_user_data(server["user_data"]) if "user_data" in server else None
    # The create response echoes the request's groups ([] included), or `default`.
    echoed = server.get("security_groups", [{"name": "default"}])
    key_name = server.get("key_name")
    description = server.get("description") if req.version >= (2, 19) else name
    token = req.token
    who = nova_ports.caller(token)
    now = ctx.now()
    build_end = now + ctx.options.build_seconds
    schema.ready(ctx)  # Neutron's tables, before the write transaction
    with ctx.db.write() as conn:
        # The compute API's order: groups (names to ids; `default` is Neutron's), then
        # the networks, ports and port quota, which may lower the count.
        refs = [
            g if g == "default" else network_requests.resolve_group(ctx, conn, who, g)
            for g in group_refs
        ]
        number = network_requests.validate(ctx, conn, who, requested, min_count, number)
        ids = [str(uuid.uuid4()) for _ in range(number)]
        # Nova suffixes each display name of a multiple create with its 1-based index.
        display = [f"{name}-{n}" for n in range(1, number + 1)] if number > 1 else [name]
        group_id = server_groups.hint(ctx, req, body, conn)
        if group_id is not None:
            limit = ctx.options.quota_server_group_members
            have = len(server_groups.members(ctx, conn, group_id))
            if limit != UNLIMITED and have + number > limit:
                raise ApiError(403, "Quota exceeded, too many servers in group")
        specs = flavor_specs.of(conn, flavor.id)
        # Placement first: a flavor's traits no host has leave the filters nothing
        unplaceable = not flavor_specs.placeable(specs)
        if unplaceable:
            hosts: list[str | None] = [None] * number
        elif forced_host is not None:  # a forced host skips the scheduler's filters
            known = forced_host in server_groups.host_names(ctx)
            hosts = [forced_host if known else None] * number
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
            refused = None
            if host is not None:  # the compute host allocates the network
                target = {"id": server_id, "project_id": token.project_id}
                try:
                    port_allocation.allocate(ctx, conn, who, target, requested, refs)
                except ApiError as err:
                    refused = err
            placed = host is not None and refused is None  # the host then makes the volumes
            aborted = block_devices.build(ctx, conn, token, server_id, storage, build_end, placed)
            refused = refused or aborted
            test_fail = metadata.get(FAIL_KEY) == "build"
            forced = forced_host is not None
            message = _fault(ctx, server_id, host, refused, forced, test_fail)
            if unplaceable:
                message = flavor_specs.NO_CANDIDATES
            fail = message is not None
            fault = {"code": 500, "created": ts(build_end), "message": message}
            conn.execute(
                "INSERT INTO servers (id, project_id, user_id, name, description, flavor_id,"
                " image_id, key_name, metadata, tags, security_groups, user_data,"
                " access_ipv4, access_ipv6, ip, mac, created, updated, launched_at,"
                " vm_state, task_state, task_until, next_vm_state, fault, host, server_group,"
                " ports_due, flavor_specs)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '', '', ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?)",
                (
                    server_id,
                    token.project_id,
                    token.user_id,
                    display_name,
                    description,
                    flavor.id,
                    image_id,
                    key_name,
                    json.dumps(metadata),
                    json.dumps(tags),
                    json.dumps(echoed),
                    user_data,
                    server.get("accessIPv4", ""),
                    server.get("accessIPv6", ""),
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
                    build_end,
                    json.dumps(specs),
                ),
            )
            events = instance_actions.build_events(host, message)
            instance_actions.record(ctx, conn, req, server_id, "create", events, build_end)
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
