"""The server kind: Nova servers, compared on resolved IDs, built, resized, rebuilt.

The pure half (effects, recorded attributes) is what the diff uses; the cloud half is
called by refresh and apply with a connected `stackplan.cloud.Cloud`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import GONE, Await, Effect, Marker, ObservedResource

if TYPE_CHECKING:
    from stackplan.cloud import Cloud, ServerInfo

# Server metadata stackplan writes so that a create whose answer was lost is found again.
MARK_LINEAGE, MARK_ADDRESS, MARK_TOKEN = "stackplan:lineage", "stackplan:address", "stackplan:token"
_MARKS = (MARK_LINEAGE, MARK_ADDRESS, MARK_TOKEN)


def user_data_digest(user_data: str | None) -> str | None:
    return hashlib.sha256(user_data.encode()).hexdigest() if user_data is not None else None


class ServerKind:
    name: ClassVar[str] = "server"
    settles: ClassVar[bool] = True
    reported: ClassVar[tuple[str, ...]] = ("access_ip_v4",)
    cloud_chosen: ClassVar[frozenset[str]] = frozenset({"availability_zone"})
    effects: ClassVar[Mapping[str, Effect]] = {
        "name": Effect.UPDATE,
        "metadata": Effect.UPDATE,
        "security_groups": Effect.UPDATE,
        "flavor_id": Effect.RESIZE,
        "image_id": Effect.REBUILD,
        "key_name": Effect.REPLACE,
        "user_data_sha256": Effect.REPLACE,
        "availability_zone": Effect.REPLACE,
    }

    def recorded(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        # The user data itself can be large and hold credentials: state keeps its digest.
        out = {k: v for k, v in attrs.items() if k != "user_data"}
        out["user_data_sha256"] = user_data_digest(attrs.get("user_data"))
        return out

    # -- reading ------------------------------------------------------------------------

    def read_many(self, cloud: Cloud, ids: Collection[str], lineage: str) -> list[ObservedResource]:
        # One paginated listing of the project: cheaper than a GET per server, and it also
        # finds servers whose create answer never reached the state (by their marker).
        wanted = set(ids)
        found = []
        for server in cloud.compute.list_servers():
            observed = _observed(server)
            mine = observed.marker is not None and observed.marker.lineage == lineage
            if server.id in wanted or mine:
                found.append(observed)
        return found

    def poll(self, cloud: Cloud, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        wanted = set(ids)
        return {
            s.id: _observed(s)
            for s in cloud.compute.list_servers(changes_since=since)
            if s.id in wanted
        }

    def find_by_marker(self, cloud: Cloud, marker: Marker) -> ObservedResource | None:
        for server in cloud.compute.list_servers():
            if server.metadata.get(MARK_TOKEN) == marker.token and server.status != "DELETED":
                return _observed(server)
        return None

    # -- changing -----------------------------------------------------------------------

    def create(self, cloud: Cloud, attrs: Mapping[str, Any], marker: Marker) -> str:
        from stackplan.cloud import ServerCreate

        metadata = dict(attrs.get("metadata") or {})
        metadata.update(
            {MARK_LINEAGE: marker.lineage, MARK_ADDRESS: marker.address, MARK_TOKEN: marker.token}
        )
        return cloud.compute.create_server(
            ServerCreate(
                name=attrs["name"],
                image_id=attrs["image_id"],
                flavor_id=attrs["flavor_id"],
                key_name=attrs.get("key_name"),
                security_groups=tuple(attrs.get("security_groups") or ()),
                metadata=metadata,
                user_data=attrs.get("user_data"),
                availability_zone=attrs.get("availability_zone"),
            )
        )

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        compute = cloud.compute
        if after.get("name") != before.get("name"):
            compute.update_server(resource_id, name=after["name"])
        old_meta, new_meta = dict(before.get("metadata") or {}), dict(after.get("metadata") or {})
        if new_meta != old_meta:
            # Merge and delete key by key: a PUT of the whole map would drop our marker.
            changed = {k: v for k, v in new_meta.items() if old_meta.get(k) != v}
            if changed:
                compute.set_metadata(resource_id, changed)
            for key in sorted(set(old_meta) - set(new_meta)):
                compute.delete_metadata_key(resource_id, key)
        old_groups = set(before.get("security_groups") or ())
        new_groups = set(after.get("security_groups") or ())
        for group in sorted(new_groups - old_groups):
            compute.add_security_group(resource_id, group)
        for group in sorted(old_groups - new_groups):
            compute.remove_security_group(resource_id, group)
        if after.get("flavor_id") and after.get("flavor_id") != before.get("flavor_id"):
            compute.resize(resource_id, after["flavor_id"])

            def confirm() -> Await:
                compute.confirm_resize(resource_id)
                return Await(resource_id, frozenset({"ACTIVE"}), verb="still resizing")

            return Await(resource_id, frozenset({"VERIFY_RESIZE"}), confirm, "still resizing")
        return None

    def rebuild(self, cloud: Cloud, resource_id: str, after: Mapping[str, Any]) -> Await | None:
        cloud.compute.rebuild(resource_id, after["image_id"])
        return Await(resource_id, frozenset({"ACTIVE"}), verb="still rebuilding")

    def delete(self, cloud: Cloud, resource_id: str) -> Await | None:
        cloud.compute.delete_server(resource_id)
        return Await(resource_id, frozenset({GONE}), verb="still destroying")


def _observed(server: ServerInfo) -> ObservedResource:
    marker = None
    meta = dict(server.metadata)
    if MARK_LINEAGE in meta and MARK_ADDRESS in meta:
        marker = Marker(meta[MARK_LINEAGE], meta[MARK_ADDRESS], meta.get(MARK_TOKEN, ""))
    for key in _MARKS:
        meta.pop(key, None)
    attrs: dict[str, Any] = {
        "name": server.name,
        "image_id": server.image_id,
        "flavor_id": server.flavor_id,
        "key_name": server.key_name,
        "security_groups": sorted(server.security_groups),
        "metadata": meta,
        "access_ip_v4": server.access_ip_v4 or _first_address(server),
    }
    if server.flavor_name:
        attrs["flavor_name"] = server.flavor_name
    if server.availability_zone is not None:
        attrs["availability_zone"] = server.availability_zone
    # A status with a task still running (ACTIVE + rebuilding) is not yet the status.
    status = "GONE" if server.status == "DELETED" else server.status
    if server.task_state and status == "ACTIVE":
        status = f"ACTIVE/{server.task_state}"
    return ObservedResource("server", server.id, attrs, status, server.fault, marker)


def _first_address(server: ServerInfo) -> str | None:
    for addresses in server.addresses.values():
        for address in addresses:
            if "." in address:
                return address
    return None
