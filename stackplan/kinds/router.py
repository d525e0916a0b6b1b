"""The router kind: Neutron routers with their external gateway and interfaces inline.
Everything changes in place: the gateway is set or cleared, each interface (a subnet) is
added or removed without touching the others.

Desired attributes: name, description, admin_state_up, external_network_id (None: no
gateway), interfaces (sorted subnet IDs), tags.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.network import TAGS_SCHEMA
from stackplan.kinds.neutron import (
    NeutronKind,
    all_ports,
    changed,
    marker_of,
    neutron_limits,
    user_tags,
)

if TYPE_CHECKING:
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Port, Router
    from stackplan.spec.expand import Entry

INTERFACE = "network:router_interface"
_FIELDS = ("name", "description", "admin_state_up")


class RouterKind(NeutronKind):
    name: ClassVar[str] = "router"
    section: ClassVar[str] = "routers"
    client_kind: ClassVar[str] = "router"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "description": {"type": "string", "maxLength": 255},
            "admin_state_up": {"type": "boolean"},
            "external_network": {"$ref": "#/$defs/ref"},
            "interfaces": {"type": "array", "items": {"$ref": "#/$defs/ref"}},
            "tags": TAGS_SCHEMA,
        },
    }
    references: ClassVar[Mapping[str, str]] = {
        "external_network": "network",
        "interfaces": "subnet",
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name")
    ignorable: ClassVar[Mapping[str, str]] = {
        **{f: f for f in (*_FIELDS, "interfaces", "tags")},
        "external_network": "external_network_id",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        f: Effect.UPDATE for f in (*_FIELDS, "external_network_id", "interfaces", "tags")
    }
    measures: ClassVar[tuple[Measure, ...]] = (Measure("routers", quota_label="routers"),)

    def expand(self, entry: Entry) -> dict[str, Any]:
        interfaces = entry.refs("interfaces") or []
        return {
            "name": entry.cloud_name(),
            "description": entry.value("description", ""),
            "admin_state_up": entry.raw.get("admin_state_up", True),
            "external_network_id": entry.reference("external_network"),
            "interfaces": interfaces,
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        if field == "interfaces":  # a set: Neutron keeps no order among them
            return sorted(wanted or ()) == sorted(actual or ())
        return None

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"routers": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(reads, {"routers": "router"})

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[Router]:
        return cloud.network.list_routers(**filters)

    def _observe(self, item: Router, reads: Reads | None) -> ObservedResource:
        attrs: dict[str, Any] = {
            "name": item.name,
            "description": item.description,
            "admin_state_up": item.admin_state_up,
            "external_network_id": item.external_network_id,
            "tags": user_tags(item.tags),
        }
        if reads is not None:
            attrs["interfaces"] = _interfaces(all_ports(reads), item.id)
        return ObservedResource("router", item.id, attrs, item.status, None, marker_of(item.tags))

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> Router:
        body: dict[str, Any] = {k: attrs[k] for k in _FIELDS if attrs.get(k) is not None}
        if attrs.get("external_network_id"):
            body["external_gateway_info"] = {"network_id": attrs["external_network_id"]}
        router = cloud.network.create_router(body)
        for subnet_id in attrs.get("interfaces") or ():
            cloud.network.add_router_interface(router.id, subnet_id)
        return router

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        body: dict[str, Any] = changed(before, after, _FIELDS)
        if "external_network_id" in after and (
            after["external_network_id"] != before.get("external_network_id")
        ):
            network = after["external_network_id"]
            body["external_gateway_info"] = {"network_id": network} if network else {}
        old = set(before.get("interfaces") or ())
        new = set(after.get("interfaces") or ())
        # Removed first, as a subnet gets a router interface only once in Neutron.
        for subnet_id in sorted(old - new):
            cloud.network.remove_router_interface(resource_id, subnet_id)
        if body:
            cloud.network.update_router(resource_id, body)
        for subnet_id in sorted(new - old):
            cloud.network.add_router_interface(resource_id, subnet_id)
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        # Neutron refuses a router with interfaces (409 RouterInUse): they go first.
        ports = cloud.network.list_ports(device_id=resource_id, device_owner=INTERFACE)
        for subnet_id in sorted({ip.subnet_id for p in ports for ip in p.fixed_ips}):
            cloud.network.remove_router_interface(resource_id, subnet_id)
        cloud.network.delete_router(resource_id)


def _interfaces(ports: Sequence[Port], router_id: str) -> list[str]:
    return sorted(
        {
            ip.subnet_id
            for p in ports
            if p.device_id == router_id and p.device_owner == INTERFACE
            for ip in p.fixed_ips
        }
    )
