"""Cinder (block-storage v3): volumes, their actions and metadata, types, quotas — as typed
frozen values.

Wire names stop here. The catalog names Cinder `block-storage` (newer clouds) or
`volumev3`; its URL holds the project. Attachments are made through Nova
(`ComputeClient.attach_volume`), which tells Cinder: this client only reads them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from stackplan.cloud.pages import pages
from stackplan.cloud.session import Session
from stackplan.errors import CloudError
from stackplan.frozen import frozen_map

SERVICE_TYPES = ("block-storage", "volumev3")
# 3.42: an attached volume may be extended. Older clouds take 3.0 behaviour.
MICROVERSION = "3.42"


@dataclass(frozen=True, slots=True)
class VolumeAttachment:
    server_id: str
    device: str | None = None


@dataclass(frozen=True, slots=True)
class Volume:
    id: str
    name: str
    size: int
    status: str  # Cinder's word: creating, available, in-use, extending, error, ...
    volume_type: str | None = None
    availability_zone: str | None = None
    description: str = ""
    metadata: Mapping[str, str] = field(default_factory=frozen_map)
    bootable: bool = False
    image_id: str | None = None  # what a volume made from an image was made from
    attachments: tuple[VolumeAttachment, ...] = ()
    updated_at: str | None = None


@dataclass(frozen=True, slots=True)
class VolumeQuota:
    """The project's volumes and gigabytes: limit (-1 unlimited) and what is in use."""

    volumes: int
    volumes_used: int
    gigabytes: int
    gigabytes_used: int


class VolumeClient:
    """Cinder at the catalog's block-storage endpoint. Thread-safe; one per run."""

    def __init__(self, session: Session, endpoint: str | None = None, page_size: int | None = None):
        self.session = session
        self._endpoint = endpoint
        self.page_size = page_size

    @property
    def root(self) -> str:
        if self._endpoint:
            return self._endpoint.rstrip("/")
        last: CloudError | None = None
        for service in SERVICE_TYPES:
            try:
                return self.session.endpoint(service).rstrip("/")
            except CloudError as exc:
                last = exc
        assert last is not None
        raise last

    def available(self) -> bool:
        """Whether the cloud has Cinder at all (in its catalog, or configured)."""
        try:
            _ = self.root
        except CloudError:
            return False
        return True

    def _call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Any = None,
        retry_safe: bool | None = None,
    ) -> Any:
        url = path if urlsplit(path).scheme else f"{self.root}/{path.lstrip('/')}"
        response = self.session.request(
            method,
            url,
            json_body=body,
            params=params,
            headers={"OpenStack-API-Version": f"volume {MICROVERSION}"},
            retry_safe=retry_safe,
        )
        return response.json() if response.content else None

    def _pages(self, path: str, key: str, params: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        query = {k: v for k, v in params.items() if v is not None}
        if self.page_size:
            query["limit"] = self.page_size

        def fetch(url: str, q: Mapping[str, Any] | None) -> Any:
            return self._call("GET", url, params=q)

        return pages(fetch, path, key, query)

    # -- volumes -------------------------------------------------------------------------

    def list_volumes(self, **filters: Any) -> tuple[Volume, ...]:
        return tuple(_volume(v) for v in self._pages("volumes/detail", "volumes", filters))

    def get_volume(self, volume_id: str) -> Volume:
        return _volume(self._call("GET", f"volumes/{volume_id}")["volume"])

    def create_volume(self, body: Mapping[str, Any]) -> Volume:
        """Ask for a new volume (`size`, `name`, `volume_type`, `imageRef`, ...). Not
        retried: a repeat could make two."""
        data = self._call("POST", "volumes", body={"volume": dict(body)}, retry_safe=False)
        return _volume(data["volume"])

    def update_volume(self, volume_id: str, body: Mapping[str, Any]) -> None:
        self._call("PUT", f"volumes/{volume_id}", body={"volume": dict(body)})

    def delete_volume(self, volume_id: str) -> None:
        """Delete; a volume already gone is fine."""
        try:
            self._call("DELETE", f"volumes/{volume_id}")
        except CloudError as exc:
            if exc.status != 404:
                raise

    def extend(self, volume_id: str, new_size: int) -> None:
        self._action(volume_id, {"os-extend": {"new_size": new_size}})

    def retype(self, volume_id: str, new_type: str) -> None:
        """Retype, migrating the data when the new type needs another backend."""
        self._action(
            volume_id, {"os-retype": {"new_type": new_type, "migration_policy": "on-demand"}}
        )

    def set_metadata(self, volume_id: str, metadata: Mapping[str, str]) -> None:
        """Merge `metadata` into the volume's (a POST keeps the keys it does not name)."""
        self._call("POST", f"volumes/{volume_id}/metadata", body={"metadata": dict(metadata)})

    def delete_metadata_key(self, volume_id: str, key: str) -> None:
        try:
            self._call("DELETE", f"volumes/{volume_id}/metadata/{key}")
        except CloudError as exc:
            if exc.status != 404:
                raise

    def _action(self, volume_id: str, body: Mapping[str, Any]) -> None:
        self._call("POST", f"volumes/{volume_id}/action", body=dict(body), retry_safe=True)

    # -- quotas --------------------------------------------------------------------------

    def get_quota(self, project_id: str) -> VolumeQuota:
        data = self._call("GET", f"os-quota-sets/{project_id}", params={"usage": "True"})
        quota = (data or {}).get("quota_set") or {}

        def part(name: str) -> tuple[int, int]:
            value = quota.get(name)
            if isinstance(value, Mapping):
                return int(value.get("limit", -1)), int(value.get("in_use", 0))
            return (int(value) if value is not None else -1), 0

        volumes, gigabytes = part("volumes"), part("gigabytes")
        return VolumeQuota(volumes[0], volumes[1], gigabytes[0], gigabytes[1])


def _volume(data: Mapping[str, Any]) -> Volume:
    image_meta = data.get("volume_image_metadata") or {}
    return Volume(
        id=str(data["id"]),
        name=str(data.get("name") or ""),
        size=int(data.get("size") or 0),
        status=str(data.get("status", "")).lower(),
        volume_type=data.get("volume_type"),
        availability_zone=data.get("availability_zone"),
        description=str(data.get("description") or ""),
        metadata=frozen_map(data.get("metadata")),
        bootable=str(data.get("bootable", "false")).lower() == "true",
        image_id=image_meta.get("image_id"),
        attachments=tuple(
            VolumeAttachment(str(a.get("server_id")), a.get("device"))
            for a in data.get("attachments") or ()
            if a.get("server_id")
        ),
        updated_at=data.get("updated_at"),
    )
