"""Lists and shows as Neutron's API layer serves them: field filters (with
filter-validation and empty-string-filtering), tag filters, `fields=`, sorting
(`sort_key`/`sort_dir`, then `id`), and native pagination (`limit`, `marker`,
`page_reverse`) with `<collection>_links` (`neutron/api/api_common.py`)."""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlencode

from stackplan.sim.neutron import checks
from stackplan.sim.neutron.common import NeutronError, bad_request, http_bad_request
from stackplan.sim.wire import Request, Response

Item = dict[str, Any]
_SKIPS = ("fields", "sort_key", "sort_dir", "limit", "marker", "page_reverse")
TAG_FILTERS = ("tags", "tags-any", "not-tags", "not-tags-any")
# The attributes every standard-attribute resource can be filtered on (and its tags,
# for the taggable ones).
BASE_FILTERS: dict[str, Callable[[str], Any] | None] = {
    "id": None,
    "tenant_id": None,
    "project_id": None,
    "description": None,
    "revision_number": checks.to_int,
}
STANDARD_FILTERS = {**BASE_FILTERS, **dict.fromkeys(TAG_FILTERS)}


@dataclass(frozen=True, slots=True)
class Collection:
    """How one collection is listed: its filters (name -> converter), sort keys, the
    404 for a bad marker, and filters that need more than an equality test."""

    name: str  # "networks", "security_groups"...
    filters: dict[str, Callable[[str], Any] | None]
    sort_keys: frozenset[str]
    not_found: Callable[[str], NeutronError]
    special: dict[str, Callable[[Item, list[Any]], bool]] = field(default_factory=dict)


def param(req: Request, name: str) -> str:
    """A path parameter, percent-decoded (tags and names may carry any character)."""
    return unquote(req.params[name])


def fields_of(req: Request) -> list[str]:
    return [f for f in req.query.get("fields", []) if f]


def select(item: Item, fields: list[str]) -> Item:
    """The visible attributes (hidden ones start with `_`), narrowed to `fields`."""
    return {k: v for k, v in item.items() if not k.startswith("_") and (not fields or k in fields)}


def show(req: Request, key: str, item: Item, status: int = 200) -> Response:
    return Response(status, {key: select(item, fields_of(req))})


def _filters(req: Request, coll: Collection) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    invalid: list[str] = []
    for key, raw in req.query.items():
        if key in _SKIPS:
            continue
        if key not in coll.filters:
            invalid.append(key)
            continue
        convert = coll.filters[key]
        if key == "fixed_ips":
            found[key] = [checks.kvp_list(raw)]
            continue
        if key in TAG_FILTERS:
            tags = sorted({t for value in raw for t in value.split(",")})
            found[key] = tags
            continue
        found[key] = [convert(v) if convert else v for v in raw]
    if invalid:
        raise http_bad_request(f"{invalid} is invalid attribute for filtering")
    return found


def _tags_match(item: Item, key: str, wanted: list[str]) -> bool:
    have = set(item.get("tags") or [])
    if key == "tags":
        return set(wanted) <= have
    if key == "tags-any":
        return bool(set(wanted) & have)
    if key == "not-tags":
        return not set(wanted) <= have
    return not set(wanted) & have


def _matches(item: Item, filters: dict[str, list[Any]], coll: Collection) -> bool:
    for key, wanted in filters.items():
        if key in TAG_FILTERS:
            if not _tags_match(item, key, wanted):
                return False
            continue
        if key in coll.special:
            if not coll.special[key](item, wanted):
                return False
            continue
        value = item.get(key, item.get(f"_{key}"))
        if isinstance(value, bool | int) or value is None:
            if value not in wanted:
                return False
        elif str(value) not in [str(w) for w in wanted]:
            return False
    return True


def _sorts(req: Request, coll: Collection) -> list[tuple[str, bool]]:
    keys = [k for k in req.query.get("sort_key", []) if k]
    dirs = [d for d in req.query.get("sort_dir", []) if d]
    if len(keys) != len(dirs):
        raise http_bad_request("The number of sort_keys and sort_dirs must be same")
    absent = [k for k in keys if k not in coll.sort_keys]
    if absent:
        raise http_bad_request(f"{absent} is invalid attribute for sort_keys")
    invalid = [d for d in dirs if d not in ("asc", "desc")]
    if invalid:
        raise http_bad_request(
            f"{invalid} is invalid value for sort_dirs, valid value is 'asc' and 'desc'"
        )
    sorts = [(k, d == "asc") for k, d in zip(keys, dirs, strict=True)]
    if "id" not in dict(sorts):
        sorts.append(("id", True))  # native pagination always orders by the primary key
    return sorts


def _compare(a: Item, b: Item, sorts: list[tuple[str, bool]]) -> int:
    for key, ascending in sorts:
        x, y = a.get(key), b.get(key)
        if x is None and y is None:
            ret = 0
        elif x is None:
            ret = -1
        elif y is None:
            ret = 1
        else:
            ret = (x > y) - (x < y)
        if ret:
            return ret if ascending else -ret
    return 0


def _limit(req: Request) -> int:
    raw = req.arg("limit") or "0"
    try:
        limit = int(raw)
        if limit >= 0:
            return limit
    except ValueError:
        pass
    raise bad_request("limit", f"Limit must be an integer 0 or greater and not '{raw}'")


def _link(req: Request, marker: str | None, reverse: bool) -> str:
    pairs = [(k, v) for k, vs in req.query.items() for v in vs if k not in ("marker",)]
    pairs = [(k, v) for k, v in pairs if k != "page_reverse"]
    if marker is not None:
        pairs.append(("marker", marker))
    if reverse:
        pairs.append(("page_reverse", "True"))
    return f"{req.base}{req.path}?{urlencode(pairs)}"


def narrowing(req: Request, columns: Mapping[str, str]) -> tuple[str, list[Any]]:
    """An SQL condition (" AND ...") for the exact-match filters of `req` that are plain
    text columns (filter -> column), to read fewer rows before `listing` renders and
    filters them as ever: a port's lookup by device among 1,000 ports renders one, not
    1,000. None with a marker, which `listing` finds among all the caller sees."""
    if req.arg("marker") is not None:
        return "", []
    clause, args = "", []
    for name, column in columns.items():
        values = req.query.get(name)
        if values:
            clause += f" AND {column} IN ({', '.join('?' * len(values))})"
            args.extend(values)
    return clause, args


def listing(req: Request, coll: Collection, items: list[Item]) -> Response:
    """Filter, sort, page and narrow `items` (everything the caller may see)."""
    filters = _filters(req, coll)
    sorts = _sorts(req, coll)
    limit = _limit(req)
    marker = req.arg("marker") if limit else None
    reverse = (req.arg("page_reverse") or "False").lower() == "true"
    chosen = sorted(
        (i for i in items if _matches(i, filters, coll)),
        key=functools.cmp_to_key(lambda a, b: _compare(a, b, sorts)),
    )
    if limit:
        if marker:
            anchor = next((i for i in items if i["id"] == marker), None)
            if anchor is None:
                raise coll.not_found(marker)
            side = -1 if reverse else 1
            chosen = [i for i in chosen if _compare(i, anchor, sorts) * side > 0]
        chosen = chosen[-limit:] if reverse else chosen[:limit]
    fields = fields_of(req)
    body: dict[str, Any] = {coll.name: [select(i, fields) for i in chosen]}
    if limit:
        links = []
        if not (len(chosen) < limit and not reverse):
            links.append({"rel": "next", "href": _link(req, _last_id(chosen), False)})
        if not (len(chosen) < limit and reverse):
            links.append({"rel": "previous", "href": _link(req, _first_id(chosen), True)})
        if links:
            body[f"{coll.name}_links"] = links
    return Response(200, body)


def _first_id(items: list[Item]) -> str | None:
    return items[0]["id"] if items else None


def _last_id(items: list[Item]) -> str | None:
    return items[-1]["id"] if items else None
