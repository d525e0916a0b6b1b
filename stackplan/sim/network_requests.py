"""The `networks` and `security_groups` of a server create, as Nova's API reads and
validates them before anything is built: the body's shape (`schemas/servers.py`,
`servers.py` `_get_requested_networks`), the security groups' names or ids
(`security_group_api.validate_name`), and the networks, ports and port quota
(`nova/network/neutron.py` `validate_networks`). Errors carry Nova's wording."""

from __future__ import annotations

import ipaddress
import sqlite3
import uuid
from dataclasses import dataclass
from typing import Any

from stackplan.sim.neutron import lookups, quotas
from stackplan.sim.neutron.common import Caller, NeutronError
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.server_checks import bad_field
from stackplan.sim.wire import ApiError, Request

AMBIGUOUS = "Multiple possible networks found, use a Network ID to be more specific."


@dataclass(frozen=True, slots=True)
class NetworkRequest:
    """One entry of `networks`: a network (and maybe an address on it) or a port."""

    network_id: str | None = None
    fixed_ip: str | None = None
    port_id: str | None = None


@dataclass(frozen=True, slots=True)
class Requested:
    """What `networks` asks for. `mode` is "list" (the entries), "none", "auto" (2.37+),
    "unspecified" (absent or empty before 2.37: the one network there is, if any), or
    "single" (an interface attach naming neither a network nor a port)."""

    mode: str
    entries: tuple[NetworkRequest, ...] = ()


def is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return isinstance(value, str)


def _is_ip(value: Any) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return isinstance(value, str)


def _entry_keys(version: tuple[int, int]) -> set[str]:
    # `tag` came with 2.32, went with 2.37's new schema and came back with 2.42.
    tagged = (2, 32) <= version < (2, 37) or version >= (2, 42)
    return {"fixed_ip", "port", "uuid"} | ({"tag"} if tagged else set())


def _entry(req: Request, index: int, item: Any, ports_seen: list[str]) -> NetworkRequest:
    if not isinstance(item, dict):
        raise bad_field(str(index), item, f"{item!r} is not of type 'object'")
    extra = sorted(set(item) - _entry_keys(req.version))
    if extra:
        raise bad_field(
            str(index), item, f"Additional properties are not allowed ('{extra[0]}' was unexpected)"
        )
    fixed_ip, port = item.get("fixed_ip"), item.get("port")
    if "fixed_ip" in item and not _is_ip(fixed_ip):
        reason = f"{fixed_ip!r} is not valid under any of the given schemas"
        raise bad_field("fixed_ip", fixed_ip, reason)
    if port is not None and not is_uuid(port):
        raise bad_field("port", port, f"'{port}' is not a 'uuid'")
    if "uuid" in item and req.version >= (2, 37) and not is_uuid(item["uuid"]):
        raise bad_field("uuid", item["uuid"], f"'{item['uuid']}' is not a 'uuid'")
    if port:
        if port in ports_seen:
            raise ApiError(
                400,
                f"Port ID '{port}' was specified twice: you cannot attach a port multiple times.",
            )
        if fixed_ip is not None:
            raise ApiError(
                400,
                f"Specified Fixed IP '{fixed_ip}' cannot be used with port '{port}': the two "
                "cannot be specified together.",
            )
        ports_seen.append(port)
        return NetworkRequest(port_id=port)
    if "uuid" not in item:
        raise ApiError(400, "Bad network format: missing 'uuid'")
    if not is_uuid(item["uuid"]):
        raise ApiError(
            400, f"Bad networks format: network uuid is not in proper format ({item['uuid']})"
        )
    return NetworkRequest(network_id=item["uuid"], fixed_ip=fixed_ip)


def parse(req: Request, server: dict[str, Any], max_count: int) -> Requested:
    """The body's `networks`, checked as Nova's schema and API check it."""
    networks = server.get("networks")
    if networks is None:
        if req.version >= (2, 37):
            raise bad_field("server", server, "'networks' is a required property")
        return Requested("unspecified")
    if isinstance(networks, str):
        if req.version < (2, 37) or networks not in ("auto", "none"):
            raise bad_field("networks", networks, f"'{networks}' is not of type 'array'")
        return Requested(networks)
    if not isinstance(networks, list):
        raise bad_field("networks", networks, f"{networks!r} is not of type 'array'")
    seen: list[str] = []
    entries = tuple(_entry(req, i, item, seen) for i, item in enumerate(networks))
    if max_count > 1:  # compute API create: one port or one address cannot serve several
        if any(e.network_id and e.fixed_ip for e in entries):
            raise ApiError(
                400,
                "Failed to launch instances: max_count cannot be greater than 1 if an "
                "fixed_ip is specified.",
            )
        if any(e.port_id for e in entries):
            raise ApiError(
                400,
                "Failed to launch instances: Unable to launch multiple instances with a single "
                "configured port ID. Please launch your instance one by one with different ports.",
            )
    return Requested("list", entries) if entries else Requested("unspecified")


def group_names(server: dict[str, Any]) -> list[str]:
    """The requested groups' names (or ids), once each; `default` when none are named."""
    given = server.get("security_groups", [{"name": "default"}])
    if not isinstance(given, list) or not all(isinstance(g, dict) for g in given):
        raise bad_field("security_groups", given, f"{given!r} is not of type 'array'")
    for group in given:
        extra = sorted(set(group) - {"name"})
        if extra:
            raise bad_field(
                "security_groups",
                group,
                f"Additional properties are not allowed ('{extra[0]}' was unexpected)",
            )
    names = list(dict.fromkeys(g["name"] for g in given if g.get("name")))
    return names or ["default"]


def find_group(ctx: Context, conn: sqlite3.Connection, who: Caller, ref: str) -> str | None:
    """A group's id from its id (any group the caller may see) or its name (in the
    caller's project), as neutronclient's `find_resourceid_by_name_or_id` finds it for
    Nova; None if there is none. Several of that name are its 409 NoUniqueMatch."""
    if is_uuid(ref) and lookups.group_rows(ctx, conn, who, ids=[ref]):
        return ref
    named = lookups.group_rows(ctx, conn, who, project_id=who.project_id, name=ref)
    if len(named) > 1:
        raise ApiError(
            409,
            f"Multiple security_group matches found for name '{ref}', use an ID to be more "
            "specific.",
        )
    return named[0]["id"] if named else None


def resolve_group(ctx: Context, conn: sqlite3.Connection, who: Caller, ref: str) -> str:
    """`security_group_api.validate_name` at server create: Nova passes neutronclient's
    not-found message on as a 400."""
    found = find_group(ctx, conn, who, ref)
    if found is None:
        raise ApiError(400, f"Unable to find security_group with name or id '{ref}'")
    return found


def candidates(conn: sqlite3.Connection, who: Caller, auto: bool = False) -> list[dict[str, Any]]:
    """`_get_available_networks` with no ids: the project's own networks that are not
    shared (external ones it owns included, as Nova filters only on `shared`), then the
    shared ones; auto-allocation also wants them administratively up."""
    own = lookups.find_networks(conn, who, project_id=who.project_id, shared=False)
    if auto:
        own = [n for n in own if n["admin_state_up"]]
    return own + lookups.find_networks(conn, who, shared=True)


def _check_port(conn: sqlite3.Connection, who: Caller, port_id: str) -> dict[str, Any]:
    try:
        port = lookups.show_port(conn, who, port_id)
    except NeutronError as err:
        if err.status == 404:
            raise ApiError(400, f"Port id {port_id} could not be found.") from None
        raise
    if port["device_id"]:
        raise ApiError(409, f"Port {port_id} is still in use.")
    if not port["fixed_ips"]:
        raise ApiError(400, f"Port {port_id} requires a FixedIP in order to be used.")
    return port


def _ports_needed(conn: sqlite3.Connection, who: Caller, requested: Requested) -> int:
    """`_ports_needed_per_instance`: the ports each server needs, after the checks."""
    if requested.mode in ("unspecified", "auto"):
        nets = candidates(conn, who)
        if len(nets) > 1:
            raise ApiError(409, AMBIGUOUS)
        if not nets and requested.mode == "auto":
            # No auto-allocated-topology here: Neutron's dry run answers 409 (no default
            # external network, no default subnet pools), so Nova cannot allocate one.
            raise ApiError(
                400, f"Unable to automatically allocate a network for project {who.project_id}"
            )
        return 1
    needed = 0
    wanted: list[str] = []
    for entry in requested.entries:
        if entry.port_id:
            _check_port(conn, who, entry.port_id)
            continue
        assert entry.network_id is not None
        needed += 1
        wanted.append(entry.network_id)
        if entry.fixed_ip:
            holders = lookups.ports_with_ip(conn, who, entry.network_id, entry.fixed_ip)
            if holders:
                raise ApiError(
                    400,
                    f"Fixed IP address {entry.fixed_ip} is already in use on instance "
                    f"{holders[0]['device_id']}.",
                )
    if wanted:
        nets = lookups.find_networks(conn, who, ids=wanted)
        for net in nets:
            if not net["subnets"]:
                raise ApiError(
                    400, f"Network {net['id']} requires a subnet in order to boot instances on."
                )
        missing = list(dict.fromkeys(n for n in wanted if n not in {x["id"] for x in nets}))
        if missing:
            raise ApiError(400, f"Network {', '.join(missing)} could not be found.")
    return needed


def validate(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    requested: Requested,
    min_count: int,
    max_count: int,
) -> int:
    """`validate_networks` then the compute API's count check: how many of the servers
    asked for can have their ports (Nova lowers max_count to what the port quota leaves,
    and refuses below min_count)."""
    if requested.mode == "none":
        return max_count
    per_server = _ports_needed(conn, who, requested)
    allowed = max_count
    limit = quotas.limits(ctx)["port"]
    if per_server and limit != UNLIMITED:
        have = quotas.used(conn, who.project_id, "port")
        free = limit - have
        if free < 0:
            raise ApiError(403, f"The number of defined ports: {have} is over the limit: {limit}")
        if free < per_server * max_count:
            allowed = free // per_server
    if allowed < min_count:
        raise ApiError(403, "Maximum number of ports exceeded")
    return allowed
