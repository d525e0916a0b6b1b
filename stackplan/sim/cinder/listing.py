"""Which volumes `GET /volumes[/detail]` returns: Cinder's filter handling, in its order
(`api/v3/volumes.py` `_get_volumes`, `api/common.py` `reject_invalid_filters`,
`volume/api.py` `check_volume_filters` and `get_all`, `db/api.py`
`_process_volume_filters`).

- Before 3.31 a member's unknown filters are dropped; from 3.31 they are a 400, except
  `all_tenants`, which Cinder ignores for members (bug 1917574). The admin may filter on
  any volume column; a key that is no column (or `all_tenants` that is false) matches
  nothing, as in Cinder's database layer.
- Values go through `ast.literal_eval` (so `metadata={"k": "v"}` is a dict and
  `size=1` a number) except the name; booleans are strict from 3.2.
- `created_at`/`updated_at` take `gt:`, `gte:`, `eq:`, `neq:`, `lt:`, `lte:` from 3.60.
"""

from __future__ import annotations

import ast
import contextlib
import sqlite3
from datetime import UTC, datetime
from typing import Any

from stackplan.sim.cinder import lifecycle
from stackplan.sim.cinder.common import Caller, bool_param, invalid_input
from stackplan.sim.cinder.lifecycle import Row
from stackplan.sim.cinder.views import image_metadata, user_metadata
from stackplan.sim.cinder.volumes import visible_rows
from stackplan.sim.wire import ApiError, Request

# resource_filters.json's "volume" list: what a member may filter on (3.31+)
MEMBER_FILTERS = (
    "name", "status", "metadata", "bootable", "migration_status", "availability_zone",
    "group_id", "size", "created_at", "updated_at", "consumes_quota",
)  # fmt: skip
_PAGING = ("limit", "marker", "offset", "sort", "sort_key", "sort_dir")
# filter key -> the volume row column it compares with (None: a column always null)
COLUMNS: dict[str, str | None] = {
    "id": "id",
    "project_id": "project_id",
    "user_id": "user_id",
    "display_name": "name",
    "display_description": "description",
    "size": "size",
    "status": "status",
    "availability_zone": "availability_zone",
    "bootable": "bootable",
    "multiattach": "multiattach",
    "attach_status": "attach_status",
    "migration_status": "migration_status",
    "volume_type_id": "volume_type_id",
    "source_volid": "source_volid",
    "snapshot_id": "snapshot_id",
    "host": "host",
    "previous_status": "previous_status",
    "use_quota": None,
    "group_id": None,
    "consistencygroup_id": None,
    "replication_status": None,
    "provider_id": None,
    "cluster_name": None,
    "encryption_key_id": None,
}
BOOLEANS = ("bootable", "multiattach", "use_quota")
_OPERATORS = ("gt", "gte", "eq", "neq", "lt", "lte")


def _filters(req: Request, who: Caller) -> tuple[dict[str, Any], bool]:
    """The filters the database layer gets, and whether `count` was asked for."""
    filters = {k: v[-1] for k, v in req.query.items() if k not in _PAGING}
    show_count = False
    if req.version >= (3, 45) and "with_count" in filters:
        show_count = bool_param(filters.pop("with_count"))
    if req.version >= (3, 31):
        if not who.admin:
            invalid = [k for k in filters if k not in MEMBER_FILTERS]
            if "all_tenants" in invalid:
                invalid.remove("all_tenants")
                filters.pop("all_tenants")
            if invalid:
                raise ApiError(
                    400, f"Invalid filters {','.join(invalid)} are found in query options."
                )
        for old, new in (("name~", "display_name~"), ("description~", "display_description~"),
                         ("consumes_quota", "use_quota")):  # fmt: skip
            if old in filters:
                filters[new] = filters.pop(old)
    else:
        for since, key in (((3, 4), "glance_metadata"), ((3, 10), "group_id"),
                           ((3, 60), "created_at"), ((3, 60), "updated_at"),
                           ((3, 65), "use_quota")):  # fmt: skip
            if req.version < since:
                filters.pop(key, None)
        if not who.admin:
            filters = {k: v for k, v in filters.items() if k in MEMBER_FILTERS}
    if "name" in filters:
        filters["display_name"] = filters.pop("name")
    if "use_quota" in filters:
        filters["use_quota"] = bool_param(filters["use_quota"])
    for key in ("created_at", "updated_at"):
        if key in filters:
            filters[key] = _time_filter(key, filters[key])
    strict = req.version >= (3, 2)
    for key, value in list(filters.items()):
        if key in BOOLEANS and isinstance(value, str):
            filters[key] = _boolean(key, value, strict)
        elif key != "display_name" and isinstance(value, str):
            with contextlib.suppress(ValueError, SyntaxError):
                filters[key] = ast.literal_eval(value)
    return filters, show_count


def _boolean(key: str, value: str, strict: bool) -> bool:
    if strict:
        try:
            return bool_param(value, strict=True)
        except ValueError:
            raise invalid_input(f"'{key} = {value}'") from None
    if value in ("False", "false", "FALSE"):
        return False
    return value in ("True", "true", "TRUE") or bool(value)


def _time_filter(key: str, raw: str) -> dict[str, float]:
    found: dict[str, float] = {}
    for unit in raw.split(","):
        operator, sep, when = unit.partition(":")
        if not sep:
            raise ApiError(400, f"Invalid {key} value")
        if operator not in _OPERATORS:
            raise ApiError(400, f"Invalid {operator} operator")
        try:
            parsed = datetime.fromisoformat(when.replace("Z", "+00:00"))
        except ValueError:
            raise ApiError(400, f"Invalid {when} value") from None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=UTC)
        found[operator] = parsed.timestamp()
    return found


def _same(have: Any, wanted: Any) -> bool:
    if isinstance(wanted, list | tuple | set):
        return any(_same(have, w) for w in wanted)
    if isinstance(have, str) and isinstance(wanted, str):
        return have.casefold() == wanted.casefold()  # MySQL's case-insensitive collation
    if isinstance(have, int) and isinstance(wanted, bool | int) and not isinstance(have, bool):
        return have == int(wanted)
    return have is not None and str(have).casefold() == str(wanted).casefold()


def _time_ok(value: float | None, wanted: dict[str, float]) -> bool:
    if value is None:
        return False
    whole = float(int(value))  # stored to the second, as on MySQL
    checks = {
        "gt": whole > wanted.get("gt", 0),
        "gte": whole >= wanted.get("gte", 0),
        "eq": whole == wanted.get("eq", whole),
        "neq": whole != wanted.get("neq", whole + 1),
        "lt": whole < wanted.get("lt", float("inf")),
        "lte": whole <= wanted.get("lte", float("inf")),
    }
    return all(checks[op] for op in wanted)


def _matches(conn: sqlite3.Connection, volume: Row, filters: dict[str, Any]) -> bool:
    for key, wanted in filters.items():
        if key in ("metadata", "glance_metadata"):
            have = (user_metadata if key == "metadata" else image_metadata)(conn, volume["id"])
            if not isinstance(wanted, dict) or any(
                not _same(have.get(str(k)), str(v)) for k, v in wanted.items()
            ):
                return False
            continue
        if key in ("created_at", "updated_at"):
            column = "created" if key == "created_at" else "updated"
            if not _time_ok(volume[column], wanted):
                return False
            continue
        if key.endswith("~") and key[:-1] in COLUMNS:
            column = COLUMNS[key[:-1]]
            have = volume[column] if column else None
            if not (isinstance(have, str) and str(wanted).casefold() in have.casefold()):
                return False
            continue
        if key not in COLUMNS:
            return False
        column = COLUMNS[key]
        have = (True if key == "use_quota" else None) if column is None else volume[column]
        if key in BOOLEANS and have is not None:
            have = bool(have)
            if have != bool(wanted):
                return False
            continue
        if not _same(have, wanted):
            return False
    return True


def select(
    conn: sqlite3.Connection, req: Request, who: Caller, now: float
) -> tuple[list[Row], bool]:
    """The settled volumes matching the request's filters, and whether to show `count`."""
    filters, show_count = _filters(req, who)
    everyone = False
    if "all_tenants" in filters and who.admin:
        everyone = bool_param(filters["all_tenants"])
        if everyone:
            del filters["all_tenants"]
    chosen = []
    for row in visible_rows(conn, who, everyone):
        volume = lifecycle.settle(row, now)
        if volume is None:
            continue
        if not who.admin and (volume["migration_status"] or "").startswith("target:"):
            continue
        if _matches(conn, volume, filters):
            chosen.append(volume)
    return chosen, show_count
