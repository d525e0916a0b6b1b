"""Nova servers: create, list (with filters), show, update, delete, and the renderer.

Status comes from `lifecycle.settle` at read time; each list is one SQL query with
filters applied in Python, so `GET /servers/detail` stays fast with 1,000 servers.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import secrets
import sqlite3
import string
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from stackplan.sim import compute, lifecycle, quota, seed, server_groups
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.wire import ApiError, Request, Response

_PROGRESS_STATUSES = {"ACTIVE", "BUILD", "REBUILD", "RESIZE", "VERIFY_RESIZE", "MIGRATING"}
_META_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
_CREATE_KEYS = {
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "key_name",
    "security_groups",
    "metadata",
    "user_data",
    "availability_zone",
    "config_drive",
    "min_count",
    "max_count",
    "return_reservation_id",
    "block_device_mapping",
    "block_device_mapping_v2",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
}
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
        "addresses": {} if building else {"private": [address]},
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
        body["locked"] = False
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
    if _is_admin(req):
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


def _is_admin(req: Request) -> bool:
    user = seed.find_user(user_id=req.token.user_id) if req.token is not None else None
    return user is not None and user.role == "admin"


# -- create ----------------------------------------------------------------------------


def _bad_field(field: str, value: Any, reason: str) -> ApiError:
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def check_name(value: Any, field: str = "name") -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 255
        or value != value.strip()
        or not value.isprintable()
    ):
        raise ApiError(
            400,
            f"Invalid input for field/attribute {field}. Value: {value}. "
            "An invalid 'name' value was provided. The name must be: printable "
            "characters. Can not start or end with whitespace.",
        )
    return value


def check_metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise _bad_field("metadata", metadata, f"{metadata!r} is not of type 'object'")
    for key, value in metadata.items():
        if not _META_KEY.match(key):
            raise _bad_field("metadata", metadata, f"'{key}' does not match any of the regexes")
        if not isinstance(value, str) or len(value) > 255:
            raise _bad_field(key, value, f"{value!r} is not a valid metadata value")
    if len(metadata) > quota.MAX_METADATA:
        raise ApiError(403, f"Maximum number of metadata items exceeds {quota.MAX_METADATA}")
    return metadata


def check_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or len(tags) > 50:
        raise _bad_field("tags", tags, "Tags must be a list of at most 50 strings")
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "," in tag or "/" in tag:
            raise _bad_field("tags", tags, f"Invalid tag {tag!r}")
    return list(dict.fromkeys(tags))


def _check_user_data(value: Any) -> str | None:
    if value is None:
        raise _bad_field("user_data", value, "None is not of type 'string'")
    if not isinstance(value, str) or len(value) > 65535:
        raise _bad_field("user_data", value, "must be a base64 string of at most 65535 chars")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise _bad_field("user_data", value, "is not a base64 string") from None
    return value


def _allowed_keys(v: tuple[int, int]) -> set[str]:
    keys = set(_CREATE_KEYS)
    if v < (2, 57):
        keys.add("personality")
    if v >= (2, 19):
        keys.add("description")
    if v >= (2, 52):
        keys.add("tags")
    if v >= (2, 63):
        keys.add("trusted_image_certificates")
    return keys


def _check_image(ref: Any, flavor: seed.Flavor) -> seed.Image:
    if not ref:
        raise ApiError(400, "Missing imageRef attribute")
    image = seed.IMAGES_BY_ID.get(str(ref).rstrip("/").rsplit("/", 1)[-1])
    if image is None:
        raise ApiError(400, "Can not find requested image")
    if image.status != "active":
        raise ApiError(400, f"Image {image.id} is not active.")
    if image.min_ram > flavor.ram:
        raise ApiError(400, "Flavor's memory is too small for requested image.")
    if flavor.disk and image.min_disk > flavor.disk:
        raise ApiError(400, "Flavor's disk is too small for requested image.")
    return image


def _check_networks(req: Request, server: dict[str, Any]) -> None:
    networks = server.get("networks")
    if networks is None:
        if req.version >= (2, 37):
            raise _bad_field("server", server, "'networks' is a required property")
        return
    if isinstance(networks, str):
        if req.version < (2, 37) or networks not in ("auto", "none"):
            raise _bad_field("networks", networks, f"'{networks}' is not of type 'array'")
    elif not isinstance(networks, list):
        raise _bad_field("networks", networks, f"{networks!r} is not of type 'array'")


def password() -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _count(server: dict[str, Any]) -> int:
    try:
        low = int(server.get("min_count", 1))
        high = int(server.get("max_count", low))
    except (TypeError, ValueError):
        raise ApiError(400, "min_count and max_count must be integers") from None
    if low < 1 or high < 1:
        raise ApiError(400, "min_count and max_count must be positive")
    if low > high:
        raise ApiError(400, "min_count must be <= max_count")
    return high


def create(ctx: Context, req: Request) -> Response:
    body = req.json()
    server = body.get("server") if isinstance(body, dict) else None
    if not isinstance(server, dict):
        raise ApiError(400, "'server' is a required property")
    unknown = sorted(set(server) - _allowed_keys(req.version))
    if unknown:
        raise _bad_field(
            "server",
            server,
            f"Additional properties are not allowed ('{unknown[0]}' was unexpected)",
        )
    for required in ("name", "flavorRef"):
        if required not in server:
            raise _bad_field("server", server, f"'{required}' is a required property")
    name = check_name(server["name"])
    flavor = compute.find_flavor(server["flavorRef"])
    if flavor is None:
        raise ApiError(400, f"Flavor {server['flavorRef']} could not be found.")
    image = _check_image(server.get("imageRef"), flavor)
    _check_networks(req, server)
    metadata = check_metadata(server.get("metadata", {}))
    tags = check_tags(server.get("tags", []))
    user_data = _check_user_data(server["user_data"]) if "user_data" in server else None
    groups = server.get("security_groups") or [{"name": "default"}]
    if not isinstance(groups, list) or not all(isinstance(g, dict) and "name" in g for g in groups):
        raise _bad_field("security_groups", groups, "must be a list of {'name': ...}")
    groups = [{"name": g["name"]} for g in groups]
    count = _count(server)
    key_name = server.get("key_name")
    description = server.get("description") if req.version >= (2, 19) else name
    token = req.token
    now = ctx.now()
    build_end = now + ctx.options.build_seconds
    no_host = json.dumps(
        {
            "code": 500,
            "created": ts(build_end),
            "message": "No valid host was found. There are not enough hosts available.",
        }
    )
    ids = [str(uuid.uuid4()) for _ in range(count)]
    with ctx.db.write() as conn:
        group_id = server_groups.hint(ctx, req, body, conn)
        if group_id is not None:
            limit = ctx.options.quota_server_group_members
            have = len(server_groups.members(ctx, conn, group_id))
            if limit != UNLIMITED and have + count > limit:
                raise ApiError(403, "Quota exceeded, too many servers in group")
        hosts = server_groups.place(ctx, conn, group_id, count)
        if (
            key_name is not None
            and conn.execute(
                "SELECT 1 FROM keypairs WHERE user_id = ? AND name = ?", (token.user_id, key_name)
            ).fetchone()
            is None
        ):
            raise ApiError(400, "Invalid key_name provided.")
        used = quota.usage(ctx, token.project_id, conn)
        quota.check(ctx, used, quota.Usage(count, flavor.vcpus * count, flavor.ram * count))
        for server_id, host in zip(ids, hosts, strict=True):
            # The scheduler finds no valid host, or the test asked for a failed build.
            fail = host is None or metadata.get(FAIL_KEY) == "build"
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
                    name,
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
                    f"10.0.{(n >> 8) % 250 + 1}.{n % 250 + 2}",
                    "fa:16:3e:" + ":".join(f"{(n >> s) & 255:02x}" for s in (16, 8, 0)),
                    now,
                    now,
                    None if fail else build_end,
                    "building",
                    "spawning",
                    build_end,
                    "error" if fail else "active",
                    no_host if fail else None,
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
                "security_groups": groups,
                "adminPass": server.get("adminPass") or password(),
            }
        },
        {"Location": self_link[0]["href"]},
    )
