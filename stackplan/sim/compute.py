"""Nova basics: version documents, microversions, pagination, flavors (their extra specs
are `flavor_specs.py`), the image proxy, limits. Servers live in `servers.py` and `server_ops.py`,
keypairs in `keypairs.py`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from stackplan.sim import flavor_specs, identity, image_store, quota, seed, server_groups
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request, Response

# Advertise only what is rendered faithfully: up to 2.64 every server, flavor, keypair,
# server group and limits field of each microversion is implemented (compute-api.md 1.6).
MIN_VERSION = (2, 1)
MAX_VERSION = (2, 64)
MAX_LIMIT = 1000
_VERSION_RE = re.compile(r"^([1-9]\d*)\.([1-9]\d*|0)$")
T = TypeVar("T")


def _vstr(v: tuple[int, int]) -> str:
    return f"{v[0]}.{v[1]}"


def _v21_entry(base: str) -> dict[str, Any]:
    return {
        "id": "v2.1",
        "status": "CURRENT",
        "version": _vstr(MAX_VERSION),
        "min_version": _vstr(MIN_VERSION),
        "updated": "2013-07-23T11:33:21Z",
        "links": [{"rel": "self", "href": f"{base}/compute/v2.1/"}],
    }


def versions(ctx: Context, req: Request) -> Response:
    return Response(200, {"versions": [_v21_entry(req.base)]})


def version(ctx: Context, req: Request) -> Response:
    entry = _v21_entry(req.base)
    entry["links"].append(
        {"rel": "describedby", "type": "text/html", "href": "http://docs.openstack.org/"}
    )
    entry["media-types"] = [
        {"base": "application/json", "type": "application/vnd.openstack.compute+json;version=2.1"}
    ]
    return Response(200, {"version": entry})


def negotiate(req: Request) -> tuple[int, int]:
    """The requested microversion; the new header wins over the legacy one."""
    value = None
    new = req.header("OpenStack-API-Version")
    if new:
        parts = new.split()
        if len(parts) == 2 and parts[0].lower() == "compute":
            value = parts[1]
    if value is None:
        value = req.header("X-OpenStack-Nova-API-Version")
    if not value:
        return MIN_VERSION
    if value.strip().lower() == "latest":
        return MAX_VERSION
    match = _VERSION_RE.match(value.strip())
    if not match:
        raise ApiError(
            400,
            f"API Version String {value} is of invalid format. Must be of "
            "format MajorNum.MinorNum.",
        )
    wanted = (int(match[1]), int(match[2]))
    if not MIN_VERSION <= wanted <= MAX_VERSION:
        raise ApiError(
            406,
            f"Version {value} is not supported by the API. Minimum is "
            f"{_vstr(MIN_VERSION)} and maximum is {_vstr(MAX_VERSION)}.",
        )
    return wanted


def version_headers(v: tuple[int, int]) -> dict[str, str]:
    return {
        "OpenStack-API-Version": f"compute {_vstr(v)}",
        "X-OpenStack-Nova-API-Version": _vstr(v),
        "Vary": "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    }


def links(req: Request, collection: str, item_id: str) -> list[dict[str, str]]:
    """self and bookmark links; bookmark drops the version segment (compute-api.md 0)."""
    self_href = f"{req.root}/{collection}/{item_id}"
    bookmark = self_href.replace("/compute/v2.1", "/compute", 1)
    return [{"rel": "self", "href": self_href}, {"rel": "bookmark", "href": bookmark}]


def paginate(
    req: Request, items: Sequence[T], key: Callable[[T], str], collection: str, path: str
) -> tuple[list[T], dict[str, Any]]:
    """Nova's limit/marker paging: the page, and `<coll>_links` when the page is full."""
    limit = page_limit(req)
    start = 0
    marker = req.arg("marker")
    if marker is not None:
        keys = [key(i) for i in items]
        if marker not in keys:
            raise marker_not_found(marker)
        start = keys.index(marker) + 1
    page = list(items[start : start + limit])
    return page, next_links(req, page, limit, key, collection, path)


def page_limit(req: Request) -> int:
    """The page size asked (`limit`), at most Nova's `max_limit`."""
    raw = req.arg("limit")
    if raw is None:
        return MAX_LIMIT
    if not raw.isdigit():
        raise ApiError(400, f"Invalid input for query parameters limit. Value: {raw}.")
    return min(int(raw), MAX_LIMIT)


def marker_not_found(marker: str) -> ApiError:
    return ApiError(400, f"marker [{marker}] not found")


def next_links(
    req: Request, page: Sequence[T], limit: int, key: Callable[[T], str], collection: str, path: str
) -> dict[str, Any]:
    """`<coll>_links` with the next page's address when `page` is full; else nothing."""
    if not page or len(page) != limit:
        return {}
    href = req.url_with(f"{req.root.removeprefix(req.base)}/{path}", marker=key(page[-1]))
    return {f"{collection}_links": [{"rel": "next", "href": href}]}


# -- flavors ---------------------------------------------------------------------------


def find_flavor(ref: Any) -> seed.Flavor | None:
    """A flavorRef may be an id or a URL ending with the id."""
    flavor_id = str(ref).rstrip("/").rsplit("/", 1)[-1]
    return seed.FLAVORS_BY_ID.get(flavor_id)


def render_flavor(req: Request, f: seed.Flavor, specs: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f.id,
        "name": f.name,
        "ram": f.ram,
        "vcpus": f.vcpus,
        "disk": f.disk,
        "OS-FLV-EXT-DATA:ephemeral": 0,
        "swap": "",
        "rxtx_factor": 1.0,
        "os-flavor-access:is_public": True,
        "OS-FLV-DISABLED:disabled": False,
        "links": links(req, "flavors", f.id),
    }
    if req.version >= (2, 55):
        body["description"] = None
    if req.version >= (2, 61):
        body["extra_specs"] = specs  # shown to whom the policy lets see them: everyone
    return body


_FLAVOR_SORT = {
    "flavorid": lambda f: f.id,
    "id": lambda f: f.id,
    "name": lambda f: f.name,
    "memory_mb": lambda f: f.ram,
    "vcpus": lambda f: f.vcpus,
    "root_gb": lambda f: f.disk,
}


def _int_filter(req: Request, name: str) -> int:
    raw = req.arg(name)
    if raw is None:
        return 0
    if not raw.isdigit():
        raise ApiError(400, f"Invalid {name} filter [{raw}]")
    return int(raw)


def _flavors(ctx: Context, req: Request, detail: bool) -> Response:
    min_ram, min_disk = _int_filter(req, "minRam"), _int_filter(req, "minDisk")
    sort_key = req.arg("sort_key") or "flavorid"
    if sort_key not in _FLAVOR_SORT:
        raise ApiError(400, f"Invalid input for query parameters sort_key. Value: {sort_key}.")
    flavors = sorted(
        (f for f in seed.FLAVORS if f.ram >= min_ram and f.disk >= min_disk),
        key=_FLAVOR_SORT[sort_key],
        reverse=req.arg("sort_dir") == "desc",
    )
    path = "flavors/detail" if detail else "flavors"
    page, extra = paginate(req, flavors, lambda f: f.id, "flavors", path)
    if detail:
        specs = flavor_specs.every(ctx.db.read())
        items = [render_flavor(req, f, specs.get(f.id, {})) for f in page]
    else:
        items = [
            {
                "id": f.id,
                "name": f.name,
                "links": links(req, "flavors", f.id),
                **({"description": None} if req.version >= (2, 55) else {}),
            }
            for f in page
        ]
    return Response(200, {"flavors": items, **extra})


def flavor_list(ctx: Context, req: Request) -> Response:
    return _flavors(ctx, req, detail=False)


def flavor_detail(ctx: Context, req: Request) -> Response:
    return _flavors(ctx, req, detail=True)


def _flavor(req: Request) -> seed.Flavor:
    flavor = seed.FLAVORS_BY_ID.get(req.params["flavor_id"])
    if flavor is None:
        raise ApiError(404, f"Flavor {req.params['flavor_id']} could not be found.")
    return flavor


def flavor_show(ctx: Context, req: Request) -> Response:
    flavor = _flavor(req)
    specs = flavor_specs.of(ctx.db.read(), flavor.id)
    return Response(200, {"flavor": render_flavor(req, flavor, specs)})


# -- image proxy (gone from 2.36, as in Nova) ---------------------------------------------

_PROXY_STATUS = {
    "active": ("ACTIVE", 100),
    "queued": ("SAVING", 25),
    "saving": ("SAVING", 50),
    "deleted": ("DELETED", 0),
    "pending_delete": ("DELETED", 0),
    "killed": ("ERROR", 0),
}


def find_image(ctx: Context, req: Request, ref: Any) -> Image | None:
    """The image an imageRef (id or URL) names, if Glance shows it to the caller's token."""
    image = image_store.get(ctx, str(ref).rstrip("/").rsplit("/", 1)[-1])
    if image is None or not image_store.visible(
        image, req.token.project_id, identity.is_admin(req.token)
    ):
        return None
    return image


def _proxy_allowed(req: Request) -> None:
    if req.version >= (2, 36):
        raise ApiError(404, "The resource could not be found.")


def _image_links(req: Request, image: Image) -> list[dict[str, str]]:
    alternate = {
        "rel": "alternate",
        "type": "application/vnd.openstack.image",
        "href": f"{req.base}/image/images/{image.id}",
    }
    return [*links(req, "images", image.id), alternate]


# oslo's bool_from_string: what Nova's image view takes as true
_TRUE_STRINGS = ("1", "t", "true", "on", "y", "yes")


def _render_proxy_image(req: Request, image: Image) -> dict[str, Any]:
    status, progress = _PROXY_STATUS.get(image.status, ("UNKNOWN", 0))
    body = {
        "id": image.id,
        "name": image.name,
        "status": status,
        "progress": progress,
        "minDisk": image.min_disk,
        "minRam": image.min_ram,
        "metadata": dict(image.properties),
        "created": image.created_at,
        "updated": image.updated_at,
        "OS-EXT-IMG-SIZE:size": image.size,
        "links": _image_links(req, image),
    }
    auto = image.properties.get("auto_disk_config")
    if auto is not None:  # Nova's view shows the disk config only for images that say
        body["OS-DCF:diskConfig"] = "AUTO" if auto.strip().lower() in _TRUE_STRINGS else "MANUAL"
    return body


def _proxy_images(ctx: Context, req: Request, detail: bool) -> Response:
    _proxy_allowed(req)
    name, status = req.arg("name"), req.arg("status")
    project, admin = req.token.project_id, identity.is_admin(req.token)
    images = [
        i
        for i in image_store.every(ctx)
        if image_store.listed(i, project, admin, None)
        and name in (None, i.name)
        and status in (None, _PROXY_STATUS.get(i.status, ("UNKNOWN", 0))[0])
    ]
    path = "images/detail" if detail else "images"
    page, extra = paginate(req, images, lambda i: i.id, "images", path)
    if detail:
        items = [_render_proxy_image(req, i) for i in page]
    else:
        items = [{"id": i.id, "name": i.name, "links": _image_links(req, i)} for i in page]
    return Response(200, {"images": items, **extra})


def image_list(ctx: Context, req: Request) -> Response:
    return _proxy_images(ctx, req, detail=False)


def image_detail(ctx: Context, req: Request) -> Response:
    return _proxy_images(ctx, req, detail=True)


def image_show(ctx: Context, req: Request) -> Response:
    _proxy_allowed(req)
    image = find_image(ctx, req, req.params["image_id"])
    if image is None:
        raise ApiError(404, "Image not found.")
    return Response(200, {"image": _render_proxy_image(req, image)})


# -- limits ----------------------------------------------------------------------------


def limits(ctx: Context, req: Request) -> Response:
    opts = ctx.options
    used = quota.usage(ctx, req.token.project_id)
    absolute: dict[str, int] = {
        "maxTotalInstances": opts.quota_instances,
        "maxTotalCores": opts.quota_cores,
        "maxTotalRAMSize": opts.quota_ram,
        "maxServerMeta": quota.MAX_METADATA,
        "maxTotalKeypairs": quota.MAX_KEYPAIRS,
        "maxServerGroups": opts.quota_server_groups,
        "maxServerGroupMembers": opts.quota_server_group_members,
        "totalInstancesUsed": used.instances,
        "totalCoresUsed": used.cores,
        "totalRAMUsed": used.ram,
        "totalServerGroupsUsed": server_groups.used(ctx, req.token.project_id),
    }
    # Keys dropped by later microversions (compute-api.md 10).
    if req.version < (2, 57):
        absolute.update(maxPersonality=5, maxPersonalitySize=10240)
    if req.version < (2, 39):
        absolute["maxImageMeta"] = 128
    if req.version < (2, 36):
        absolute.update(
            maxSecurityGroups=10,
            maxSecurityGroupRules=20,
            maxTotalFloatingIps=10,
            totalSecurityGroupsUsed=0,
            totalFloatingIpsUsed=0,
        )
    return Response(200, {"limits": {"rate": [], "absolute": absolute}})
