"""The network kind: Neutron networks. Every field changes in place.

Desired attributes: name, description, mtu (None: the cloud's), admin_state_up,
port_security_enabled (None: the cloud's, enabled), tags (the spec's own; the marker's
tags are stackplan's and never shown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.neutron import NeutronKind, changed, marker_of, neutron_limits, user_tags

if TYPE_CHECKING:
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Network
    from stackplan.spec.expand import Entry

TAGS_SCHEMA: Mapping[str, Any] = {
    "type": "array",
    "items": {"type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[^,]*$"},
    "x-messages": {"pattern": "a tag may not hold a comma"},
}
_FIELDS = ("name", "description", "mtu", "admin_state_up", "port_security_enabled")


class NetworkKind(NeutronKind):
    name: ClassVar[str] = "network"
    section: ClassVar[str] = "networks"
    client_kind: ClassVar[str] = "network"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": ["object"],
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "description": {"type": "string", "maxLength": 255},
            "mtu": {"type": "integer", "minimum": 68},
            "admin_state_up": {"type": "boolean"},
            "port_security_enabled": {"type": "boolean"},
            "tags": TAGS_SCHEMA,
        },
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "mtu")
    ignorable: ClassVar[Mapping[str, str]] = {f: f for f in (*_FIELDS, "tags")}
    effects: ClassVar[Mapping[str, Effect]] = {f: Effect.UPDATE for f in (*_FIELDS, "tags")}
    cloud_chosen: ClassVar[frozenset[str]] = frozenset({"mtu", "port_security_enabled"})
    measures: ClassVar[tuple[Measure, ...]] = (Measure("networks", quota_label="networks"),)

    def expand(self, entry: Entry) -> dict[str, Any]:
        return {
            "name": entry.cloud_name(),
            "description": entry.value("description", ""),
            "mtu": entry.value("mtu", want_str=False),
            "admin_state_up": entry.raw.get("admin_state_up", True),
            "port_security_enabled": entry.raw.get("port_security_enabled"),
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"networks": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(reads, {"networks": "network"})

    def offered(self, item: Network) -> bool:
        return item.shared or item.external

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[Network]:
        return cloud.network.list_networks(**filters)

    def _observe(self, item: Network, reads: Reads | None) -> ObservedResource:
        attrs = {
            "name": item.name,
            "description": item.description,
            "mtu": item.mtu,
            "admin_state_up": item.admin_state_up,
            "port_security_enabled": item.port_security_enabled,
            "tags": user_tags(item.tags),
        }
        return ObservedResource("network", item.id, attrs, item.status, None, marker_of(item.tags))

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> Network:
        body = {k: attrs[k] for k in _FIELDS if attrs.get(k) is not None}
        return cloud.network.create_network(body)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        body = {k: v for k, v in changed(before, after, _FIELDS).items() if v is not None}
        if body:
            cloud.network.update_network(resource_id, body)
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        cloud.network.delete_network(resource_id)
