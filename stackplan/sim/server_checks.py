"""Nova's checks on a `POST /servers` body: names, metadata, tags, user data, image,
counts and the availability zone (messages as Nova's schema and API give; `networks`
and `security_groups` are `network_requests.py`'s)."""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from stackplan.sim import availability_zones, compute, identity, quota, seed
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.wire import ApiError, Request

_META_KEY = re.compile(r"^[a-zA-Z0-9-_:. ]{1,255}$")
_CREATE_KEYS = {
    "name",
    "imageRef",
    "flavorRef",
    "networks",
    "key_name",
    "security_groups",
    "metadata",
    "user_data",
    "availability_zone",
    "config_drive",
    "min_count",
    "max_count",
    "return_reservation_id",
    "block_device_mapping",
    "block_device_mapping_v2",
    "accessIPv4",
    "accessIPv6",
    "adminPass",
    "OS-DCF:diskConfig",
}


def bad_field(field: str, value: Any, reason: str) -> ApiError:
    return ApiError(400, f"Invalid input for field/attribute {field}. Value: {value}. {reason}")


def check_name(value: Any, field: str = "name") -> str:
    if (
        not isinstance(value, str)
        or not 1 <= len(value) <= 255
        or value != value.strip()
        or not value.isprintable()
    ):
        raise ApiError(
            400,
            f"Invalid input for field/attribute {field}. Value: {value}. "
            "An invalid 'name' value was provided. The name must be: printable "
            "characters. Can not start or end with whitespace.",
        )
    return value


def check_metadata(metadata: Any) -> dict[str, str]:
    if not isinstance(metadata, dict):
        raise bad_field("metadata", metadata, f"{metadata!r} is not of type 'object'")
    for key, value in metadata.items():
        if not _META_KEY.match(key):
            raise bad_field("metadata", metadata, f"'{key}' does not match any of the regexes")
        if not isinstance(value, str) or len(value) > 255:
            raise bad_field(key, value, f"{value!r} is not a valid metadata value")
    if len(metadata) > quota.MAX_METADATA:
        raise ApiError(403, f"Maximum number of metadata items exceeds {quota.MAX_METADATA}")
    return metadata


def check_tags(tags: Any) -> list[str]:
    if not isinstance(tags, list) or len(tags) > 50:
        raise bad_field("tags", tags, "Tags must be a list of at most 50 strings")
    for tag in tags:
        if not isinstance(tag, str) or not 1 <= len(tag) <= 60 or "," in tag or "/" in tag:
            raise bad_field("tags", tags, f"Invalid tag {tag!r}")
    return list(dict.fromkeys(tags))


def check_user_data(value: Any) -> str | None:
    if value is None:
        raise bad_field("user_data", value, "None is not of type 'string'")
    if not isinstance(value, str) or len(value) > 65535:
        raise bad_field("user_data", value, "must be a base64 string of at most 65535 chars")
    try:
        base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise bad_field("user_data", value, "is not a base64 string") from None
    return value


def allowed_keys(v: tuple[int, int]) -> set[str]:
    keys = set(_CREATE_KEYS)
    if v < (2, 57):
        keys.add("personality")
    if v >= (2, 19):
        keys.add("description")
    if v >= (2, 52):
        keys.add("tags")
    if v >= (2, 63):
        keys.add("trusted_image_certificates")
    return keys


def check_image(ctx: Context, req: Request, ref: Any, flavor: seed.Flavor) -> Image:
    """Nova asks Glance with the caller's token: an image it cannot see is not found."""
    if not ref:
        raise ApiError(400, "Missing imageRef attribute")
    image = compute.find_image(ctx, req, ref)
    if image is None:
        raise ApiError(400, "Can not find requested image")
    if image.status != "active":
        raise ApiError(400, f"Image {image.id} is not active.")
    if image.min_ram > flavor.ram:
        raise ApiError(400, "Flavor's memory is too small for requested image.")
    if flavor.disk and image.min_disk > flavor.disk:
        raise ApiError(400, "Flavor's disk is too small for requested image.")
    return image


def count(server: dict[str, Any]) -> tuple[int, int]:
    """(min_count, max_count): Nova makes max_count servers if it can, never fewer than
    min_count."""
    try:
        low = int(server.get("min_count", 1))
        high = int(server.get("max_count", low))
    except (TypeError, ValueError):
        raise ApiError(400, "min_count and max_count must be integers") from None
    if low < 1 or high < 1:
        raise ApiError(400, "min_count and max_count must be positive")
    if low > high:
        raise ApiError(400, "min_count must be <= max_count")
    return low, high


def check_zone(ctx: Context, req: Request, server: dict[str, Any]) -> str | None:
    """The host an `az:host[:node]` zone forces (admin only), or None. Only the zone
    `nova` exists; a forced host skips the zone check, as in Nova."""
    zone = server.get("availability_zone")
    if zone is None:
        return None
    if not isinstance(zone, str) or not 1 <= len(zone) <= 255:
        raise bad_field("availability_zone", zone, f"{zone!r} is not of type 'string'")
    name, _, rest = zone.partition(":")
    host = rest.split(":", 1)[0] or None
    if host is not None:
        if not identity.is_admin(req.token):
            raise ApiError(
                403,
                "Policy doesn't allow os_compute_api:servers:create:forced_host to be performed.",
            )
        return host
    if name != availability_zones.ZONE:
        raise ApiError(400, "The requested availability zone is not available")
    return None
