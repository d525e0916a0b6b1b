"""The volume kind: Cinder volumes. Growing extends in place, shrinking replaces (Cinder
cannot shrink: the data would be lost), a new type is a retype that migrates the data;
an image or an availability zone replaces.

Desired attributes: name, size (GiB), volume_type (None: the cloud's default), image_id
and image_name (a bootable data volume; resolved like a server's image), availability_zone
(None: the cloud's choice), description, metadata (the spec's own; the marker's keys are
stackplan's and never shown).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.errors import CloudError
from stackplan.kinds.base import (
    GONE,
    Await,
    Effect,
    Kind,
    Limit,
    Made,
    Marker,
    Measure,
    Named,
    ObservedResource,
    Reads,
    ResolveContext,
)
from stackplan.kinds.server_images import find_image

if TYPE_CHECKING:
    from stackplan.cloud import Cloud
    from stackplan.cloud.volume import Volume
    from stackplan.spec.expand import Entry
    from stackplan.state.model import ResourceRecord

MARK_LINEAGE, MARK_ADDRESS = "stackplan:lineage", "stackplan:address"
MARK_TOKEN, MARK_STACK = "stackplan:token", "stackplan:stack"
_MARKS = (MARK_LINEAGE, MARK_ADDRESS, MARK_TOKEN, MARK_STACK)
_READY = frozenset({"available", "in-use"})
# A volume on its way off a server (Nova detaches it as it deletes the server).
_DETACHING = frozenset({"in-use", "detaching", "attaching", "reserved"})
# Cinder's words for a volume that will not get better by itself.
FAILED = frozenset({"error", "error_extending", "error_deleting", "error_restoring"})
SHRINK = "volumes cannot shrink: data lost"


class VolumeKind(Kind):
    name: ClassVar[str] = "volume"
    section: ClassVar[str] = "volumes"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["size"],
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "size": {"type": "integer", "minimum": 1},
            "type": {"type": "string", "minLength": 1},
            "image": {"$ref": "#/$defs/image"},
            "availability_zone": {"type": "string", "minLength": 1},
            "description": {"type": "string", "maxLength": 255},
            "metadata": {"$ref": "#/$defs/metadata"},
        },
    }
    example: ClassVar[Mapping[str, Any]] = {"size": 1}
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "size")
    ignorable: ClassVar[Mapping[str, str]] = {
        "name": "name",
        "size": "size",
        "type": "volume_type",
        "image": "image_id",
        "availability_zone": "availability_zone",
        "description": "description",
        "metadata": "metadata",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.UPDATE,
        "description": Effect.UPDATE,
        "metadata": Effect.UPDATE,
        "size": Effect.UPDATE,  # or REPLACE when it shrinks (see `effect`)
        "volume_type": Effect.UPDATE,
        "image_id": Effect.REPLACE,
        "availability_zone": Effect.REPLACE,
    }
    companions: ClassVar[Mapping[str, tuple[str, ...]]] = {"image_id": ("image_name",)}
    display: ClassVar[Mapping[str, tuple[str, str]]] = {"image_id": ("image", "image_name")}
    cloud_chosen: ClassVar[frozenset[str]] = frozenset({"volume_type", "availability_zone"})
    settles: ClassVar[bool] = True
    ready: ClassVar[frozenset[str]] = _READY
    measures: ClassVar[tuple[Measure, ...]] = (
        Measure("volumes", quota_label="volumes"),
        Measure(
            "volume_gb", quota_label="volume gigabytes", unit=" GiB", delta_label="GiB volumes"
        ),
    )

    # -- the spec half ------------------------------------------------------------------

    def expand(self, entry: Entry) -> dict[str, Any]:
        image = entry.value("image")
        return {
            "name": entry.cloud_name(),
            "size": entry.value("size", want_str=False),
            "volume_type": entry.value("type"),
            "image": _image(image) if image is not None else None,
            "availability_zone": entry.value("availability_zone"),
            "description": entry.value("description", ""),
            "metadata": entry.metadata(),
        }

    def resolve(self, attrs: Mapping[str, Any], ctx: ResolveContext) -> Mapping[str, Any]:
        if "image" not in attrs:
            return attrs  # resolved before (a saved plan, an import)
        out = {k: v for k, v in attrs.items() if k != "image"}
        if attrs["image"] is None:
            return {**out, "image_id": None}
        image = find_image(ctx, attrs["image"])
        if image is None:
            return attrs
        return {**out, "image_id": image.id, "image_name": image.name}

    def effect(self, field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Effect:
        if field == "size" and _int(after.get("size")) < _int(before.get("size")):
            return Effect.REPLACE
        return self.effects[field]

    def replacing(self, field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
        if field == "size" and _int(after.get("size")) < _int(before.get("size")):
            return SHRINK
        return ""

    def facts(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        return {"image": attrs.get("image_name"), "metadata": attrs.get("metadata") or {}}

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"volumes": 1, "volume_gb": _int(attrs.get("size"))}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        cloud = reads.cloud
        if cloud is None or not cloud.volume.available():
            return {}
        project = cloud.session.token().project_id or ""
        quota = reads.get("volume.quota", lambda: cloud.volume.get_quota(project))
        return {
            "volumes": Limit(quota.volumes, quota.volumes_used),
            "volume_gb": Limit(quota.gigabytes, quota.gigabytes_used),
        }

    def lookup(self, reads: Reads) -> list[Named]:
        return [Named(v.id, v.name or None, v.id) for v in all_volumes(reads)]

    # -- reading ------------------------------------------------------------------------

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        wanted = {r.id for r in records if r.id}
        found = []
        for volume in all_volumes(reads):
            mine = volume.metadata.get(MARK_LINEAGE) == lineage
            if volume.id in wanted or mine:
                found.append(observed(volume))
        return found

    def of_stack(self, reads: Reads, stack: str) -> list[ObservedResource]:
        return [observed(v) for v in all_volumes(reads) if v.metadata.get(MARK_STACK) == stack]

    def poll(self, cloud: Cloud, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        wanted = set(ids)
        seen = {v.id: observed(v) for v in cloud.volume.list_volumes() if v.id in wanted}
        # Cinder lists no deleted volumes: an awaited one that is absent is gone.
        return {i: seen.get(i) or ObservedResource("volume", i, status=GONE) for i in wanted}

    def find_created(
        self, cloud: Cloud, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        for volume in cloud.volume.list_volumes(name=attrs.get("name")):
            if volume.metadata.get(MARK_TOKEN) == marker.token:
                return observed(volume)
        return None

    # -- changing -----------------------------------------------------------------------

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> Made:
        metadata = dict(attrs.get("metadata") or {})
        metadata.update(
            {MARK_LINEAGE: marker.lineage, MARK_ADDRESS: marker.address, MARK_TOKEN: marker.token}
        )
        if marker.stack:
            metadata[MARK_STACK] = marker.stack
        body: dict[str, Any] = {
            "name": attrs["name"],
            "size": attrs["size"],
            "description": attrs.get("description") or "",
            "metadata": metadata,
        }
        if attrs.get("volume_type"):
            body["volume_type"] = attrs["volume_type"]
        if attrs.get("image_id"):
            body["imageRef"] = attrs["image_id"]
        if attrs.get("availability_zone"):
            body["availability_zone"] = attrs["availability_zone"]
        return Made(cloud.volume.create_volume(body).id)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        volumes = cloud.volume
        plain = {k: after[k] for k in ("name", "description") if after.get(k) != before.get(k)}
        if plain:
            volumes.update_volume(resource_id, plain)
        old_meta, new_meta = dict(before.get("metadata") or {}), dict(after.get("metadata") or {})
        if new_meta != old_meta:
            # Merge and delete key by key: a PUT of the whole map would drop the marker.
            changed = {k: v for k, v in new_meta.items() if old_meta.get(k) != v}
            if changed:
                volumes.set_metadata(resource_id, changed)
            for key in sorted(set(old_meta) - set(new_meta)):
                volumes.delete_metadata_key(resource_id, key)
        grow = _int(after.get("size")) > _int(before.get("size"))
        retype = after.get("volume_type") and after.get("volume_type") != before.get("volume_type")
        if not grow and not retype:
            return None

        def then_retype() -> Await | None:
            if not retype:
                return None
            volumes.retype(resource_id, after["volume_type"])
            return Await(resource_id, _READY, verb="still retyping")

        if grow:
            volumes.extend(resource_id, after["size"])
            return Await(resource_id, _READY, then_retype, "still extending")
        return then_retype()

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        """Delete it; one Cinder refuses as attached (400) is detached from every server
        first. A destroy deletes the servers before their volumes, so most need no look."""
        try:
            cloud.volume.delete_volume(resource_id)
            return Await(resource_id, frozenset({GONE}), verb="still destroying")
        except CloudError as exc:
            if exc.status != 400:
                raise
            refused = exc
        try:
            volume = cloud.volume.get_volume(resource_id)
        except CloudError as exc:
            if exc.status == 404:
                return None
            raise
        if not volume.attachments and volume.status not in _DETACHING:
            if volume.status != "available":
                raise refused  # not for an attachment (a snapshot of it, say): Cinder's reason
            # Detached since it was refused (the server's update in the same apply let it
            # go): the refusal is out of date, so once more; a second one is final.
            cloud.volume.delete_volume(resource_id)
            return Await(resource_id, frozenset({GONE}), verb="still destroying")

        def then() -> Await:
            cloud.volume.delete_volume(resource_id)
            return Await(resource_id, frozenset({GONE}), verb="still destroying")

        for attachment in volume.attachments:
            cloud.compute.detach_volume(attachment.server_id, resource_id)
        return Await(resource_id, frozenset({"available"}), then, "still detaching")


def observed(volume: Volume) -> ObservedResource:
    meta = dict(volume.metadata)
    marker = None
    if MARK_LINEAGE in meta and MARK_ADDRESS in meta:
        marker = Marker(
            meta[MARK_LINEAGE],
            meta[MARK_ADDRESS],
            meta.get(MARK_TOKEN, ""),
            meta.get(MARK_STACK, ""),
        )
    for key in _MARKS:
        meta.pop(key, None)
    attrs = {
        "name": volume.name,
        "size": volume.size,
        "volume_type": volume.volume_type,
        "image_id": volume.image_id,
        "availability_zone": volume.availability_zone,
        "description": volume.description,
        "metadata": meta,
        "attached_to": sorted(a.server_id for a in volume.attachments),
    }
    return ObservedResource(
        "volume",
        volume.id,
        attrs,
        volume.status,
        f"Cinder reports the volume {volume.status}" if volume.status in FAILED else None,
        marker,
        failed=volume.status in FAILED,
    )


def all_volumes(reads: Reads) -> Sequence[Volume]:
    """Every volume of the project, listed once per run (none on a cloud without Cinder)."""

    def fetch() -> Sequence[Volume]:
        cloud = reads.cloud
        return cloud.volume.list_volumes() if cloud.volume.available() else ()

    return reads.get("volume.volumes", fetch)


def _image(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"name": value, "most_recent": False}
    if "id" in value:
        return {"id": value["id"]}
    return {"name": value["name"], "most_recent": bool(value.get("most_recent", False))}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
