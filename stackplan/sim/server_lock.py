"""Server actions that start no task: `lock`/`unlock`, and `os-getConsoleOutput` (a
made-up boot log, tailed as Nova's compute manager tails the real one)."""

from __future__ import annotations

import re
import sqlite3
from typing import Any

from stackplan.sim import identity, lifecycle, nova_ports, seed, server_addresses
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response


def _lock(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    """Allowed in any state; who locked it decides who may unlock (Nova's `locked_by`)."""
    locked_by = "owner" if row["project_id"] == req.token.project_id else "admin"
    conn.execute(
        "UPDATE servers SET locked = 1, locked_by = ?, updated = ? WHERE id = ?",
        (locked_by, ctx.now(), row["id"]),
    )
    return Response(202)


def _unlock(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    expected = "owner" if row["project_id"] == req.token.project_id else "admin"
    if row["locked_by"] not in (None, expected) and not identity.is_admin(req.token):
        raise ApiError(
            403,
            "Policy doesn't allow os_compute_api:os-lock-server:unlock:unlock_override "
            "to be performed.",
        )
    conn.execute(
        "UPDATE servers SET locked = 0, locked_by = NULL, updated = ? WHERE id = ?",
        (ctx.now(), row["id"]),
    )
    return Response(202)


def boot_log(row: sqlite3.Row, state: lifecycle.Settled, address: str | None) -> list[str]:
    """What a cirros guest prints on its serial console, with this server's facts
    (`address`: the first fixed IPv4 address of its ports, which DHCP hands out)."""
    flavor = seed.FLAVORS_BY_ID[row["flavor_id"]]
    lines = [
        "[    0.000000] Linux version 5.15.0-71-generic (buildd@lcy02-amd64-044) #78-Ubuntu SMP",
        "[    0.000000] Command line: BOOT_IMAGE=/vmlinuz root=LABEL=cirros-rootfs ro "
        "console=tty1 console=ttyS0",
        f"[    0.000000] Memory: {flavor.ram * 1024}K available",
        f"[    0.012000] smpboot: Allowing {flavor.vcpus} CPUs, 0 hotplug CPUs",
        "[    1.204000] EXT4-fs (vda1): mounted filesystem with ordered data mode.",
        "Starting network...",
    ]
    lines.append("checking http://169.254.169.254/2009-04-04/instance-id")
    if address:
        lines.insert(-1, f"udhcpc: lease of {address} obtained, lease time 86400")
        lines.append(f"successful after 1/20 tries: up 2.10. iid={row['id']}")
    else:  # no port, so no DHCP lease and no metadata service
        lines.insert(-1, "udhcpc: no lease, failing")
        lines.append("failed 20/20: up 22.30. request failed")
    lines += [
        f"=== system information ===\nhostname: {row['name']}",
        "=== cirros: current=0.6.2 uptime=4.52 ===",
        f"{row['name']} login: ",
    ]
    if state.vm_state == "building":
        return lines[:4]  # still booting: the kernel has only just started
    return "\n".join(lines).split("\n")


def _length(arg: Any) -> int | None:
    length = arg.get("length") if isinstance(arg, dict) else None
    if isinstance(arg, dict) and set(arg) - {"length"}:
        extra = sorted(set(arg) - {"length"})[0]
        raise ApiError(
            400,
            f"Invalid input for field/attribute os-getConsoleOutput. Value: {arg}. "
            f"Additional properties are not allowed ('{extra}' was unexpected)",
        )
    if length is None:
        return None
    if isinstance(length, bool) or not isinstance(length, (int, str)):
        raise ApiError(
            400,
            f"Invalid input for field/attribute length. Value: {length}. "
            f"{length!r} is not of type 'integer', 'string', 'null'",
        )
    if isinstance(length, str) and not re.match(r"^-?[0-9]+$", length):
        raise ApiError(
            400,
            f"Invalid input for field/attribute length. Value: {length}. "
            f"'{length}' does not match '^-?[0-9]+$'",
        )
    if int(length) < -1:
        raise ApiError(
            400,
            f"Invalid input for field/attribute length. Value: {length}. "
            f"{length} is less than the minimum of -1",
        )
    return int(length)


def _console_output(
    ctx: Context,
    req: Request,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    state: lifecycle.Settled,
    arg: Any,
) -> Response:
    length = _length(arg)
    if row["host"] is None:  # never scheduled: Nova's check_instance_host
        raise ApiError(409, f"Instance {row['id']} is not ready")
    net = server_addresses.of_server(conn, nova_ports.caller(req.token), row["id"])
    fixed = [a.addr for a in net.addresses if a.kind == "fixed" and a.version == 4]
    lines = boot_log(row, state, fixed[0] if fixed else None)
    # Nova's _tail_log: 0 is nothing, N the last N lines; -1 is documented as "all" yet
    # goes through the same slice, so it drops the first line. Kept as Nova does it.
    if length is not None:
        lines = [] if length == 0 else lines[-length:]
    return Response(200, {"output": "\n".join(lines)})


ACTIONS = {"lock": _lock, "unlock": _unlock, "os-getConsoleOutput": _console_output}
