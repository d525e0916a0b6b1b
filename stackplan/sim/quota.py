"""Per-project usage and Nova's quota check (403 `forbidden` with Nova's message)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from stackplan.sim import seed
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.wire import ApiError

MAX_METADATA = 128
MAX_KEYPAIRS = 100


@dataclass(frozen=True, slots=True)
class Usage:
    instances: int
    cores: int
    ram: int


def usage(ctx: Context, project_id: str, conn: sqlite3.Connection | None = None) -> Usage:
    """What the project's servers hold now; a server being deleted still counts."""
    conn = conn or ctx.db.read()
    rows = conn.execute(
        "SELECT flavor_id, count(*) AS n FROM servers WHERE project_id = ? "
        "AND (gone_at IS NULL OR gone_at > ?) GROUP BY flavor_id",
        (project_id, ctx.now()),
    ).fetchall()
    instances = cores = ram = 0
    for row in rows:
        flavor = seed.FLAVORS_BY_ID[row["flavor_id"]]
        instances += row["n"]
        cores += flavor.vcpus * row["n"]
        ram += flavor.ram * row["n"]
    return Usage(instances, cores, ram)


def check(ctx: Context, used: Usage, want: Usage) -> None:
    """Raise Nova's 403 if adding `want` to `used` passes a limit."""
    opts = ctx.options
    over = [
        (name, asked, have, limit)
        for name, asked, have, limit in (
            ("instances", want.instances, used.instances, opts.quota_instances),
            ("cores", want.cores, used.cores, opts.quota_cores),
            ("ram", want.ram, used.ram, opts.quota_ram),
        )
        if limit != UNLIMITED and asked > 0 and have + asked > limit
    ]
    if not over:
        return
    names = ", ".join(o[0] for o in over)
    asked = ", ".join(str(o[1]) for o in over)
    have = ", ".join(str(o[2]) for o in over)
    limit = ", ".join(str(o[3]) for o in over)
    raise ApiError(
        403,
        f"Quota exceeded for {names}: Requested {asked}, but already used "
        f"{have} of {limit} {names}",
    )
