"""The port kind: Neutron ports made by the spec (a server takes one with `{port: P}`).
Its network replaces it; fixed IPs, security groups, address pairs, name and the rest
change in place. The marker is in its tags, which Neutron takes at the create for ports.

Desired attributes: name, description, network_id, fixed_ips ([{subnet_id, ip_address}];
None: the cloud picks one), security_group_ids (None: the project's default),
allowed_address_pairs, admin_state_up, port_security_enabled, tags. The cloud reports
ip_address (the first fixed IP) and mac_address, which `${port.P.ip_address}` reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.network import TAGS_SCHEMA
from stackplan.kinds.neutron import NeutronKind, changed, marker_of, neutron_limits, user_tags
from stackplan.kinds.subnet import subnets_on

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Port
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource

_FIELDS = ("name", "description", "admin_state_up", "port_security_enabled")
_FIXED_IP = {
    "type": "object",
    "additionalProperties": False,
    "properties": {"subnet": {"$ref": "#/$defs/ref"}, "ip_address": {"type": "string"}},
    "minProperties": 1,
}
_PAIR = {
    "type": "object",
    "required": ["ip_address"],
    "additionalProperties": False,
    "properties": {"ip_address": {"type": "string"}, "mac_address": {"type": "string"}},
}


class PortKind(NeutronKind):
    name: ClassVar[str] = "port"
    section: ClassVar[str] = "ports"
    client_kind: ClassVar[str] = "port"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["network"],
        "properties": {
            "name": {"$ref": "#/$defs/cloudName"},
            "description": {"type": "string", "maxLength": 255},
            "network": {"$ref": "#/$defs/ref"},
            "fixed_ips": {"type": "array", "items": _FIXED_IP},
            "security_groups": {"type": "array", "items": {"$ref": "#/$defs/ref"}},
            "allowed_address_pairs": {"type": "array", "items": _PAIR},
            "admin_state_up": {"type": "boolean"},
            "port_security_enabled": {"type": "boolean"},
            "tags": TAGS_SCHEMA,
        },
    }
    example: ClassVar[Mapping[str, Any]] = {"network": "public"}
    references: ClassVar[Mapping[str, str]] = {
        "network": "network",
        "security_groups": "security_group",
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name", "ip_address", "mac_address")
    ignorable: ClassVar[Mapping[str, str]] = {
        **{f: f for f in (*_FIELDS, "fixed_ips", "allowed_address_pairs", "tags")},
        "network": "network_id",
        "security_groups": "security_group_ids",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        **{
            f: Effect.UPDATE
            for f in (*_FIELDS, "fixed_ips", "security_group_ids", "allowed_address_pairs")
        },
        "tags": Effect.UPDATE,
        "network_id": Effect.REPLACE,
    }
    cloud_chosen: ClassVar[frozenset[str]] = frozenset(
        {"fixed_ips", "security_group_ids", "port_security_enabled"}
    )
    reported: ClassVar[tuple[str, ...]] = ("ip_address", "mac_address")
    measures: ClassVar[tuple[Measure, ...]] = (Measure("ports", quota_label="ports"),)

    def expand(self, entry: Entry) -> dict[str, Any]:
        fixed = None
        if entry.has("fixed_ips"):
            fixed = []
            for i, item in enumerate(entry.raw["fixed_ips"] or ()):
                subnet = (
                    entry.ref("subnet", item["subnet"], "fixed_ips", i, "subnet")
                    if "subnet" in item
                    else None
                )
                address = entry.value_at(item.get("ip_address"), "fixed_ips", i, "ip_address")
                fixed.append({"subnet_id": subnet, "ip_address": address})
        groups = entry.refs("security_groups")
        pairs = [
            {"ip_address": p["ip_address"], "mac_address": p.get("mac_address")}
            for p in entry.value("allowed_address_pairs") or ()
        ]
        return {
            "name": entry.cloud_name(),
            "description": entry.value("description", ""),
            "network_id": entry.reference("network"),
            "fixed_ips": fixed,
            "security_group_ids": groups,
            "allowed_address_pairs": pairs,
            "admin_state_up": entry.raw.get("admin_state_up", True),
            "port_security_enabled": entry.raw.get("port_security_enabled"),
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def implied(
        self, resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
    ) -> Iterable[Address]:
        # A port naming only its network (or a fixed IP without its subnet) takes its
        # address from the network's subnets: made before them, it would get none.
        fixed = resource.attrs.get("fixed_ips")
        if isinstance(fixed, list) and fixed and all(f.get("subnet_id") for f in fixed):
            return []
        return subnets_on([resource.attrs.get("network_id")], spec)

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        if field == "fixed_ips" and wanted is not None:
            return fixed_ips_match(wanted, actual or [])
        if field == "security_group_ids" and wanted is not None:
            return sorted(set(wanted)) == sorted(set(actual or ()))
        if field == "allowed_address_pairs":
            # A pair asked without a MAC gets the port's: the address is what is compared.
            return sorted(p["ip_address"] for p in wanted or ()) == sorted(
                p["ip_address"] for p in actual or ()
            )
        return None

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"ports": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(reads, {"ports": "port"})

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[Port]:
        return cloud.network.list_ports(**filters)

    def _observe(self, item: Port, reads: Reads | None) -> ObservedResource:
        attrs = {
            "name": item.name,
            "description": item.description,
            "network_id": item.network_id,
            "fixed_ips": [
                {"subnet_id": f.subnet_id, "ip_address": f.ip_address} for f in item.fixed_ips
            ],
            "security_group_ids": sorted(item.security_group_ids),
            "allowed_address_pairs": [dict(p) for p in item.allowed_address_pairs],
            "admin_state_up": item.admin_state_up,
            "port_security_enabled": item.port_security_enabled,
            "tags": user_tags(item.tags),
            "ip_address": item.fixed_ips[0].ip_address if item.fixed_ips else None,
            "mac_address": item.mac_address,
        }
        return ObservedResource("port", item.id, attrs, item.status, None, marker_of(item.tags))

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> Port:
        return cloud.network.create_port({**_body(attrs), "tags": tags})

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        keys = (*_FIELDS, "fixed_ips", "security_group_ids", "allowed_address_pairs")
        body = _body({k: v for k, v in changed(before, after, keys).items() if v is not None})
        body.pop("network_id", None)
        if "fixed_ips" in body:
            _moving_floating_ips(cloud, resource_id, body)
        elif body:
            cloud.network.update_port(resource_id, body)
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        cloud.network.delete_port(resource_id)


def _moving_floating_ips(cloud: Cloud, port_id: str, body: Mapping[str, Any]) -> None:
    """Change a port's fixed IPs with its floating IPs taken off and put back: Neutron
    refuses to remove a fixed IP a floating IP is on (400). One whose address stays is
    left alone; the others come back on the port's first IPv4 address, as Neutron picks.
    A kill in between leaves a floating IP loose, which the next plan puts back (drift)."""
    network = cloud.network
    kept = {f.get("ip_address") for f in body["fixed_ips"]}
    moved = [
        f for f in network.list_floating_ips(port_id=port_id) if f.fixed_ip_address not in kept
    ]
    for fip in moved:
        network.update_floating_ip(fip.id, {"port_id": None})
    network.update_port(port_id, body)
    for fip in moved:
        network.update_floating_ip(fip.id, {"port_id": port_id})


def fixed_ips_match(
    wanted: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]
) -> bool:
    """Whether the port's fixed IPs are those asked: one each, on the subnet asked and at
    the address asked (any address of the subnet when none was)."""
    left = [dict(a) for a in actual]
    for want in wanted:
        match = next(
            (
                a
                for a in left
                if (want.get("subnet_id") in (None, a.get("subnet_id")))
                and (want.get("ip_address") in (None, a.get("ip_address")))
            ),
            None,
        )
        if match is None:
            return False
        left.remove(match)
    return not left


def _body(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Neutron's port body for the attributes given (None values left out)."""
    body: dict[str, Any] = {
        k: attrs[k] for k in (*_FIELDS, "network_id") if attrs.get(k) is not None
    }
    if attrs.get("fixed_ips") is not None:
        body["fixed_ips"] = [
            {k: v for k, v in f.items() if v is not None} for f in attrs["fixed_ips"]
        ]
    if attrs.get("security_group_ids") is not None:
        body["security_groups"] = list(attrs["security_group_ids"])
    if attrs.get("allowed_address_pairs") is not None:
        body["allowed_address_pairs"] = [
            {k: v for k, v in p.items() if v is not None} for p in attrs["allowed_address_pairs"]
        ]
    return body
