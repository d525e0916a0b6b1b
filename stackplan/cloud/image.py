"""Image look-ups through Glance v2 (`/v2/images`), as typed `Image` values.

Read-only: stackplan resolves image names but never uploads or changes images.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from stackplan.cloud.pages import pages
from stackplan.cloud.session import Session


@dataclass(frozen=True, slots=True)
class Image:
    """An image as Glance describes it; `status` is Glance's lower-case word (`active`)."""

    id: str
    name: str | None
    status: str
    created_at: str | None
    min_disk: int = 0  # GiB
    min_ram: int = 0  # MiB
    visibility: str | None = None
    size: int | None = None


def image_from_glance(data: Mapping[str, Any]) -> Image:
    return Image(
        id=str(data["id"]),
        name=data.get("name"),
        status=str(data.get("status") or "unknown").lower(),
        created_at=data.get("created_at"),
        min_disk=int(data.get("min_disk") or 0),
        min_ram=int(data.get("min_ram") or 0),
        visibility=data.get("visibility"),
        size=data.get("size"),
    )


class ImageClient:
    """Glance v2 at the catalog's `image` endpoint (unversioned, as devstack registers it)."""

    def __init__(self, session: Session, endpoint: str | None = None, page_size: int | None = None):
        self.session = session
        self._endpoint = endpoint
        self.page_size = page_size

    @property
    def root(self) -> str:
        """The Glance root, without a trailing `/v2`: its `next` links are relative to it."""
        url = (self._endpoint or self.session.endpoint("image")).rstrip("/")
        for suffix in ("/v2", "/v2.0", "/v1"):
            if url.endswith(suffix):
                return url[: -len(suffix)]
        return url

    def list_images(self, **filters: str) -> tuple[Image, ...]:
        """Every image visible to the project (all pages); `filters` are Glance's (name=...)."""
        root = self.root
        params: dict[str, Any] = {k: v for k, v in filters.items() if v is not None}
        if self.page_size:
            params["limit"] = self.page_size

        def fetch(url: str, query: Mapping[str, Any] | None) -> Any:
            return self.session.request("GET", _absolute(root, url), params=query).json()

        items = pages(fetch, f"{root}/v2/images", "images", params, lambda d: d.get("next"))
        return tuple(image_from_glance(item) for item in items)

    def get_image(self, image_id: str) -> Image:
        data = self.session.request("GET", f"{self.root}/v2/images/{image_id}").json()
        return image_from_glance(data)


def _absolute(root: str, link: str) -> str:
    if urlsplit(link).scheme:
        return link
    # `next` is "/v2/images?...", relative to the Glance root (which may have a path prefix).
    return root + link if link.startswith("/") else f"{root}/{link}"
