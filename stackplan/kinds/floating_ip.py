"""The floating IP kind: an address from an external network, on a port of the spec or
on a server. Its network replaces it; the association moves in place and the address
survives the move.

Desired attributes: floating_network_id, association (None; {"port_id", "fixed_ip"};
or {"server_id", "fixed_ip"}: the server's port on a network the external one routes
to), description, tags. The cloud reports the address (`${floating_ip.F.address}`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from stackplan.kinds.base import Await, Effect, Limit, Measure, ObservedResource, Reads
from stackplan.kinds.network import TAGS_SCHEMA
from stackplan.kinds.neutron import NeutronKind, all_ports, marker_of, neutron_limits, user_tags
from stackplan.spec.expand import same_target

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import FloatingIp
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource


class FloatingIpKind(NeutronKind):
    name: ClassVar[str] = "floating_ip"
    section: ClassVar[str] = "floating_ips"
    noun: ClassVar[str] = "floating IP"
    client_kind: ClassVar[str] = "floatingip"
    schema: ClassVar[Mapping[str, Any]] = {
        "type": "object",
        "required": ["network"],
        "properties": {
            "network": {"$ref": "#/$defs/ref"},
            "port": {"$ref": "#/$defs/ref"},
            "server": {"$ref": "#/$defs/ref"},
            "fixed_ip": {"type": "string"},
            "description": {"type": "string", "maxLength": 255},
            "tags": TAGS_SCHEMA,
        },
        "not": {"required": ["port", "server"]},
        "x-messages": {"not": "give port or server, not both"},
    }
    example: ClassVar[Mapping[str, Any]] = {"network": "public"}
    references: ClassVar[Mapping[str, str]] = {
        "network": "network",
        "port": "port",
        "server": "server",
    }
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "address")
    ignorable: ClassVar[Mapping[str, str]] = {
        "network": "floating_network_id",
        "port": "association",
        "server": "association",
        "fixed_ip": "association",
        "description": "description",
        "tags": "tags",
    }
    effects: ClassVar[Mapping[str, Effect]] = {
        "floating_network_id": Effect.REPLACE,
        "association": Effect.UPDATE,
        "description": Effect.UPDATE,
        "tags": Effect.UPDATE,
    }
    reported: ClassVar[tuple[str, ...]] = ("address",)
    measures: ClassVar[tuple[Measure, ...]] = (Measure("floating_ips", quota_label="floating IPs"),)

    def expand(self, entry: Entry) -> dict[str, Any]:
        association = None
        if entry.has("port"):
            association = {"port_id": entry.reference("port"), "fixed_ip": entry.value("fixed_ip")}
        elif entry.has("server"):
            association = {
                "server_id": entry.reference("server"),
                "fixed_ip": entry.value("fixed_ip"),
            }
        elif entry.has("fixed_ip"):
            entry.problem("fixed_ip", "fixed_ip goes with port or server")
        return {
            "name": None,  # floating IPs have no name
            "floating_network_id": entry.reference("network"),
            "association": association,
            "description": entry.value("description", ""),
            "tags": sorted(set(entry.value("tags") or ())),
        }

    def implied(
        self, resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
    ) -> Iterable[Address]:
        # An address on a port needs the router that routes its network to the external
        # one (Neutron: 404 ExternalGatewayForFloatingIPNotFound): created after it, and
        # deleted before it (a router interface a floating IP needs cannot go).
        network = resource.attrs.get("floating_network_id")
        return [
            r.address
            for r in spec.get("router", ())
            if same_target(r.attrs.get("external_network_id"), network)
        ]

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        if field != "association":
            return None
        if not wanted or not actual:
            return not wanted and not actual
        key = "port_id" if "port_id" in wanted else "server_id"
        if wanted.get(key) != actual.get(key):
            return False
        return wanted.get("fixed_ip") in (None, actual.get("fixed_ip"))

    def usage(self, attrs: Mapping[str, Any]) -> dict[str, int]:
        return {"floating_ips": 1}

    def limits(self, reads: Reads) -> dict[str, Limit]:
        return neutron_limits(reads, {"floating_ips": "floatingip"})

    def _list(self, cloud: Cloud, **filters: Any) -> Sequence[FloatingIp]:
        filters.pop("name", None)  # they have none
        return cloud.network.list_floating_ips(**filters)

    def _alike_filters(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        # Floating IPs have no name: two made at once on one network are told apart by
        # the port they were made on (the intent keeps it flat, the spec in `association`).
        filters = {"floating_network_id": attrs.get("floating_network_id")}
        port = attrs.get("port_id") or (attrs.get("association") or {}).get("port_id")
        return {**filters, "port_id": port} if port else filters

    def prepared(self, cloud: Cloud, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        association = attrs.get("association")
        if association and not association.get("port_id"):
            # On a server: the port it goes on, found now, tells this create from another
            # (the intent keeps it) and is the one the create names.
            port = _port_of(cloud, association)["port_id"]
            return {**attrs, "association": {**association, "port_id": port}}
        return attrs

    def _observe(self, item: FloatingIp, reads: Reads | None) -> ObservedResource:
        association = None
        if item.port_id:
            association = {"port_id": item.port_id, "fixed_ip": item.fixed_ip_address}
            if reads is not None:
                port = next((p for p in all_ports(reads) if p.id == item.port_id), None)
                if port is not None and port.device_owner.startswith("compute:"):
                    association["server_id"] = port.device_id
        attrs = {
            "floating_network_id": item.floating_network_id,
            "association": association,
            "description": item.description,
            "tags": user_tags(item.tags),
            "address": item.floating_ip_address,
        }
        return ObservedResource(
            "floating_ip", item.id, attrs, item.status, None, marker_of(item.tags)
        )

    def _create(self, cloud: Cloud, attrs: Mapping[str, Any], tags: list[str]) -> FloatingIp:
        body: dict[str, Any] = {
            "floating_network_id": attrs["floating_network_id"],
            "description": attrs.get("description") or "",
            **_port_of(cloud, attrs.get("association")),
        }
        return cloud.network.create_floating_ip(body)

    def update(
        self, cloud: Cloud, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        body: dict[str, Any] = {}
        if not self.same("association", after.get("association"), before.get("association")):
            body = _port_of(cloud, after.get("association")) or {"port_id": None}
        if after.get("description") != before.get("description"):
            body["description"] = after.get("description") or ""
        if body:
            cloud.network.update_floating_ip(resource_id, body)
        self.set_user_tags(cloud, resource_id, before, after)
        return None

    def _delete(self, cloud: Cloud, resource_id: str) -> None:
        cloud.network.delete_floating_ip(resource_id)


def _port_of(cloud: Cloud, association: Mapping[str, Any] | None) -> dict[str, Any]:
    """The port (and fixed IP) an association puts the address on; {} for none."""
    if not association:
        return {}
    fixed = association.get("fixed_ip")
    if association.get("port_id"):
        port_id = association["port_id"]
    else:
        ports = cloud.network.list_ports(device_id=association["server_id"])
        chosen = [p for p in ports if any(fixed in (None, f.ip_address) for f in p.fixed_ips)]
        if not chosen:
            from stackplan.errors import CloudError

            raise CloudError(
                f"server {association['server_id']} has no port"
                + (f" with the fixed IP {fixed}" if fixed else ""),
                hint="give the floating IP a port: of the spec, or the server's",
            )
        port_id = chosen[0].id
    return {"port_id": port_id, **({"fixed_ip_address": fixed} if fixed else {})}
