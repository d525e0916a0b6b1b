"""A server's ports as Nova keeps them: made, bound, unbound and deleted through the
simulator's Neutron (in-process), and recorded in `server_ports`, Nova's network info
cache, in the order the server got them (`nova/network/neutron.py`:
`_create_port_minimal`, `_update_ports_for_instance`, `_unbind_ports`,
`deallocate_for_instance`, `deallocate_port_for_instance`).

A port the user gave (`preserve`) is only ever unbound by Nova; the ones Nova made are
deleted with the server or the interface. Neutron's errors become Nova's here."""

from __future__ import annotations

import sqlite3
from typing import Any

from stackplan.sim import identity
from stackplan.sim.neutron import ports, quotas
from stackplan.sim.neutron.common import Caller, NeutronError
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError

OWNER = "compute:nova"  # 'compute:%s' % the server's availability zone
ADMIN = Caller("", admin=True)  # Nova's admin client: binding a port needs it


def caller(token: Any) -> Caller:
    """Nova's Neutron client for the request's user (admin if the token is)."""
    return Caller(token.project_id, identity.is_admin(token))


# -- the cache -------------------------------------------------------------------------


def record(conn: sqlite3.Connection, server_id: str, port_id: str, preserve: bool) -> None:
    conn.execute(
        "INSERT OR REPLACE INTO server_ports (server_id, port_id, preserve) VALUES (?, ?, ?)",
        (server_id, port_id, int(preserve)),
    )


def cached(conn: sqlite3.Connection, server_ids: list[str]) -> dict[str, list[sqlite3.Row]]:
    """Each server's recorded ports, in the order it got them."""
    found: dict[str, list[sqlite3.Row]] = {}
    for start in range(0, len(server_ids), 500):
        chunk = server_ids[start : start + 500]
        marks = ", ".join("?" for _ in chunk)
        for row in conn.execute(
            f"SELECT * FROM server_ports WHERE server_id IN ({marks}) ORDER BY seq", tuple(chunk)
        ):
            found.setdefault(row["server_id"], []).append(row)
    return found


def preserved(conn: sqlite3.Connection, server_id: str) -> set[str]:
    rows = conn.execute(
        "SELECT port_id FROM server_ports WHERE server_id = ? AND preserve = 1", (server_id,)
    )
    return {r["port_id"] for r in rows}


def forget(conn: sqlite3.Connection, port_id: str) -> None:
    conn.execute("DELETE FROM server_ports WHERE port_id = ?", (port_id,))


# -- making and binding ----------------------------------------------------------------


class NotRescheduled(ApiError):
    """An allocation error on which the compute manager aborts a build rather than try
    another host (`_build_and_run_instance`): `reason` is its BuildAbortException's. The
    status and message are what an interface attach answers."""

    def __init__(self, status: int, message: str, reason: str | None = None):
        super().__init__(status, message)
        self.reason = reason or message


def _nova_error(err: NeutronError, network_id: str, fixed_ip: str | None) -> ApiError:
    """`_create_port_minimal`'s translation of Neutron's answer."""
    if err.kind in ("InvalidIpForNetwork", "InvalidIpForSubnet"):
        return NotRescheduled(  # InvalidInput
            400,
            f"Invalid input received: Fixed IP {fixed_ip} is not a valid ip address for "
            f"network {network_id}.",
        )
    if err.kind in ("IpAddressInUse", "IpAddressAlreadyAllocated"):
        return ApiError(409, f"Fixed IP {fixed_ip} is already in use.")
    if err.kind == "OverQuota":
        return ApiError(403, "Maximum number of ports exceeded")
    if err.kind == "IpAddressGenerationFailure":
        message = f"No fixed IP addresses available for network: {network_id}"
        return NotRescheduled(
            400,
            message,
            f"Failed to allocate the network(s) with error {message}, not rescheduling.",
        )
    return err


def make_port(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    server_id: str,
    network_id: str,
    fixed_ip: str | None = None,
    group_ids: list[str] | None = None,
) -> dict[str, Any]:
    """A port for the server on the network, bound to it and recorded; the port as shown.
    Without `group_ids` Neutron gives it the project's default group."""
    body: dict[str, Any] = {
        "network_id": network_id,
        "device_id": server_id,
        "device_owner": OWNER,
        "admin_state_up": True,
        "project_id": who.project_id,
    }
    if fixed_ip:
        body["fixed_ips"] = [{"ip_address": fixed_ip}]
    if group_ids:
        body["security_groups"] = group_ids
    try:
        quotas.check(ctx, conn, {(who.project_id, "port"): 1})  # Neutron's API checks it first
        port = ports.create_port(ctx, conn, who, body)
    except NeutronError as err:
        raise _nova_error(err, network_id, fixed_ip) from None
    record(conn, server_id, port["id"], preserve=False)
    return port


def bind_port(ctx: Context, conn: sqlite3.Connection, server_id: str, port_id: str) -> None:
    """A port the user gave, bound to the server (Nova's admin update) and recorded."""
    ports.update_port(ctx, conn, ADMIN, port_id, {"device_id": server_id, "device_owner": OWNER})
    record(conn, server_id, port_id, preserve=True)


def unbind_port(ctx: Context, conn: sqlite3.Connection, port_id: str) -> None:
    """`_unbind_ports`: device_id and device_owner cleared; a port gone meanwhile is fine."""
    try:
        ports.update_port(ctx, conn, ADMIN, port_id, {"device_id": "", "device_owner": ""})
    except NeutronError as err:
        if err.status != 404:
            raise
    forget(conn, port_id)


def delete_port(ctx: Context, conn: sqlite3.Connection, port_id: str) -> None:
    """Nova's `_delete_ports`: a port already gone is not an error."""
    try:
        ports.delete_port(ctx, conn, ADMIN, port_id)
    except NeutronError as err:
        if err.status != 404:
            raise
    forget(conn, port_id)


def release(ctx: Context, conn: sqlite3.Connection, server_id: str, port_id: str) -> None:
    """`deallocate_port_for_instance`: unbind a port the user gave, delete one Nova made."""
    if port_id in preserved(conn, server_id):
        unbind_port(ctx, conn, port_id)
    else:
        delete_port(ctx, conn, port_id)


def release_all(ctx: Context, conn: sqlite3.Connection, server_id: str) -> None:
    """`deallocate_for_instance`: every port bound to the server is deleted, except the
    ones the user gave, which are unbound (their floating IPs stay on them)."""
    keep = preserved(conn, server_id)
    bound = [p["id"] for p in ports.find_ports(conn, ADMIN, device_id=server_id)]
    for port_id in bound:
        if port_id in keep:
            unbind_port(ctx, conn, port_id)
        else:
            delete_port(ctx, conn, port_id)
    conn.execute("DELETE FROM server_ports WHERE server_id = ?", (server_id,))
