"""Sorting and paging as Cinder's API and database layers do them (`api/common.py`
`get_pagination_params`, `get_sort_params`, `ViewBuilder._get_collection_links`;
`db/api.py` `process_sort_params`): `limit` (default and cap 1000), `marker`, `offset`,
`sort=key[:dir],...` or the deprecated `sort_key`/`sort_dir`, then `created_at` and
`id` in the first direction; a `next` link whenever a page is as long as the limit.

Strings compare without case and NULL sorts first, as on MySQL, Cinder's usual database.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from stackplan.sim.cinder.common import invalid_input
from stackplan.sim.wire import ApiError, Request

MAX_LIMIT = 1000  # osapi_max_limit
DB_MAX_INT = 0x7FFFFFFF
Item = dict[str, Any]
SortValue = Callable[[Item, str], Any]


@dataclass(frozen=True, slots=True)
class Paging:
    limit: int
    marker: str | None
    offset: int
    sorts: tuple[tuple[str, bool], ...]  # (key, ascending)


def _limit(req: Request) -> int:
    raw = req.arg("limit")
    if raw is None:
        return MAX_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise ApiError(400, "limit param must be an integer") from None
    if limit < 0:
        raise ApiError(400, "limit param must be positive")
    return min(limit, MAX_LIMIT)


def _offset(req: Request) -> int:
    raw = req.arg("offset") or "0"
    try:
        offset = int(raw)
    except ValueError:
        raise ApiError(400, "offset must be an integer") from None
    if offset < 0:
        raise ApiError(400, "offset must be >= 0")
    if offset > DB_MAX_INT:
        raise ApiError(400, f"offset must be <= {DB_MAX_INT}")
    return offset


def _sorts(req: Request, default_key: str) -> tuple[tuple[str, bool], ...]:
    if "sort" in req.query and ("sort_key" in req.query or "sort_dir" in req.query):
        raise ApiError(
            400,
            "The 'sort_key' and 'sort_dir' parameters are deprecated and cannot be used "
            "with the 'sort' parameter.",
        )
    keys: list[str] = []
    dirs: list[str] = []
    if "sort" in req.query:
        for part in (req.arg("sort") or "").strip().split(","):
            key, _, direction = part.partition(":")
            keys.append(key.strip())
            dirs.append((direction or "desc").strip())
    else:
        keys.append((req.arg("sort_key") or default_key).strip())
        dirs.append((req.arg("sort_dir") or "desc").strip())
    for direction in dirs:
        if direction not in ("asc", "desc"):
            raise invalid_input("Unknown sort direction, must be 'desc' or 'asc'.")
    first = dirs[0]
    for extra in ("created_at", "id"):
        if extra not in keys:
            keys.append(extra)
            dirs.append(first)
    return tuple((k, d == "asc") for k, d in zip(keys, dirs, strict=True))


def parse_paging(req: Request, default_key: str = "created_at") -> Paging:
    return Paging(_limit(req), req.arg("marker"), _offset(req), _sorts(req, default_key))


def _comparable(value: Any) -> Any:
    return value.casefold() if isinstance(value, str) else value


def _compare(a: Item, b: Item, sorts: tuple[tuple[str, bool], ...], value: SortValue) -> int:
    for key, ascending in sorts:
        x, y = _comparable(value(a, key)), _comparable(value(b, key))
        if x == y:
            continue
        if x is None:
            result = -1
        elif y is None:
            result = 1
        else:
            result = -1 if x < y else 1
        return result if ascending else -result
    return 0


def page(
    req: Request,
    paging: Paging,
    items: list[Item],
    collection: str,
    value: SortValue,
    sort_keys: frozenset[str],
    not_found: Callable[[str], ApiError] | None = None,
    total: int | None = None,
) -> tuple[list[Item], list[dict[str, str]]]:
    """Sort `items` (what the caller may see, filtered), apply marker, offset and limit;
    the page and its `<collection>_links`. `value(item, key)` reads a sort key; keys
    outside `sort_keys` are Cinder's "Invalid sort key"."""
    if any(key not in sort_keys for key, _ in paging.sorts):
        raise invalid_input("Invalid sort key")
    cmp = functools.cmp_to_key(lambda a, b: _compare(a, b, paging.sorts, value))
    ordered = sorted(items, key=cmp)
    if paging.marker is not None:
        anchor = next((i for i in items if i["id"] == paging.marker), None)
        if anchor is None:
            assert not_found is not None
            raise not_found(paging.marker)
        ordered = [i for i in ordered if _compare(i, anchor, paging.sorts, value) > 0]
    chosen = ordered[paging.offset : paging.offset + paging.limit]
    links: list[dict[str, str]] = []
    count = total or len(chosen)
    if chosen and paging.limit <= count:
        links.append({"rel": "next", "href": next_link(req, collection, chosen[-1]["id"])})
    return chosen, links


def href_prefix(req: Request) -> str:
    """The versioned endpoint as the request spelled it, project id included if it was."""
    prefix = f"{req.base}/volume/v3"
    project = req.params.get("project_id")
    return f"{prefix}/{project}" if project else prefix


def next_link(req: Request, collection: str, marker: str) -> str:
    pairs = [(k, v) for k, values in req.query.items() for v in values if k != "marker"]
    pairs.append(("marker", marker))
    return f"{href_prefix(req)}/{collection}?{urlencode(pairs)}"
