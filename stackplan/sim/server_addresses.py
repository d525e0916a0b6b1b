"""What Nova shows of a server's networking, read from Neutron for a whole page of
servers at once: `addresses` from its cached ports (`api/openstack/common.py`
`get_networks_for_instance`, `views/ips.py`), and `security_groups` from every port
bound to it (`security_group_api.get_instances_security_groups_bindings`)."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from stackplan.sim import nova_ports
from stackplan.sim.neutron import lookups
from stackplan.sim.neutron.common import Caller


@dataclass(frozen=True, slots=True)
class Address:
    network: str  # the network's name: Nova's label for it
    addr: str
    version: int
    kind: str  # fixed | floating
    mac: str


@dataclass(frozen=True, slots=True)
class Networking:
    """One server's addresses, in port order, and its groups' names, one per port."""

    addresses: tuple[Address, ...] = ()
    security_groups: tuple[str, ...] = ()

    def rendered(self, extended: bool = True) -> dict[str, list[dict[str, Any]]]:
        """By network name: every fixed address of its ports, then the floating ones."""
        found: dict[str, list[dict[str, Any]]] = {}
        for kind in ("fixed", "floating"):
            for a in self.addresses:
                entries = found.setdefault(a.network, [])
                if a.kind != kind:
                    continue
                entry: dict[str, Any] = {"version": a.version, "addr": a.addr}
                if extended:
                    entry.update({"OS-EXT-IPS:type": a.kind, "OS-EXT-IPS-MAC:mac_addr": a.mac})
                entries.append(entry)
        return found


def _version(ip: str) -> int:
    # Neutron stored it valid: only IPv6 has colons (parsing each cost a listing ~10%).
    return 6 if ":" in ip else 4


def of_servers(
    conn: sqlite3.Connection, who: Caller, server_ids: list[str]
) -> dict[str, Networking]:
    """Each server's networking as `who` sees it; a fixed number of queries."""
    if not server_ids:
        return {}
    bound = lookups.ports_of_devices(conn, server_ids)
    cache = nova_ports.cached(conn, server_ids)
    all_ports = [p for ps in bound.values() for p in ps]
    names = lookups.network_names(conn, {p["network_id"] for p in all_ports})
    floating = lookups.floating_ips_on_ports(conn, [p["id"] for p in all_ports])
    groups = lookups.group_names(conn, who, {g for p in all_ports for g in p["security_groups"]})
    found: dict[str, Networking] = {}
    for server_id in server_ids:
        ports_now = {p["id"]: p for p in bound.get(server_id, [])}
        addresses: list[Address] = []
        for entry in cache.get(server_id, []):
            port = ports_now.get(entry["port_id"])
            if port is None:  # deleted or unbound behind Nova's back: gone from its cache
                continue
            label = names.get(port["network_id"], "")
            mac = port["mac_address"]
            for ip in port["fixed_ips"]:
                addr = ip["ip_address"]
                addresses.append(Address(label, addr, _version(addr), "fixed", mac))
            for fip in floating.get(port["id"], []):
                addr = fip["floating_ip_address"]
                addresses.append(Address(label, addr, _version(addr), "floating", mac))
        # Nova lists a group once per port that has it; a nameless one by its id.
        shown = tuple(
            groups[g] or g
            for p in bound.get(server_id, [])
            for g in p["security_groups"]
            if g in groups
        )
        found[server_id] = Networking(tuple(addresses), shown)
    return found


def of_server(conn: sqlite3.Connection, who: Caller, server_id: str) -> Networking:
    return of_servers(conn, who, [server_id]).get(server_id, Networking())
