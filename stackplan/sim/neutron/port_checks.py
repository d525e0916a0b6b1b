"""The checks ML2 makes on a port's body: policy on its attributes, device owner,
fixed IPs against the network's subnets, security groups, MAC and address pairs
(`neutron/db/db_base_plugin_v2.py`, `ipam_backend_mixin.py`, `plugins/ml2/plugin.py`)."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from stackplan.sim.neutron import checks, ipam, security_groups, store, subnets
from stackplan.sim.neutron.common import (
    STANDARD_READ_ONLY,
    Attr,
    AttrMap,
    Caller,
    NeutronError,
    conflict,
    explicitly_set,
    invalid_input,
    policy_denied,
    read_only,
    rule,
)
from stackplan.sim.options import Context

TABLE = "neutron_ports"
ROUTER_INTERFACE = "network:router_interface"
VNIC_TYPES = (  # neutron_lib.api.definitions.portbindings.VNIC_TYPES
    "normal",
    "direct",
    "macvtap",
    "baremetal",
    "direct-physical",
    "virtio-forwarder",
    "smart-nic",
    "vdpa",
    "accelerator-direct",
    "accelerator-direct-physical",
    "remote-managed",
)


def _pairs(data: Any) -> str | None:
    if not isinstance(data, list):
        raise NeutronError(400, "HTTPBadRequest", "Allowed address pairs must be a list.")
    if len(data) > 10:  # max_allowed_address_pair
        raise bad_request_pairs()
    seen: set[tuple[Any, Any]] = set()
    for pair in data:
        if not isinstance(pair, dict):
            return f"'{pair}' is not a dictionary"
        if "mac_address" in pair:
            reason = checks.mac_address(pair["mac_address"])
            if reason:
                raise NeutronError(400, "HTTPBadRequest", reason)
        if "ip_address" not in pair:
            raise NeutronError(
                400, "AllowedAddressPairsMissingIP", "AllowedAddressPair must contain ip_address"
            )
        key = (pair.get("mac_address"), pair["ip_address"])
        if key in seen:
            raise invalid_input(
                f"Request contains duplicate address pair: mac_address {key[0]} "
                f"ip_address {key[1]}",
                "DuplicateAddressPairInRequest",
            )
        seen.add(key)
        extra = set(pair) - {"mac_address", "ip_address"}
        if extra:
            raise NeutronError(
                400, "HTTPBadRequest", f"Unrecognized attribute(s) '{', '.join(extra)}'"
            )
        reason = checks.ip_address(pair["ip_address"]) and checks.subnet_or_none(pair["ip_address"])
        if reason:
            return (
                f"'{pair['ip_address']}' is neither a valid IP address, nor is it a valid IP subnet"
            )
    return None


def bad_request_pairs() -> NeutronError:
    return NeutronError(
        400,
        "AllowedAddressPairExhausted",
        "The number of allowed address pair exceeds the maximum 10.",
    )


SPEC: AttrMap = {
    **read_only("id"),
    "name": Attr(default="", validate=checks.name_string()),
    "network_id": Attr(put=False, required=True, validate=checks.uuid_check),
    "admin_state_up": Attr(default=True, convert=checks.to_bool),
    "mac_address": Attr(convert=checks.sanitized_mac, validate=checks.mac_address),
    "fixed_ips": Attr(validate=checks.fixed_ips),
    "device_id": Attr(default="", validate=checks.string(255)),
    "device_owner": Attr(default="", validate=checks.string(255)),
    "security_groups": Attr(convert=checks.none_to_list, validate=checks.uuid_list),
    "port_security_enabled": Attr(convert=checks.to_bool),
    "allowed_address_pairs": Attr(convert=checks.none_to_list, validate=_pairs),
    "description": Attr(default="", validate=checks.string(255)),
    "tags": Attr(put=False, default=[], validate=checks.unique_strings(255)),
    # binding: members may choose the vNIC type of their ports (the rest is admin's)
    "binding:vnic_type": Attr(default="normal", validate=checks.values(VNIC_TYPES)),
    # extra_dhcp_opt: shown (empty), writes not served
    **read_only("status", "extra_dhcp_opts"),
    **STANDARD_READ_ONLY,
}
# In the order Neutron's rule names them: the core attributes, then the extensions' in
# the order Neutron loads them (allowedaddresspairs, portbindings, portsecurity).
ENFORCED = (
    "mac_address",
    "fixed_ips",
    "device_id",
    "device_owner",
    "allowed_address_pairs",
    "binding:vnic_type",
    "port_security_enabled",
)


def trusted(device_owner: str) -> bool:
    return device_owner.startswith("network:")


# -- checks shared by create and update -------------------------------------------------


def policy(action: str, p: dict[str, Any], who: Caller, net: sqlite3.Row, creating: bool) -> None:
    if who.admin:
        return
    net_owner = net["project_id"] == who.project_id
    present = [n for n in ENFORCED if (explicitly_set(p, SPEC, n) if creating else n in p)]
    # update_port:mac_address is admin (or project manager) only
    denied = not creating and "mac_address" in present
    for name in present:
        value = p[name]
        if name == "fixed_ips":
            keys = {k for f in value if isinstance(f, dict) for k in f}
            denied |= not net_owner and ("ip_address" in keys or not net["shared"])
        elif name == "device_owner":
            denied |= trusted(value) and not net_owner
        elif name in ("mac_address", "port_security_enabled", "allowed_address_pairs"):
            denied |= not net_owner
    if denied:
        raise denial(action, p, present)


def denial(action: str, p: dict[str, Any], present: list[str]) -> NeutronError:
    """The 403 naming each policy-enforced attribute the body set (with the keys of its
    fixed IPs or address pairs, as sub-rules)."""
    parts = []
    for name in present:
        subs: list[str] = []
        if name in ("fixed_ips", "allowed_address_pairs"):
            subs = [k for f in p[name] if isinstance(f, dict) for k in f]
        parts.append((name, subs))
    return policy_denied(rule(action, parts))


def device_check(
    conn: sqlite3.Connection, who: Caller, owner: str, device_id: str, project: str
) -> None:
    """Neutron's `_enforce_device_owner_not_router_intf_or_device_id`."""
    if owner != ROUTER_INTERFACE or who.admin or not device_id:
        return
    router = store.get(conn, "neutron_routers", device_id)
    if router is not None and router["project_id"] != project:
        raise conflict(
            "DeviceIDNotOwnedByTenant",
            f"The following device_id {device_id} is not owned by your project or matches "
            "another project router.",
        )


def subnet_for(
    conn: sqlite3.Connection, net: sqlite3.Row, fixed: dict[str, Any], owner: str
) -> sqlite3.Row:
    """Neutron's `_get_subnet_for_fixed_ip`."""
    candidates = subnets.of_network(conn, net["id"])
    if not candidates:
        raise invalid_input("IP allocation requires subnets for network")
    if "subnet_id" in fixed:
        subnet = next((s for s in candidates if s["id"] == fixed["subnet_id"]), None)
        if subnet is None:
            if store.get(conn, subnets.TABLE, fixed["subnet_id"]) is None:
                raise subnets.subnet_not_found(fixed["subnet_id"])
            raise invalid_input(
                f"Failed to create port on network {net['id']}, because fixed_ips included "
                f"invalid subnet {fixed['subnet_id']}"
            )
        if "ip_address" in fixed and not ipam.check_subnet_ip(
            subnet["cidr"], fixed["ip_address"], owner
        ):
            raise NeutronError(
                400,
                "InvalidIpForSubnet",
                f"IP address {fixed['ip_address']} is not a valid IP for the specified subnet.",
            )
        return subnet
    if "ip_address" not in fixed:
        raise invalid_input("IP allocation requires subnet_id or ip_address")
    for subnet in candidates:
        if ipam.check_subnet_ip(subnet["cidr"], fixed["ip_address"], owner):
            return subnet
    raise NeutronError(
        400,
        "InvalidIpForNetwork",
        f"IP address {fixed['ip_address']} is not a valid IP for any of the subnets on the "
        "specified network.",
    )


def allocate(
    ctx: Context,
    conn: sqlite3.Connection,
    port_id: str,
    net: sqlite3.Row,
    requests: list[tuple[sqlite3.Row, str | None]],
) -> None:
    """Store the requested addresses (specific ones first, as Neutron orders them)."""
    for subnet, ip in sorted(requests, key=lambda r: r[1] is None):
        if ip is None:
            ip = ipam.pick(conn, subnet, ctx.rng)
            if ip is None:
                raise conflict(
                    "IpAddressGenerationFailure",
                    f"No more IP addresses available for subnet {subnet['id']}.",
                )
        ipam.store(conn, port_id, subnet, ip)


def auto_ips(ctx: Context, conn: sqlite3.Connection, port_id: str, net: sqlite3.Row) -> None:
    """No fixed_ips asked: one address from the IPv4 subnets, one from the IPv6 ones."""
    for version in (4, 6):
        candidates = [s for s in subnets.of_network(conn, net["id"]) if s["ip_version"] == version]
        if not candidates:
            continue
        for subnet in candidates:
            ip = ipam.pick(conn, subnet, ctx.rng)
            if ip is not None:
                ipam.store(conn, port_id, subnet, ip)
                break
        else:
            raise conflict(
                "IpAddressGenerationFailure",
                f"No more IP addresses available on network {net['id']}.",
            )


def check_groups(conn: sqlite3.Connection, who: Caller, project: str, wanted: list[str]) -> None:
    missing = []
    for group_id in wanted:
        group = store.get(conn, security_groups.TABLE, group_id)
        if group is None or not (who.admin or group["project_id"] == project):
            missing.append(group_id)
    if missing:
        raise security_groups.group_not_found(", ".join(missing))


def bind_groups(conn: sqlite3.Connection, port_id: str, wanted: list[str]) -> None:
    conn.execute("DELETE FROM neutron_port_groups WHERE port_id = ?", (port_id,))
    conn.executemany(
        "INSERT OR IGNORE INTO neutron_port_groups (port_id, group_id) VALUES (?, ?)",
        [(port_id, g) for g in wanted],
    )


def new_mac(ctx: Context, conn: sqlite3.Connection, network_id: str) -> str:
    while True:
        mac = "fa:16:3e:" + ":".join(f"{ctx.rng.randrange(256):02x}" for _ in range(3))
        if not mac_in_use(conn, network_id, mac):
            return mac


def mac_in_use(conn: sqlite3.Connection, network_id: str, mac: str) -> bool:
    found = conn.execute(
        f"SELECT 1 FROM {TABLE} WHERE network_id = ? AND mac_address = ?",
        (network_id, mac),
    ).fetchone()
    return found is not None


def no_pairs_without_security() -> NeutronError:
    return conflict(
        "AddressPairAndPortSecurityRequired",
        "Port Security must be enabled in order to have allowed address pairs on a port.",
    )


def no_groups_without_security() -> NeutronError:
    return NeutronError(
        400,
        "PortSecurityAndIPRequiredForSecurityGroups",
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.",
    )


def stored_pairs(pairs: list[dict[str, Any]], mac: str) -> str:
    return json.dumps(
        [{"ip_address": p["ip_address"], "mac_address": p.get("mac_address", mac)} for p in pairs]
    )
