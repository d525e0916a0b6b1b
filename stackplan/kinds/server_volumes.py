"""A server's block storage: the data volumes its `volumes:` list attaches, the volume it
boots from (`boot_volume:`), and what Nova and Cinder say the server has.

Desired `volumes`: None (the spec says nothing: whatever is attached stays), or entries
{"volume_id", "device"} in the spec's order, attached once the server is ACTIVE (a late
attribute: each volume exists before it is attached, never before the server is made).
Observed: one {"volume_id"} per data volume Nova lists on the server (the boot volume is
not one of them). Desired `boot_volume`: None, or {"size", "volume_type",
"delete_on_termination"}; observed from the Cinder volume the server boots from, which also
tells the image the server was built from (Nova shows such a server's image as "").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from stackplan.kinds.volume import all_volumes

if TYPE_CHECKING:
    from stackplan.cloud import Cloud, ServerInfo
    from stackplan.cloud.volume import Volume
    from stackplan.kinds.base import ResolveContext
    from stackplan.spec.expand import Entry

_ENTRY: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["volume"],
    "properties": {
        "volume": {"$ref": "#/$defs/ref"},
        "device": {"type": "string", "pattern": "^/dev/[a-z0-9]+$"},
    },
    "x-messages": {"required": "an entry is {volume: V} (with device: /dev/vdb if wanted)"},
}
SCHEMA: Mapping[str, Any] = {"type": "array", "items": _ENTRY}
BOOT_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["size"],
    "properties": {
        "size": {"type": "integer", "minimum": 1},
        "type": {"type": "string", "minLength": 1},
        "delete_on_termination": {"type": "boolean"},
    },
}
BOOT_DEVICE = "/dev/vda"


def expand(entry: Entry) -> list[dict[str, Any]] | None:
    """The desired `volumes` (see the module's docstring); read late: a volume of the spec
    is made before it is attached, not before the server."""
    if not entry.has("volumes"):
        return None
    found: list[dict[str, Any]] = []
    with entry.late():
        for i, item in enumerate(entry.raw["volumes"] or ()):
            volume = entry.ref("volume", item["volume"], "volumes", i, "volume")
            entry_attrs = {"volume_id": volume}
            if item.get("device") is not None:
                entry_attrs["device"] = entry.value_at(item["device"], "volumes", i, "device")
            found.append(entry_attrs)
    return found


def expand_boot(entry: Entry) -> dict[str, Any] | None:
    if not entry.has("boot_volume"):
        return None
    raw = entry.raw["boot_volume"] or {}
    return {
        "size": raw.get("size"),
        "volume_type": raw.get("type"),
        "delete_on_termination": bool(raw.get("delete_on_termination", True)),
    }


def check_free(ctx: ResolveContext, wanted: Any, address: str) -> None:
    """A cloud volume the spec attaches must be free, or on this very server already."""
    if not isinstance(wanted, list):
        return
    volumes = {v.id: v for v in all_volumes(ctx.reads)}
    servers = {
        s.id: s for s in ctx.reads.get("compute.servers", ctx.reads.cloud.compute.list_servers)
    }
    for n, item in enumerate(wanted):
        volume = (
            volumes.get(item.get("volume_id")) if isinstance(item.get("volume_id"), str) else None
        )
        if volume is None:
            continue
        for attachment in volume.attachments:
            server = servers.get(attachment.server_id)
            if server is not None and server.metadata.get("stackplan:address") == address:
                continue
            holder = f"{server.name} ({server.id})" if server else attachment.server_id
            ctx.problem(
                f"volumes[{n}].volume",
                f"volume {volume.name or volume.id} ({volume.id}) is in use by server {holder}, "
                "which this stack does not manage",
                hint="detach it there first, or attach another volume",
            )


def check_boot(ctx: ResolveContext, boot: Any) -> None:
    """A boot volume's type goes to Nova in the block device mapping from 2.67 only."""
    if not isinstance(boot, Mapping) or not boot.get("volume_type"):
        return
    compute = ctx.reads.cloud.compute
    if not compute.at_least(2, 67):
        version = compute.microversion
        offered = f"{version[0]}.{version[1]}" if version else "no microversions"
        ctx.problem(
            "boot_volume.type",
            f"a boot volume's type needs compute API 2.67; this cloud offers {offered}",
            hint="leave type out: the boot volume then gets the cloud's default type",
        )


# -- reading ------------------------------------------------------------------------------


def observed(server: ServerInfo, volumes: Mapping[str, Volume] | None) -> dict[str, Any]:
    """What the cloud says of the server's storage: its data volumes, and for a server
    booted from a volume, that volume's size, type and fate, and the image it was made of."""
    attached = [volume_id for volume_id, _ in server.volumes_attached]
    boot = boot_volume_of(server, volumes) if volumes is not None else None
    out: dict[str, Any] = {
        "volumes": [{"volume_id": v} for v in attached if boot is None or v != boot.id],
        "config_drive": server.config_drive,
    }
    if boot is not None:
        keep = dict(server.volumes_attached).get(boot.id, False)
        out["boot_volume"] = {
            "size": boot.size,
            "volume_type": boot.volume_type,
            "delete_on_termination": keep,
        }
        if not server.image_id and boot.image_id:
            out["image_id"] = boot.image_id
    return out


def boot_volume_of(server: ServerInfo, volumes: Mapping[str, Volume]) -> Volume | None:
    """The volume a server boots from (`volumes` by ID): attached at the first disk, or
    (the device not reported) the bootable one. Only for a server Nova shows without an
    image."""
    if server.image_id:
        return None
    candidates = [volumes[i] for i, _ in server.volumes_attached if i in volumes]
    for volume in candidates:
        if any(a.server_id == server.id and a.device == BOOT_DEVICE for a in volume.attachments):
            return volume
    return next((v for v in candidates if v.bootable), None)


# -- comparing ----------------------------------------------------------------------------


def volumes_match(wanted: Any, actual: Any) -> bool:
    """Whether the server has exactly the data volumes `wanted` asks for, in any order
    (devices are Nova's hint, not a promise: never compared)."""
    if wanted is None:
        return True
    return _ids(wanted) == _ids(actual)


def boot_match(wanted: Any, actual: Any) -> bool:
    if wanted is None:
        return actual is None
    if not isinstance(actual, Mapping):
        return False
    if actual.get("size") != wanted.get("size"):
        return False
    if wanted.get("volume_type") and actual.get("volume_type") != wanted.get("volume_type"):
        return False
    return bool(actual.get("delete_on_termination")) == bool(wanted.get("delete_on_termination"))


def _ids(entries: Any) -> set[str]:
    return {str(e.get("volume_id")) for e in entries or () if isinstance(e, Mapping)}


# -- changing -----------------------------------------------------------------------------


def set_volumes(cloud: Cloud, server_id: str, before: Any, after: Any) -> None:
    """Attach the volumes `after` adds and detach those it drops; the others stay as they
    are (a volume added never detaches its neighbours)."""
    if after is None:
        return
    have = _ids(before)
    want = _ids(after)
    for volume_id in sorted(have - want):
        cloud.compute.detach_volume(server_id, volume_id)
    for entry in after:
        if str(entry.get("volume_id")) not in have:
            cloud.compute.attach_volume(server_id, str(entry["volume_id"]), entry.get("device"))
