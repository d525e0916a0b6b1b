"""A server's interfaces and the security groups on them: the spec's `networks:` entries,
what Neutron's ports say the server has, and the attach / detach that moves one to the
other on the running server.

Desired `networks`: None (the spec says nothing: Nova's choice, sent as "auto"), "auto",
"none", or entries in NIC order, each {"network_id", "fixed_ip"} (a port Nova makes) or
{"port_id"} (a port of the spec's or the cloud's). Observed: one entry per port bound to
the server, {"port_id", "network_id", "fixed_ips"}. Desired `security_groups`: group IDs,
put on the ports Nova makes for the server; a `{port:}` entry's port carries its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from stackplan.kinds.subnet import subnets_on
from stackplan.spec.expand import target_key

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.cloud import Cloud
    from stackplan.cloud.network_model import Network, Port
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource

WORDS = ("auto", "none")  # Nova's (2.37): any one network it finds, or no interface at all
_NIC: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "network": {"$ref": "#/$defs/ref"},
        "fixed_ip": {"type": "string", "minLength": 1},
        "port": {"$ref": "#/$defs/ref"},
    },
    "oneOf": [{"required": ["network"]}, {"required": ["port"]}],
    "not": {"required": ["port", "fixed_ip"]},
    "x-messages": {
        "oneOf": "an entry is {network: N} (with fixed_ip: if wanted) or {port: P}",
        "not": "fixed_ip goes with network; a port has its own fixed IPs",
    },
}
SCHEMA: Mapping[str, Any] = {
    "type": ["array", "string"],
    "items": _NIC,
    "if": {"type": "string"},
    "then": {"enum": list(WORDS)},
    "x-messages": {"type": "must be a list of {network: N} / {port: P} entries, or auto or none"},
}
COMPUTE_OWNER = "compute:"  # Neutron's device_owner of a port bound to a server


def expand(entry: Entry) -> Any:
    """The desired `networks` of one server (see the module's docstring)."""
    if not entry.has("networks"):
        return None
    raw = entry.raw["networks"]
    if isinstance(raw, str):
        return entry.value("networks")
    nics: list[dict[str, Any]] = []
    for i, item in enumerate(raw or ()):
        if "port" in item:
            nics.append({"port_id": entry.ref("port", item["port"], "networks", i, "port")})
        else:
            network = entry.ref("network", item["network"], "networks", i, "network")
            fixed = entry.value_at(item.get("fixed_ip"), "networks", i, "fixed_ip")
            nics.append({"network_id": network, "fixed_ip": fixed})
    lifecycle = entry.raw.get("lifecycle") or {}
    if lifecycle.get("create_before_destroy") and any("port_id" in n for n in nics):
        entry.problem(
            "networks",
            "a port is on one server at a time: a server on a {port:} entry cannot be "
            "replaced create-before-destroy (the new one would need the port the old one "
            "holds); drop create_before_destroy, or use a {network:} entry",
        )
    if entry.has("security_groups") and any("port_id" in n for n in nics):
        entry.problem(
            "security_groups",
            "a server's security_groups go on the ports Nova makes for it ({network:} "
            "entries); a {port:} entry's port keeps its own, which win: set the groups on "
            "the port, or leave security_groups out here",
        )
    return nics


def groups(entry: Entry) -> list[Any] | None:
    """The desired `security_groups`: references, in the spec's order, once each."""
    found = entry.refs("security_groups")
    if found is None:
        return None
    unique: dict[str, Any] = {}
    for group in found:
        unique.setdefault(target_key(group), group)
    return list(unique.values())


def implied(
    resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
) -> list[Address]:
    """The spec's subnets of the networks the server's entries name: a port Nova makes gets
    its address from them, so they come first (and go after the server)."""
    nets = resource.attrs.get("networks")
    if not isinstance(nets, list):
        return []
    wanted = [n.get("network_id") for n in nets if n.get("network_id")]
    return subnets_on(wanted, spec)


# -- comparing --------------------------------------------------------------------------


def networks_match(wanted: Any, actual: Any) -> bool:
    """Whether the server's interfaces (`actual`: observed entries, or the state's desired
    ones) are those `wanted` asks for, one each, in any order."""
    if wanted in (None, "auto"):
        return True  # the cloud's choice, whatever it chose
    if wanted == "none":
        return actual in ("none", []) or actual is None
    if not isinstance(actual, list):
        return False
    missing, extra = _unmatched(wanted, [_as_observed(a) for a in actual])
    return not missing and not extra


def groups_match(wanted: Any, actual: Any) -> bool | None:
    if wanted is None:
        return None
    return sorted(set(wanted)) == sorted(set(actual or ()))


def _as_observed(entry: Mapping[str, Any]) -> dict[str, Any]:
    """An entry in the observed shape (the state may hold the desired one)."""
    if "fixed_ips" in entry:
        return dict(entry)
    fixed = [entry["fixed_ip"]] if entry.get("fixed_ip") else []
    return {
        "port_id": entry.get("port_id"),
        "network_id": entry.get("network_id"),
        "fixed_ips": fixed,
    }


def _unmatched(
    wanted: Sequence[Mapping[str, Any]], actual: Sequence[Mapping[str, Any]]
) -> tuple[list[Mapping[str, Any]], list[Mapping[str, Any]]]:
    """The wanted entries no interface satisfies, and the interfaces no entry asks for.
    Ports named by ID are matched first, so a network entry never takes them."""
    left = list(actual)
    missing: list[Mapping[str, Any]] = []
    ordered = sorted(wanted, key=lambda w: 0 if w.get("port_id") else 1)
    for want in ordered:
        match = next((a for a in left if _satisfies(want, a, wanted)), None)
        if match is None:
            missing.append(want)
        else:
            left.remove(match)
    return missing, left


def _satisfies(
    want: Mapping[str, Any], actual: Mapping[str, Any], wanted: Sequence[Mapping[str, Any]]
) -> bool:
    if want.get("port_id"):
        return actual.get("port_id") == want["port_id"]
    if any(w.get("port_id") and w["port_id"] == actual.get("port_id") for w in wanted):
        return False
    if actual.get("network_id") != want.get("network_id"):
        return False
    return want.get("fixed_ip") in (None, *actual.get("fixed_ips", ()))


# -- reading ----------------------------------------------------------------------------


def by_device(ports: Iterable[Port]) -> dict[str, list[Port]]:
    """The project's server ports by server ID: reading many servers looks each one up."""
    index: dict[str, list[Port]] = {}
    for port in ports:
        if port.device_owner.startswith(COMPUTE_OWNER):
            index.setdefault(port.device_id, []).append(port)
    return index


def observed(ports: Iterable[Port], server_id: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The server's interfaces and the security groups on them (their union), from the
    project's ports."""
    mine = sorted(
        (p for p in ports if p.device_id == server_id and p.device_owner.startswith(COMPUTE_OWNER)),
        key=lambda p: p.id,
    )
    nics = [
        {
            "port_id": p.id,
            "network_id": p.network_id,
            "fixed_ips": [f.ip_address for f in p.fixed_ips],
        }
        for p in mine
    ]
    return nics, sorted({g for p in mine for g in p.security_group_ids})


def ambiguity(networks: Sequence[Network], project_id: str) -> list[Network]:
    """The networks Nova would choose among for a server that names none: the project's
    own and the shared ones (external ones are not offered). More than one, and Nova
    refuses the server: 'Multiple possible networks found'."""
    return [
        n for n in networks if n.shared or (n.project_id in ("", project_id) and not n.external)
    ]


# -- changing ---------------------------------------------------------------------------


def create_form(networks: Any) -> str | tuple[Mapping[str, Any], ...]:
    """What `ServerCreate.networks` takes for the desired value."""
    if networks is None:
        return "auto"
    if isinstance(networks, str):
        return networks
    return tuple(dict(n) for n in networks)


def set_interfaces(cloud: Cloud, server_id: str, wanted: Any) -> None:
    """Detach the interfaces the spec no longer has, then attach those it gained (in that
    order: a fixed IP moved to another entry is free again)."""
    if wanted in (None, "auto"):
        return
    entries = [] if wanted == "none" else list(wanted)
    nics, _ = observed(cloud.network.list_ports(device_id=server_id), server_id)
    missing, extra = _unmatched(entries, nics)
    for nic in extra:
        cloud.compute.detach_interface(server_id, str(nic["port_id"]))
    for want in missing:
        cloud.compute.attach_interface(
            server_id,
            network_id=want.get("network_id"),
            port_id=want.get("port_id"),
            fixed_ip=want.get("fixed_ip"),
        )


def set_groups(cloud: Cloud, server_id: str, wanted: Sequence[str]) -> None:
    """Put the server's groups on every port it has whose groups differ (a port of a
    network without port security takes none)."""
    for port in cloud.network.list_ports(device_id=server_id):
        if port.port_security_enabled is False:
            continue
        if sorted(set(port.security_group_ids)) != sorted(set(wanted)):
            cloud.network.update_port(port.id, {"security_groups": list(wanted)})
