"""Nova's reading of a `POST /servers` body's disks: `block_device_mapping_v2` (and the
legacy `block_device_mapping`) and `config_drive`, with the checks the API and the
compute API make before anything is stored, in their order and with their messages
(`api/openstack/compute/schemas/servers.py`, `servers.py` `_process_bdms_for_create`
and `_image_from_req_data`, `block_device.py` `BlockDeviceDict.from_api`/`_validate`,
`compute/api.py` `_check_and_transform_bdm`, `_validate_flavor_image_nostatus` and
`_validate_bdm`, `utils.get_bdm_image_metadata`).

What the compute host later does with them (volumes made in Cinder, attached when the
build ends) is `block_devices.py`'s.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from functools import cache
from typing import Any

from stackplan.sim import compute, seed
from stackplan.sim.cinder import volume_types, volumes
from stackplan.sim.cinder.common import Caller, bool_param, is_uuid_like
from stackplan.sim.cinder.validation import Schema, validate
from stackplan.sim.image_store import Image
from stackplan.sim.options import Context
from stackplan.sim.server_checks import check_image
from stackplan.sim.wire import ApiError, Request

GiB = 1024**3
# nova/api/validation/parameter_types.py
_BOOLEAN: Schema = {
    "type": ["boolean", "string"],
    "enum": [True, "True", "TRUE", "true", "1", "ON", "On", "on", "YES", "Yes", "yes",
             False, "False", "FALSE", "false", "0", "OFF", "Off", "off", "NO", "No", "no"],
}  # fmt: skip
_UUID: Schema = {"type": "string", "format": "uuid"}
_TAG: Schema = {"type": "string", "pattern": "^[^,/]*$", "minLength": 1, "maxLength": 60}
_VOLUME_SIZE: Schema = {
    "type": ["integer", "string"],
    "pattern": "^[0-9]+$",
    "minimum": 1,
    "maximum": 0x7FFFFFFF,
}
_LEGACY: Schema = {
    "type": "object",
    "properties": {
        "virtual_name": {"type": "string", "maxLength": 255},
        "volume_id": _UUID,
        "snapshot_id": _UUID,
        "volume_size": _VOLUME_SIZE,
        "device_name": {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": "^[a-zA-Z0-9._/-]*$",
        },
        "delete_on_termination": _BOOLEAN,
        "no_device": {},
        "connection_info": {"type": "string", "maxLength": 16777215},
    },
    "additionalProperties": False,
}
_V2_ITEMS: Schema = {
    "source_type": {"type": "string", "enum": ["volume", "image", "snapshot", "blank"]},
    "uuid": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[a-zA-Z0-9._-]*$"},
    "image_id": _UUID,
    "destination_type": {"type": "string", "enum": ["local", "volume"]},
    "guest_format": {"type": "string", "maxLength": 255},
    "device_type": {"type": "string", "maxLength": 255},
    "disk_bus": {"type": "string", "maxLength": 255},
    "boot_index": {"type": ["integer", "string", "null"], "pattern": "^-?[0-9]+$"},
}
# fields.DiskBus.ALL
_DISK_BUSES = ("fdc", "ide", "sata", "scsi", "usb", "virtio", "xen", "lxc", "uml")


@cache  # read only; built anew it was a deep copy for every server created
def _schema(version: tuple[int, int]) -> Schema:
    v2 = copy.deepcopy(_LEGACY)
    v2["properties"].update(copy.deepcopy(_V2_ITEMS))
    if version == (2, 32) or version >= (2, 42):  # tags: 2.32 only, then 2.42 on
        v2["properties"]["tag"] = _TAG
    if version >= (2, 67):
        v2["properties"]["volume_type"] = {
            "type": ["string", "null"],
            "minLength": 0,
            "maxLength": 255,
        }
    return {
        "type": "object",
        "properties": {
            "block_device_mapping": {"type": "array", "items": _LEGACY},
            "block_device_mapping_v2": {"type": "array", "items": v2},
            "config_drive": _BOOLEAN,
        },
    }


@dataclass(frozen=True, slots=True)
class Mapping:
    """One block device as the compute API keeps it."""

    source_type: str  # image | volume | snapshot | blank
    destination_type: str | None  # local | volume
    uuid: str | None = None  # the image's, volume's or snapshot's id
    boot_index: int | None = None
    volume_size: int | None = None
    volume_type: str | None = None  # the type's name (Nova stores the name)
    delete_on_termination: bool = False
    device_name: str | None = None
    tag: str | None = None
    guest_format: str | None = None

    @property
    def is_volume(self) -> bool:
        return self.destination_type == "volume"


@dataclass(frozen=True, slots=True)
class Storage:
    """A server's disks as requested: the mappings, and whether it boots from a volume
    without an image (its `image` is then shown as "")."""

    mappings: tuple[Mapping, ...] = ()
    config_drive: bool = False
    volume_backed: bool = False

    @property
    def volumes(self) -> list[Mapping]:
        return [m for m in self.mappings if m.is_volume]


def invalid_bdm(details: str) -> ApiError:
    return ApiError(400, f"Block Device Mapping is Invalid: {details}")


# -- the API layer -------------------------------------------------------------------------


def _from_api(item: dict[str, Any], image_specified: bool) -> dict[str, Any]:
    """`BlockDeviceDict.from_api`, then its `_validate`: the internal form."""
    bdm = dict(item)
    if not bdm.get("no_device"):
        source, uuid = bdm.get("source_type"), bdm.get("uuid")
        destination, volume_type = bdm.get("destination_type"), bdm.get("volume_type")
        if source == "blank" and uuid:
            raise invalid_bdm("Invalid device UUID.")
        if source != "blank":
            if not uuid:
                raise invalid_bdm("Missing device UUID.")
            bdm[f"{source}_id"] = uuid
        if source == "image" and destination == "local":
            boot_index = bdm.get("boot_index", -1)
            boot_index = -1 if boot_index is None else int(boot_index)
            if not (image_specified and boot_index == 0):
                raise invalid_bdm("Mapping image to local is not supported.")
        if destination == "local" and volume_type:
            raise invalid_bdm(
                "Specifying a volume_type with destination_type=local is not supported."
            )
        if source == "volume" and volume_type:
            raise invalid_bdm("Specifying volume type to existing volume is not supported.")
    bdm.pop("uuid", None)
    known = set(_LEGACY["properties"]) | set(_V2_ITEMS) | {"tag", "volume_type"}
    known |= {"volume_id", "snapshot_id", "image_id", "blank_id"}
    if not set(bdm) <= known:
        raise invalid_bdm("Some fields are invalid.")
    if bdm.get("no_device"):
        return bdm
    if "source_type" not in bdm:
        raise invalid_bdm("Some required fields are missing")
    if "delete_on_termination" in bdm:
        bdm["delete_on_termination"] = bool_param(bdm["delete_on_termination"])
    if bdm.get("volume_size") is not None:
        bdm["volume_size"] = int(bdm["volume_size"])
    if bdm.get("boot_index"):
        bdm["boot_index"] = int(bdm["boot_index"])
    return bdm


def _from_legacy(item: dict[str, Any]) -> dict[str, Any]:
    """`from_legacy_mapping` for a volume-backed boot: the device named `vda` boots."""
    bdm: dict[str, Any] = {"destination_type": "volume", "boot_index": -1}
    if item.get("snapshot_id"):
        bdm.update(source_type="snapshot", snapshot_id=item["snapshot_id"])
    elif item.get("volume_id"):
        bdm.update(source_type="volume", volume_id=item["volume_id"])
    else:
        bdm.update(source_type="blank", destination_type="local")
    name = (item.get("device_name") or "").removeprefix("/dev/")
    if name == "vda" and bdm["source_type"] != "blank":
        bdm["boot_index"] = 0
    for key in ("device_name", "volume_size"):
        if item.get(key) is not None:
            bdm[key] = int(item[key]) if key == "volume_size" else item[key]
    if "delete_on_termination" in item:
        bdm["delete_on_termination"] = bool_param(item["delete_on_termination"])
    return bdm


def _check_config_drive(value: Any) -> bool:
    if not value:
        return False
    try:
        return bool_param(value, strict=True)
    except ValueError:
        raise ApiError(400, "Invalid config_drive provided.") from None


# -- the compute API -----------------------------------------------------------------------


def _image(ctx: Context, req: Request, image_id: str) -> Image | None:
    return compute.find_image(ctx, req, image_id) if is_uuid_like(image_id) else None


def _boot_meta(
    ctx: Context, req: Request, who: Caller, bdms: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """`get_bdm_image_metadata` for a server without imageRef: the image (or the boot
    volume's image metadata) its boot device holds, or None without a boot device."""
    for bdm in bdms:
        if bdm.get("boot_index") != 0:
            continue
        if bdm.get("snapshot_id"):
            raise ApiError(404, f"Snapshot {bdm['snapshot_id']} could not be found.")
        if bdm.get("image_id"):
            image = _image(ctx, req, bdm["image_id"])
            if image is None:
                raise invalid_bdm(f"failed to get image {bdm['image_id']}.")
            return {"status": image.status, "id": image.id, "min_ram": image.min_ram,
                    "min_disk": image.min_disk}  # fmt: skip
        if bdm.get("volume_id"):
            conn = ctx.db.read()
            try:
                volume = volumes.load(ctx, conn, who, bdm["volume_id"])
            except ApiError:
                raise invalid_bdm(f"failed to get volume {bdm['volume_id']}.") from None
            if not volume["bootable"]:
                raise ApiError(400, f"Block Device {bdm['volume_id']} is not bootable.")
            meta = {
                r["key"]: r["value"]
                for r in conn.execute(
                    "SELECT key, value FROM cinder_image_metadata WHERE volume_id = ?",
                    (volume["id"],),
                )
            }
            return {"status": "active", "id": None,
                    "min_ram": int(meta.get("min_ram") or 0),
                    "min_disk": int(meta.get("min_disk") or 0)}  # fmt: skip
        return None
    return None


def _validate_bdms(
    ctx: Context,
    req: Request,
    who: Caller,
    flavor: seed.Flavor,
    bdms: list[dict[str, Any]],
    image_ref: str | None,
) -> list[Mapping]:
    """`_validate_bdm`: the boot sequence, then each device in order."""
    boot = sorted(
        b["boot_index"] for b in bdms if b.get("boot_index") is not None and b["boot_index"] >= 0
    )
    if not boot or any(i != v for i, v in enumerate(boot)):
        raise invalid_bdm(
            "Boot sequence for the instance and image/block device mapping combination is "
            "not valid."
        )
    conn = ctx.db.read()
    found: list[Mapping] = []
    for bdm in bdms:
        volume_type = bdm.get("volume_type")
        if volume_type:
            try:
                volume_type = volume_types.by_name_or_id(conn, volume_type)["name"]
            except ApiError:
                raise ApiError(400, f"Volume type {volume_type} could not be found.") from None
        source, size = bdm.get("source_type"), bdm.get("volume_size")
        uuid = bdm.get("image_id") or bdm.get("volume_id") or bdm.get("snapshot_id")
        if bdm.get("image_id") is not None:
            if bdm["image_id"] != image_ref and _image(ctx, req, bdm["image_id"]) is None:
                raise invalid_bdm(f"failed to get image {bdm['image_id']}.")
            if source == "image" and bdm.get("destination_type") == "volume" and not size:
                raise ApiError(
                    400,
                    "Images with destination_type 'volume' need to have a non-zero size specified",
                )
        elif bdm.get("volume_id") is not None:
            try:
                size = volumes.load(ctx, conn, who, bdm["volume_id"])["size"]
            except ApiError:
                raise ApiError(400, f"Volume {bdm['volume_id']} could not be found.") from None
        elif bdm.get("snapshot_id") is not None:
            raise invalid_bdm(f"failed to get snapshot {bdm['snapshot_id']}.")
        elif source == "blank" and bdm.get("destination_type") == "volume" and not size:
            raise ApiError(
                400, "Blank volumes (source: 'blank', dest: 'volume') need to have non-zero size"
            )
        bus = bdm.get("disk_bus")
        if bus and bus not in _DISK_BUSES:
            # InvalidBDMDiskBus spells its msg_fmt `msg_fmr`: InvalidBDM's message is used
            raise ApiError(400, "Block Device Mapping is Invalid.")
        found.append(
            Mapping(
                source_type=source or "",
                destination_type=bdm.get("destination_type"),
                uuid=uuid,
                boot_index=bdm.get("boot_index"),
                volume_size=size,
                volume_type=volume_type or None,
                delete_on_termination=bool(bdm.get("delete_on_termination", False)),
                device_name=bdm.get("device_name"),
                tag=bdm.get("tag"),
                guest_format=bdm.get("guest_format"),
            )
        )
    # the flavors have no ephemeral disk and no swap
    for m in found:
        if m.source_type == "blank" and m.destination_type == "local":
            if m.guest_format == "swap":
                if m.volume_size:
                    raise ApiError(400, "Swap drive requested is larger than instance type allows.")
            elif m.volume_size:
                raise ApiError(
                    400,
                    "Ephemeral disks requested are larger than the instance type allows. If no "
                    "size is given in one block device mapping, flavor ephemeral size will be "
                    "used.",
                )
    return found


def parse(
    ctx: Context,
    req: Request,
    server: dict[str, Any],
    flavor: seed.Flavor,
    max_count: int,
    who: Caller,
) -> Storage:
    """The server's disks, or Nova's 400 for the first thing wrong with them."""
    validate(_schema(req.version), server)
    legacy = server.get("block_device_mapping", [])
    v2 = server.get("block_device_mapping_v2", [])
    if legacy and v2:
        raise ApiError(
            400, "Using different block_device_mapping syntaxes is not allowed in the same request."
        )
    image_ref = server.get("imageRef")
    if legacy:
        bdms = [_from_legacy(b) for b in legacy]
        if image_ref and not any(b["boot_index"] == 0 for b in bdms):
            image_bdm = {"source_type": "image", "destination_type": "local", "boot_index": 0,
                         "image_id": image_ref, "delete_on_termination": True}  # fmt: skip
            bdms.insert(0, image_bdm)
    else:
        bdms = [_from_api(b, image_ref not in (None, "")) for b in v2]
    bdms = [b for b in bdms if not b.get("no_device")]
    config_drive = _check_config_drive(server.get("config_drive"))
    if not bdms:
        return Storage(config_drive=config_drive)
    # With an imageRef, the image is checked as for any boot (`check_image`).
    meta = _boot_meta(ctx, req, who, bdms) if not image_ref else None
    if image_ref:
        check_image(ctx, req, image_ref, flavor)
    if max_count > 1 and any(b.get("source_type") == "volume" for b in bdms):
        raise ApiError(400, "Cannot attach one or more volumes to multiple instances")
    if meta is not None:
        if meta["status"] != "active":
            raise ApiError(400, f"Image {meta['id']} is not active.")
        if meta["min_ram"] > flavor.ram:
            raise ApiError(400, "Flavor's memory is too small for requested image.")
        root = next((b for b in bdms if b.get("boot_index") == 0), None)
        if root is not None and root.get("destination_type") == "volume":
            size = root.get("volume_size")
            if size is not None and meta["min_disk"] * GiB > size * GiB:
                raise ApiError(
                    400,
                    "Volume is smaller than the minimum size specified in image metadata. "
                    f"Volume size is {size * GiB} bytes, minimum size is "
                    f"{meta['min_disk'] * GiB} bytes.",
                )
    mappings = _validate_bdms(ctx, req, who, flavor, bdms, image_ref or None)
    return Storage(tuple(mappings), config_drive, volume_backed=not image_ref)
