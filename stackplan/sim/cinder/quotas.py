"""Cinder quotas: `GET /os-quota-sets/{project_id}[?usage=true]`, `/defaults`,
`GET /limits`, and the reservation check a create or an extend makes (`cinder/quota.py`,
`quota_utils.process_reserve_over_quota`, `db/api.py` `quota_reserve`).

`volumes` and `gigabytes` come from the `quota_volumes` / `quota_gigabytes` knobs (-1 is
unlimited); the rest are Cinder's defaults with no knob: snapshots 10, backups 10,
backup_gigabytes 1000, groups 10, per_volume_gigabytes -1, and -1 for each type's
`volumes_<type>`, `gigabytes_<type>`, `snapshots_<type>`. There is no quota update.
A volume counts from its create until its delete has finished; an extend in progress
holds its growth as `reserved`, a retype its new type's share.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from stackplan.sim.cinder import lifecycle, volume_types
from stackplan.sim.cinder.common import bool_param, caller, policy_denied, quota_error
from stackplan.sim.options import UNLIMITED, Context
from stackplan.sim.wire import Request, Response

Usage = dict[str, list[int]]  # resource -> [in_use, reserved]


def limits(ctx: Context, conn: sqlite3.Connection) -> dict[str, int]:
    """Every quota in Cinder's order: the base ones, each type's, then groups."""
    found = {
        "volumes": ctx.options.quota_volumes,
        "per_volume_gigabytes": UNLIMITED,
        "snapshots": 10,
        "gigabytes": ctx.options.quota_gigabytes,
        "backups": 10,
        "backup_gigabytes": 1000,
    }
    for vtype in volume_types.every(conn):
        for base in ("volumes", "gigabytes", "snapshots"):
            found[f"{base}_{vtype['name']}"] = UNLIMITED
    found["groups"] = 10
    return found


def usage(ctx: Context, conn: sqlite3.Connection, project_id: str) -> Usage:
    """What the project's volumes hold now (a volume being deleted still counts)."""
    names = {t["id"]: t["name"] for t in volume_types.every(conn)}
    used: Usage = {name: [0, 0] for name in limits(ctx, conn)}
    rows = conn.execute("SELECT * FROM cinder_volumes WHERE project_id = ?", (project_id,))
    now = ctx.now()
    for row in rows.fetchall():
        volume = lifecycle.settle(row, now)
        if volume is None:
            continue
        kind = names.get(volume["volume_type_id"], "")
        for resource, amount in (("volumes", 1), ("gigabytes", volume["size"])):
            used[resource][0] += amount
            used.setdefault(f"{resource}_{kind}", [0, 0])[0] += amount
        pending = json.loads(volume["pending"] or "{}")
        if "size" in pending:  # an extend: the growth is reserved until it is done
            grow = pending["size"] - volume["size"]
            used["gigabytes"][1] += grow
            used.setdefault(f"gigabytes_{kind}", [0, 0])[1] += grow
        if "volume_type_id" in pending:
            new = names.get(pending["volume_type_id"], "")
            used.setdefault(f"volumes_{new}", [0, 0])[1] += 1
            used.setdefault(f"gigabytes_{new}", [0, 0])[1] += volume["size"]
    return used


def reserve(
    ctx: Context,
    conn: sqlite3.Connection,
    project_id: str,
    deltas: dict[str, int],
    size: int,
    extend: bool = False,
) -> None:
    """Raise Cinder's 413 if `deltas` pass a limit; the first over quota in sorted order
    names the error (VolumeSizeExceedsAvailableQuota or VolumeLimitExceeded)."""
    caps = limits(ctx, conn)
    capped = [r for r, delta in deltas.items() if caps.get(r, UNLIMITED) >= 0 and delta >= 0]
    if not capped:
        return  # nothing limited: no need to add up every volume of the project
    used = usage(ctx, conn, project_id)
    overs = sorted(r for r in capped if caps[r] < deltas[r] + sum(used[r]))
    if not overs:
        return
    if extend:  # `_extend` always reports the project's gigabytes, whichever was over
        raise quota_error(
            "VolumeSizeExceedsAvailableQuota",
            f"Requested volume or snapshot exceeds allowed gigabytes quota. Requested "
            f"{size}G, quota is {caps['gigabytes']}G and {sum(used['gigabytes'])}G has "
            "been consumed.",
        )
    over = overs[0]
    if "gigabytes" in over:
        raise quota_error(
            "VolumeSizeExceedsAvailableQuota",
            f"Requested volume or snapshot exceeds allowed {over} quota. Requested {size}G, "
            f"quota is {caps[over]}G and {sum(used[over])}G has been consumed.",
        )
    raise quota_error(
        "VolumeLimitExceeded",
        f"Maximum number of volumes allowed ({caps[over]}) exceeded for quota '{over}'.",
    )


def type_deltas(vtype_name: str, **base: int) -> dict[str, int]:
    """Cinder's `add_volume_type_opts`: each base delta copied to the type's quota."""
    return {**base, **{f"{k}_{vtype_name}": v for k, v in base.items()}}


# -- HTTP ----------------------------------------------------------------------------------


def _target(req: Request) -> str:
    project_id = req.params["target_id"]
    who = caller(req)
    if not who.admin and project_id != who.project_id:
        raise policy_denied("volume_extension:quotas:show")
    return project_id


def show(ctx: Context, req: Request) -> Response:
    project_id = _target(req)
    conn = ctx.db.read()
    caps = limits(ctx, conn)
    body: dict[str, Any]
    if "usage" in req.query and bool_param(req.arg("usage")):
        used = usage(ctx, conn, project_id)
        body = {
            name: {"limit": limit, "in_use": used[name][0], "reserved": used[name][1]}
            for name, limit in caps.items()
        }
    else:
        body = dict(caps)
    body["id"] = project_id
    return Response(200, {"quota_set": body})


def defaults(ctx: Context, req: Request) -> Response:
    project_id = _target(req)
    body: dict[str, Any] = dict(limits(ctx, ctx.db.read()))
    body["id"] = project_id
    return Response(200, {"quota_set": body})


def absolute_limits(ctx: Context, req: Request) -> Response:
    """`GET /limits`: the project's caps and what it uses (Cinder's used_limits)."""
    conn = ctx.db.read()
    caps = limits(ctx, conn)
    used = usage(ctx, conn, caller(req).project_id)
    absolute = {
        "maxTotalVolumes": caps["volumes"],
        "maxTotalSnapshots": caps["snapshots"],
        "maxTotalVolumeGigabytes": caps["gigabytes"],
        "maxTotalBackups": caps["backups"],
        "maxTotalBackupGigabytes": caps["backup_gigabytes"],
        "totalVolumesUsed": used["volumes"][0],
        "totalGigabytesUsed": used["gigabytes"][0],
        "totalSnapshotsUsed": 0,
        "totalBackupsUsed": 0,
        "totalBackupGigabytesUsed": 0,
    }
    return Response(200, {"limits": {"rate": [], "absolute": absolute}})
