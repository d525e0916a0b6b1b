"""The subnet kind: Neutron subnets. Its network, cidr and IP version replace it; name,
description, gateway, DHCP, DNS servers, allocation pools and host routes change in place
(as terraform-provider-openstack decides).
"""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.network import TAGS_SCHEMA
from stackplan.kinds.neutron import NeutronKind, changed, marker_of, neutron_limits, user_tags
from stackplan.spec.expand import same_target

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Subnet
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource

_IN_PLACE = (
    "name",
    "description",
    "gateway_ip",
    "enable_dhcp",
    "dns_nameservers",
    "allocation_pools",
    "host_routes",
)
_POOL = {
    "type": "object",
    "required": ["start", "end"],
    "additionalProperties": False,
    "properties": {"start": {"type": "string"}, "end": {"type": "string"}},
}
_ROUTE = {
    "type": "object",
    "required": ["destination", "nexthop"],
    "additionalProperties": False,
    "properties": {"destination": {"type": "string"}, "nexthop": {"type": "string"}},
}


def _ordered(items: Any) -> list[str]:
    return sorted(json.dumps(dict(i), sort_keys=True) for i in items)


class SubnetKind(NeutronKind):
    name: ClassVar[str] = "subnet"
    section: ClassVar[str] = "subnets"
    client_kind: ClassVar[str] = "subnet"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["network", "cidr"],
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "description": {"type": "string", "maxLength": 255},
            "network": {"$ref": "#/$defs/ref"},
            "cidr": {"type": "string", "minLength": 1},
            "ip_version": {"enum": [4, 6]},
            "gateway_ip": {"type": "string", "minLength": 1},
            "enable_dhcp": {"type": "boolean"},
            "dns_nameservers": {"type": "array", "items": {"type": "string"}},
            "allocation_pools": {"type": "array", "items": _POOL},
            "host_routes": {"type": "array", "items": _ROUTE},
            "tags": TAGS_SCHEMA,
        },
    }
    example: ClassVar[Mapping[str, Any]] = {"network": "public", "cidr": "10.9.0.0/24"}
    references: ClassVar[Mapping[str, str]] = {"network": "network"}
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "cidr", "gateway_ip")
    ignorable: ClassVar[Mapping[str, str]] = {
        **{f: f for f in (*_IN_PLACE, "cidr", "ip_version", "tags")},
        "network": "network_id",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        **{f: Effect.UPDATE for f in (*_IN_PLACE, "tags")},
        "network_id": Effect.REPLACE,
        "cidr": Effect.REPLACE,
        "ip_version": Effect.REPLACE,
    }
    cloud_chosen: ClassVar[frozenset[str]] = frozenset({"gateway_ip", "allocation_pools"})
    measures: ClassVar[tuple[Measure, ...]] = (Measure("subnets", quota_label="subnets"),)

    def expand(self, entry: Entry) -> dict[str, Any]:
        cidr = entry.value("cidr")
        try:
            net = ipaddress.ip_network(cidr, strict=False)
            cidr = str(net)  # the form Neutron reports: 10.0.0.0/24, not 10.0.0.7/24
            version = net.version
        except (ValueError, TypeError):
            entry.problem("cidr", f"{cidr!r} is not a CIDR such as 10.0.0.0/24")
            version = 4
        if entry.has("ip_version") and entry.raw["ip_version"] != version:
            entry.problem("ip_version", f"the cidr {cidr} is IPv{version}")
        return {
            "name": entry.cloud_name(),
            "description": entry.value("description", ""),
            "network_id": entry.reference("network"),
            "cidr": cidr,
            "ip_version": version,
            "gateway_ip": entry.value("gateway_ip"),
            "enable_dhcp": entry.raw.get("enable_dhcp", True),
            "dns_nameservers": list(entry.value("dns_nameservers") or ()),
            "allocation_pools": entry.value("allocation_pools"),
            "host_routes": list(entry.value("host_routes") or ()),
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        if field in ("allocation_pools", "host_routes") and wanted is not None:
            # Sets to Neutron, which answers them in its own order.
            return _ordered(wanted) == _ordered(actual or [])
        return None

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"subnets": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(reads, {"subnets": "subnet"})

    def offered(self, item: Subnet) -> bool:
        return True  # the subnets of a shared network are its owner's

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[Subnet]:
        return cloud.network.list_subnets(**filters)

    def _observe(self, item: Subnet, reads: Reads | None) -> ObservedResource:
        attrs = {
            "name": item.name,
            "description": item.description,
            "network_id": item.network_id,
            "cidr": item.cidr,
            "ip_version": item.ip_version,
            "gateway_ip": item.gateway_ip,
            "enable_dhcp": item.enable_dhcp,
            "dns_nameservers": list(item.dns_nameservers),
            "allocation_pools": [dict(p) for p in item.allocation_pools],
            "host_routes": [dict(r) for r in item.host_routes],
            "tags": user_tags(item.tags),
        }
        return ObservedResource("subnet", item.id, attrs, "", None, marker_of(item.tags))

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> Subnet:
        keys = ("network_id", "cidr", "ip_version", *_IN_PLACE)
        body = {k: attrs[k] for k in keys if attrs.get(k) is not None}
        return cloud.network.create_subnet(body)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        body = {k: v for k, v in changed(before, after, _IN_PLACE).items() if v is not None}
        if body:
            cloud.network.update_subnet(resource_id, body)
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        cloud.network.delete_subnet(resource_id)


def subnets_on(
    networks: Iterable[Any], spec: Mapping[str, Sequence[DesiredResource]]
) -> list[Address]:
    """The spec's subnets on any of `networks` (references or IDs): a port made on one of
    these networks gets its address from them, so they come first (and go after it)."""
    wanted = list(networks)
    return [
        r.address
        for r in spec.get("subnet", ())
        if any(same_target(r.attrs.get("network_id"), n) for n in wanted)
    ]
