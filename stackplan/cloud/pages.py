"""The one pagination loop: every page of an OpenStack list, following its `next` link.

Nova, Neutron and Cinder link the next page in `<key>_links` (rel=next), Glance in `next`;
the first request carries the query, later ones only the link (it holds query and marker).
A link seen twice is a cloud bug: the loop stops instead of spinning.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from stackplan.errors import CloudError

# GET `url` with `params` (None after the first page) and return the decoded body.
Fetch = Callable[[str, Mapping[str, Any] | None], Any]
# The next page's link in a decoded body, or None.
NextLink = Callable[[Mapping[str, Any]], str | None]


def links_next(key: str) -> NextLink:
    """The `<key>_links` rel=next convention (Nova, Neutron, Cinder)."""

    def find(data: Mapping[str, Any]) -> str | None:
        for link in data.get(f"{key}_links") or []:
            if link.get("rel") == "next":
                return link.get("href")
        return None

    return find


def pages(
    fetch: Fetch,
    url: str,
    key: str,
    params: Mapping[str, Any] | None = None,
    next_link: NextLink | None = None,
) -> Iterator[dict[str, Any]]:
    """Every item under `key` of every page, first page at `url`."""
    next_link = next_link or links_next(key)
    query: Mapping[str, Any] | None = params or {}
    seen: set[str] = set()
    current: str | None = url
    while current:
        data = fetch(current, query) or {}
        items = data.get(key) or []
        yield from items
        link = next_link(data)
        if not items or not link:
            return
        if link in seen:
            raise CloudError(f"the cloud returned the same next link twice: {link}")
        seen.add(link)
        current, query = link, None
