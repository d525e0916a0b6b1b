"""Neutron's attribute validators and converters (`neutron_lib/api/validators`,
`neutron_lib/api/converters`), with their messages. A validator returns the reason text
(the API wraps it in "Invalid input for X. Reason: ..."), a converter raises."""

from __future__ import annotations

import ipaddress
import re
import uuid
from collections.abc import Callable
from typing import Any

from stackplan.sim.neutron.common import invalid_input

Validator = Callable[[Any], str | None]

# -- converters ------------------------------------------------------------------------

_TRUE = {"1", "t", "true", "on", "y", "yes"}
_FALSE = {"0", "f", "false", "off", "n", "no"}


def to_bool(data: Any) -> bool:
    if isinstance(data, bool):
        return data
    text = str(data).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise invalid_input(f"'{data}' cannot be converted to boolean")


def to_int(data: Any) -> int:
    try:
        return int(data)
    except (ValueError, TypeError):
        raise invalid_input(f"'{data}' is not an integer") from None


def canonical_ip(value: Any) -> Any:
    """IPv6 in compact form; anything else unchanged (validation reports it)."""
    try:
        ip = ipaddress.ip_address(value)
    except (ValueError, TypeError):
        return value
    return str(ip) if ip.version == 6 else value


def canonical_cidr(value: Any) -> str:
    try:
        iface = ipaddress.ip_interface(value)
    except (ValueError, TypeError):
        raise invalid_input(f"{value} is not in a CIDR format") from None
    return f"{iface.ip}/{iface.network.prefixlen}"


def canonical_pools(value: Any) -> Any:
    if value is None:
        return []
    try:
        return [{k: canonical_ip(v) for k, v in pool.items()} for pool in value]
    except (AttributeError, TypeError):
        raise invalid_input("Invalid data format for allocation pools") from None


def none_to_list(value: Any) -> Any:
    return [] if value is None else value


def sanitized_mac(value: Any) -> Any:
    if isinstance(value, str) and _MAC.match(value):
        parts = re.split("[-:]", value) if len(value) == 17 else re.findall("..", value)
        return ":".join(p.lower() for p in parts)
    return value


def kvp_list(values: list[str]) -> dict[str, list[str]]:
    """`["subnet_id=x", "ip_address=y"]` -> {"subnet_id": ["x"], ...} (filters)."""
    if values == ["True"]:
        return {}
    found: dict[str, list[str]] = {}
    for text in values:
        key, sep, value = (x.strip() for x in text.partition("="))
        if not sep or not key:
            raise invalid_input(f"'{text}' is not of the form <key>=[value]")
        found.setdefault(key, [])
        if value not in found[key]:
            found[key].append(value)
    return found


# -- validators ------------------------------------------------------------------------

_MAC = re.compile(r"^([0-9a-fA-F]{2}([-:])[0-9a-fA-F]{2}(\2[0-9a-fA-F]{2}){4}|[0-9a-fA-F]{12})$")


def string(max_len: int | None = None) -> Validator:
    def check(data: Any) -> str | None:
        if not isinstance(data, str):
            return f"'{data}' is not a valid string"
        if max_len is not None and len(data) > max_len:
            return f"'{data}' exceeds maximum length of {max_len}"
        return None

    return check


def name_string(max_len: int = 255) -> Validator:
    base = string(max_len)

    def check(data: Any) -> str | None:
        reason = base(data)
        if reason:
            return reason
        printable = all(c.isprintable() or c in " \t" for c in data)
        if not printable or (data and (data[0].isspace() or data[-1].isspace())):
            return f"'{data}' is not a valid string"
        return None

    return check


def is_uuid_like(data: Any) -> bool:
    try:
        norm = str(uuid.UUID(str(data))).replace("-", "")
    except (ValueError, TypeError, AttributeError):
        return False
    text = str(data).lower().replace("urn:", "").replace("uuid:", "")
    return norm == text.strip("{}").replace("-", "")


def uuid_check(data: Any) -> str | None:
    return None if is_uuid_like(data) else f"'{data}' is not a valid UUID"


def uuid_or_none(data: Any) -> str | None:
    return None if data is None else uuid_check(data)


def _list_of(item: Validator) -> Validator:
    def check(data: Any) -> str | None:
        if not isinstance(data, list):
            return f"'{data}' is not a list"
        dups: list[Any] = []
        seen: list[Any] = []
        for d in data:
            if d in seen and d not in dups:
                dups.append(d)
            seen.append(d)
        if dups:
            return f"Duplicate items in the list: '{', '.join(str(d) for d in dups)}'"
        for d in data:
            reason = item(d)
            if reason:
                return reason
        return None

    return check


uuid_list = _list_of(uuid_check)


def unique_strings(max_len: int | None = None) -> Validator:
    return _list_of(string(max_len))


def values(valid: list[Any] | tuple[Any, ...]) -> Validator:
    def check(data: Any) -> str | None:
        return None if data in valid else f"{data} is not in valid_values"

    return check


def non_negative(data: Any) -> str | None:
    try:
        number = int(data)
    except (ValueError, TypeError):
        return f"'{data}' is not an integer"
    return f"'{data}' should be non-negative" if number < 0 else None


def ip_address(data: Any) -> str | None:
    if not isinstance(data, str) or data != data.strip() or " " in data:
        return f"'{data}' is not a valid IP address"
    parts = data.split(".")
    if ":" not in data and len(parts) == 4 and all(p.isdigit() for p in parts):
        recommended = ".".join(str(int(p)) for p in parts)
        if recommended != data and all(int(p) < 256 for p in parts):
            return f"'{data}' is not an accepted IP address, '{recommended}' is recommended"
    try:
        ipaddress.ip_address(data)
    except ValueError:
        return f"'{data}' is not a valid IP address"
    if ":" not in data and data.count(".") != 3:
        return f"'{data}' is not a valid IP address"
    return None


def ip_or_none(data: Any) -> str | None:
    return None if data is None else ip_address(data)


def subnet_or_none(data: Any) -> str | None:
    if data is None:
        return None
    try:
        net = ipaddress.ip_interface(data)
    except (ValueError, TypeError):
        return f"'{data}' is not a valid IP subnet"
    if "/" not in str(data) or (net.version == 4 and str(net) != data):
        return f"'{data}' is not a valid IP subnet"
    return None


def _dict_keys(expected: list[str], target: Any, strict: bool = True) -> str | None:
    if not isinstance(target, dict):
        return f"Invalid input. '{target}' must be a dictionary with keys: {expected}"
    want, have = set(expected), set(target)
    if (want != have) if strict else not want.issubset(have):
        return (
            f"Validation of dictionary's keys failed. Expected keys: {want} Provided keys: {have}"
        )
    return None


def ip_pools(data: Any) -> str | None:
    if not isinstance(data, list):
        return f"Invalid data format for IP pool: '{data}'"
    for pool in data:
        reason = _dict_keys(["start", "end"], pool)
        if reason:
            return reason
        for key in ("start", "end"):
            reason = ip_address(pool[key])
            if reason:
                return reason
    return None


def nameservers(data: Any) -> str | None:
    if not isinstance(data, list | tuple):
        return f"Invalid data format for nameserver: '{data}'"
    seen: list[Any] = []
    for host in data:
        reason = ip_address(host)
        if reason:
            return f"'{host}' is not a valid nameserver. {reason}"
        if host in seen:
            return f"Duplicate nameserver '{host}'"
        seen.append(host)
    return None


def route_cidr(data: Any) -> str | None:
    try:
        net = ipaddress.ip_interface(data)
    except (ValueError, TypeError):
        return f"'{data}' is not a valid CIDR"
    if "/" not in str(data) or net.ip != net.network.network_address:
        return f"'{data}' is not a valid CIDR"
    if net.network.is_loopback:
        return f"'{data}' is not a routable CIDR"
    return None


def hostroutes(data: Any) -> str | None:
    if not isinstance(data, list):
        return f"Invalid data format for hostroute: '{data}'"
    seen: list[Any] = []
    for route in data:
        reason = _dict_keys(["destination", "nexthop"], route)
        reason = reason or route_cidr(route["destination"]) or ip_address(route["nexthop"])
        if reason:
            return reason
        if route in seen:
            return f"Duplicate hostroute '{route}'"
        seen.append(route)
    return None


def fixed_ips(data: Any) -> str | None:
    if not isinstance(data, list):
        return f"Invalid data format for fixed IP: '{data}'"
    seen: list[str] = []
    for fixed in data:
        if not isinstance(fixed, dict):
            return f"Invalid data format for fixed IP: '{fixed}'"
        if "ip_address" in fixed:
            address = fixed["ip_address"]
            reason = f"Duplicate IP address '{address}'" if address in seen else None
            reason = reason or ip_address(address)
            if reason:
                return reason
            seen.append(address)
        if "subnet_id" in fixed:
            reason = uuid_check(fixed["subnet_id"])
            if reason:
                return reason
    return None


def mac_address(data: Any) -> str | None:
    ok = isinstance(data, str) and bool(_MAC.match(data))
    if ok and sanitized_mac(data) in ("00:00:00:00:00:00", "ff:ff:ff:ff:ff:ff"):
        ok = False
    return None if ok else f"'{data}' is not a valid MAC address"


def gateway_info(data: Any) -> str | None:
    """`type:dict_or_nodata` with l3's and ext-gw-mode's keys (converts in place)."""
    if not data:
        return None
    if not isinstance(data, dict):
        return f"'{data}' is not a dictionary"
    if "network_id" not in data:
        return _dict_keys(["network_id"], data, strict=False)
    unexpected = [k for k in data if k not in ("network_id", "external_fixed_ips", "enable_snat")]
    if unexpected:
        return f"Unexpected keys supplied: {', '.join(unexpected)}"
    reason = uuid_check(data["network_id"])
    if not reason and "external_fixed_ips" in data:
        reason = fixed_ips(data["external_fixed_ips"])
    if not reason and "enable_snat" in data:
        data["enable_snat"] = to_bool(data["enable_snat"])
    return reason
