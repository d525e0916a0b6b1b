"""The ports' half of the lazy lifecycle: servers settle from timestamps at read time
(`lifecycle.py`), so before every Nova and Neutron request (`app.py`) the ports of the
servers whose build, task or delete has ended since are brought in line with them:
released when the build failed or the delete completed (Nova's
`deallocate_for_instance`), ACTIVE while the guest runs and DOWN while it is stopped or
suspended (what the L2 agent reports once the tap device comes or goes).

Each server row carries `ports_due`, when its ports next need this; one indexed query
finds none due on almost every request."""

from __future__ import annotations

import sqlite3

from stackplan.sim import lifecycle, nova_ports
from stackplan.sim.neutron import ports, schema
from stackplan.sim.options import Context

# vm_states whose guest has its taps plugged (a paused domain keeps them)
_RUNNING = {"active", "paused", "resized"}


def settle(ctx: Context) -> None:
    """Bring the ports of every server now due in line with its settled state."""
    schema.ready(ctx)
    now = ctx.now()
    probe = "SELECT 1 FROM servers WHERE ports_due <= ? LIMIT 1"
    if ctx.db.read().execute(probe, (now,)).fetchone() is None:
        return
    with ctx.db.write() as conn:
        for row in conn.execute("SELECT * FROM servers WHERE ports_due <= ?", (now,)).fetchall():
            sync(ctx, conn, row, lifecycle.settle(row, now))
            pending = [t for t in (row["task_until"], row["gone_at"]) if t is not None and t > now]
            conn.execute(
                "UPDATE servers SET ports_due = ? WHERE id = ?",
                (min(pending) if pending else None, row["id"]),
            )


def sync(
    ctx: Context, conn: sqlite3.Connection, row: sqlite3.Row, state: lifecycle.Settled
) -> None:
    """One server's ports, as its state `state` wants them."""
    if state.gone or state.vm_state == "error":
        nova_ports.release_all(ctx, conn, row["id"])
        return
    status = "ACTIVE" if state.vm_state in _RUNNING else "DOWN"
    for port in ports.find_ports(conn, nova_ports.ADMIN, device_id=row["id"]):
        ports.set_status(ctx, conn, port["id"], status)
