"""Nova's `allocate_for_instance` (`nova/network/neutron.py`): the ports of a server
being built, or of an interface being attached. The requested ports are checked, the
networks found (or the one network there is chosen), the groups turned into ids, a
port made on each requested network and each given port bound. Anything refused
raises Nova's error with nothing left behind (ports made deleted, none bound)."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim import nova_ports
from stackplan.sim.network_requests import AMBIGUOUS, NetworkRequest, Requested, candidates
from stackplan.sim.neutron import lookups
from stackplan.sim.neutron.common import Caller, NeutronError
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError

CANNOT_APPLY = (
    "Network requires port_security_enabled and subnet associated in order to apply "
    "security groups."
)
# The BuildAbortException reason of ExternalNetworkAttachForbidden and
# UnableToAutoAllocateNetwork, which a build does not retry elsewhere.
_NOT_ALLOCATED = "Failed to allocate the network(s), not rescheduling."


def _given_port(conn: sqlite3.Connection, who: Caller, server: Any, port_id: str) -> str:
    """`_validate_requested_port_ids` for one port (read with the admin client): the
    port's network."""
    try:
        port = lookups.show_port(conn, nova_ports.ADMIN, port_id)
    except NeutronError as err:
        if err.status == 404:
            raise ApiError(404, f"Port id {port_id} could not be found.") from None
        raise
    if port["project_id"] != server["project_id"]:
        raise ApiError(400, f"Port {port_id} not usable for instance {server['id']}.")
    if port["device_id"]:
        raise ApiError(409, f"Port {port_id} is still in use.")
    return port["network_id"]


def _networks(
    conn: sqlite3.Connection, who: Caller, server: Any, requested: Requested
) -> tuple[list[NetworkRequest], dict[str, dict[str, Any]]]:
    """The requests in order, each with its network id, and the networks by id."""
    ordered = [
        NetworkRequest(_given_port(conn, who, server, e.port_id), None, e.port_id)
        if e.port_id
        else e
        for e in requested.entries
    ]
    if requested.mode == "list":
        ids = [r.network_id for r in ordered if r.network_id]
        nets = {n["id"]: n for n in lookups.find_networks(conn, who, ids=ids)}
        if not nets:
            for r in ordered:
                if not r.port_id and r.network_id:
                    raise ApiError(404, f"Network {r.network_id} could not be found.")
    else:
        found = candidates(conn, who, auto=requested.mode == "auto")
        if not found:
            if requested.mode == "unspecified":  # nothing asked, nothing there: no port
                return [], {}
            if requested.mode == "auto":
                raise nova_ports.NotRescheduled(
                    400,
                    f"Unable to automatically allocate a network for project {who.project_id}",
                    _NOT_ALLOCATED,
                )
            raise ApiError(
                400,
                "No specific network was requested and none are available for project "
                f"'{who.project_id}'.",
            )
        if len(found) > 1:  # the interface API answers NetworkAmbiguous with a 400
            raise ApiError(400 if requested.mode == "single" else 409, AMBIGUOUS)
        nets = {found[0]["id"]: found[0]}
        ordered = [NetworkRequest(found[0]["id"])]
    if not who.admin:  # network:attach_external_network is the admin's
        for net in nets.values():
            if net["router:external"] and not net["shared"]:
                raise nova_ports.NotRescheduled(
                    403,
                    f"It is not allowed to create an interface on external network {net['id']}",
                    _NOT_ALLOCATED,
                )
    return ordered, nets


def _group_ids(
    ctx: Context, conn: sqlite3.Connection, who: Caller, project_id: str, refs: list[str]
) -> list[str]:
    """`_clean_security_groups` + `_process_security_groups`: only `default` is left to
    Neutron; others are matched by id, then by name, among the project's groups."""
    if not refs or refs == ["default"]:
        return []
    mine = lookups.group_rows(ctx, conn, who, project_id=project_id)
    by_id = {g["id"] for g in mine}
    ids = []
    for ref in refs:
        if ref in by_id:
            ids.append(ref)
            continue
        named = [g["id"] for g in mine if g["name"] == ref]
        if len(named) > 1:
            raise ApiError(
                409,
                f"Multiple security groups found matching '{ref}'. Use an ID to be more specific.",
            )
        if not named:
            raise ApiError(404, f"Security group {ref} not found.")
        ids.append(named[0])
    return ids


def allocate(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    server: Any,
    requested: Requested,
    group_refs: list[str] | None = None,
) -> list[str]:
    """Make and bind the ports `requested` asks for `server` (a row, or a dict with `id`
    and `project_id`); the ids of the ports it got, in order."""
    if requested.mode == "none":
        return []
    ordered, nets = _networks(conn, who, server, requested)
    if not ordered:
        return []
    group_ids = _group_ids(ctx, conn, who, server["project_id"], group_refs or [])
    made: list[str] = []
    bound: list[str] = []
    got: list[str] = []
    try:
        for request in ordered:
            net = nets.get(request.network_id or "")
            if net is None:  # not visible to the caller: Nova skips it quietly
                continue
            if (net["port_security_enabled"] and not net["subnets"]) or (
                not net["port_security_enabled"] and group_ids
            ):
                raise ApiError(400, CANNOT_APPLY)
            if request.port_id:
                got.append(request.port_id)
                continue
            port = nova_ports.make_port(
                ctx, conn, who, server["id"], net["id"], request.fixed_ip, group_ids
            )
            made.append(port["id"])
            got.append(port["id"])
        for request in ordered:
            if request.port_id and request.network_id in nets:
                nova_ports.bind_port(ctx, conn, server["id"], request.port_id)
                bound.append(request.port_id)
    except ApiError:  # NeutronError included
        for port_id in made:
            nova_ports.delete_port(ctx, conn, port_id)
        for port_id in bound:
            nova_ports.unbind_port(ctx, conn, port_id)
        raise
    return got
