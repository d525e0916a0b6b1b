"""Address management as Neutron's built-in IPAM does it (`neutron/ipam/utils.py`,
`neutron/db/ipam_backend_mixin.py`, `neutron/ipam/drivers/neutrondb_ipam`).

Pools are lists of `{"start", "end"}`; an allocation is a row of
`neutron_ip_allocations` (unique per subnet and address). Without a requested address
Neutron picks at random among the first 1000 free addresses of the pools, so does this.
"""

from __future__ import annotations

import bisect
import ipaddress
import random
import socket
import sqlite3
from functools import lru_cache
from typing import Any

from stackplan.sim.neutron.common import NeutronError, conflict, invalid_input

MAX_WINDOW = 1000  # neutrondb_ipam's MAX_WIN
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def network(cidr: str) -> Network:
    return ipaddress.ip_network(cidr, strict=False)


def address(text: str) -> Address:
    return ipaddress.ip_address(text)


def _range(pool: dict[str, str]) -> str:
    return f"{pool['start']}-{pool['end']}"


def default_gateway(cidr: str) -> str:
    net = network(cidr)
    first = net.network_address
    return str(first if net.version == 6 else first + 1)


def _usable(net: Network) -> tuple[int, int]:
    """First and last address a pool may use (no network, no IPv4 broadcast)."""
    first, last = int(net.network_address), int(net.broadcast_address)
    if net.version == 4:
        return (first + 1, last - 1) if net.prefixlen <= 30 else (first, last)
    return first + 1, last


def generate_pools(cidr: str, gateway_ip: str | None) -> list[dict[str, str]]:
    """The whole usable range, minus the gateway (Neutron's `generate_pools`)."""
    net = network(cidr)
    if net.num_addresses == 1:
        return [{"start": str(net.network_address), "end": str(net.network_address)}]
    first, last = _usable(net)
    ranges = [(first, last)]
    if gateway_ip:
        gw = int(address(gateway_ip))
        ranges = (
            [(a, b) for a, b in ((first, gw - 1), (gw + 1, last)) if a <= b]
            if first <= gw <= last
            else ranges
        )
    factory = ipaddress.IPv4Address if net.version == 4 else ipaddress.IPv6Address
    return [{"start": str(factory(a)), "end": str(factory(b))} for a, b in ranges]


def check_pools(pools: list[dict[str, Any]], cidr: str) -> list[tuple[int, int]]:
    """Neutron's `pools_to_ip_range` + `validate_allocation_pools`: integer ranges."""
    net = network(cidr)
    ranges: list[tuple[int, int, dict[str, Any]]] = []
    for pool in pools:
        try:
            start, end = address(pool["start"]), address(pool["end"])
            if start.version != end.version or start > end:
                raise ValueError
        except (ValueError, KeyError, TypeError):
            raise NeutronError(
                400, "InvalidAllocationPool", f"The allocation pool {pool} is not valid."
            ) from None
        if start.version != net.version:
            raise NeutronError(
                400,
                "InvalidAllocationPool",
                f"The allocation pool {_range(pool)} is not valid.",
            )
        first, last = _usable(net)
        if int(start) < first or int(end) > last:
            raise NeutronError(
                400,
                "OutOfBoundsAllocationPool",
                f"The allocation pool {_range(pool)} spans beyond the subnet cidr {cidr}.",
            )
        ranges.append((int(start), int(end), pool))
    for i, (a1, b1, p1) in enumerate(ranges):
        for a2, b2, p2 in ranges[i + 1 :]:
            if a1 <= b2 and a2 <= b1:
                raise conflict(
                    "OverlappingAllocationPools",
                    f"Found overlapping allocation pools: {_range(p1)} {_range(p2)} "
                    f"for subnet {cidr}.",
                )
    return [(a, b) for a, b, _ in ranges]


def check_gateway_out_of_pools(gateway_ip: str, pools: list[dict[str, str]]) -> None:
    gw = int(address(gateway_ip))
    for pool in pools:
        if int(address(pool["start"])) <= gw <= int(address(pool["end"])):
            raise conflict(
                "GatewayConflictWithAllocationPools",
                f"Gateway ip {gateway_ip} conflicts with allocation pool {_range(pool)}.",
            )


def check_subnet_ip(cidr: str, ip: str, device_owner: str = "") -> bool:
    """Whether `ip` may be a port's address on the subnet (`ipam.utils.check_subnet_ip`)."""
    net, addr = network(cidr), address(ip)
    if addr.version != net.version or addr not in net:
        return False
    if net.version == 4:
        return addr not in (net.network_address, net.broadcast_address)
    router = device_owner.startswith("network:router") or device_owner == ""
    return router or addr != net.network_address


def overlaps(cidr: str, others: list[str]) -> bool:
    net = network(cidr)
    return any(net.overlaps(network(o)) for o in others if network(o).version == net.version)


# Each subnet's allocated addresses, sorted, as of its stamp (schema.py's triggers stamp
# every change anew). Reading them all for each new port made a subnet's 1,000th port
# cost ~0.5 ms; a change this module did not make itself changes the stamp, and one
# rolled back restores the stamp from before, so a stale list is never read as current.
_taken: dict[str, tuple[int, list[int]]] = {}


def allocated(conn: sqlite3.Connection, subnet_id: str) -> list[int]:
    """The subnet's allocated addresses as integers, in ascending order (not to be changed:
    the list may be shared)."""
    stamp = _stamp(conn, subnet_id)
    cached = _taken.get(subnet_id)
    if stamp is not None and cached is not None and cached[0] == stamp:
        return cached[1]
    cur = conn.cursor()
    cur.row_factory = None  # plain tuples
    rows = cur.execute(
        "SELECT ip_address FROM neutron_ip_allocations WHERE subnet_id = ?", (subnet_id,)
    )
    taken = sorted(_as_int(text) for (text,) in rows)
    if stamp is not None:
        _taken[subnet_id] = (stamp, taken)
    return taken


def _stamp(conn: sqlite3.Connection, subnet_id: str) -> int | None:
    row = conn.execute(
        "SELECT stamp FROM neutron_ipam_stamps WHERE subnet_id = ?", (subnet_id,)
    ).fetchone()
    return row[0] if row is not None else None


@lru_cache(maxsize=65536)
def _as_int(text: str) -> int:
    # inet_pton, not ipaddress, and cached: the same addresses are read for every port.
    family = socket.AF_INET6 if ":" in text else socket.AF_INET
    return int.from_bytes(socket.inet_pton(family, text), "big")


def pick(conn: sqlite3.Connection, subnet: sqlite3.Row, rng: random.Random) -> str | None:
    """A free address of the subnet's pools, or None when they are full: at random among
    the first MAX_WINDOW free ones of the first pool that has any."""
    import json

    taken = allocated(conn, subnet["id"])
    factory = ipaddress.IPv4Address if subnet["ip_version"] == 4 else ipaddress.IPv6Address
    for pool in json.loads(subnet["allocation_pools"]):
        start, end = int(address(pool["start"])), int(address(pool["end"]))
        low, high = bisect.bisect_left(taken, start), bisect.bisect_right(taken, end)
        free = (end - start + 1) - (high - low)
        if free > 0:
            # choice over a range draws as choice over the list of free addresses would.
            nth = rng.choice(range(min(free, MAX_WINDOW)))
            return str(factory(_nth_free(taken, low, high, start, nth)))
    return None


def _nth_free(taken: list[int], low: int, high: int, start: int, nth: int) -> int:
    """The nth (from 0) address from `start` not in taken[low:high] (sorted): the least x
    with x - start + 1 - (taken in [start, x]) == nth + 1, found by bisection."""
    lo, hi = start + nth, start + nth + (high - low)
    while lo < hi:
        mid = (lo + hi) // 2
        if mid - start + 1 - (bisect.bisect_right(taken, mid, low, high) - low) > nth:
            hi = mid
        else:
            lo = mid + 1
    return lo


def store(conn: sqlite3.Connection, port_id: str, subnet: sqlite3.Row, ip: str) -> None:
    before = _stamp(conn, subnet["id"])
    try:
        conn.execute(
            "INSERT INTO neutron_ip_allocations VALUES (?, ?, ?, ?)",
            (port_id, subnet["id"], subnet["network_id"], ip),
        )
    except sqlite3.IntegrityError:
        raise already_allocated(ip, subnet["id"]) from None
    cached = _taken.get(subnet["id"])
    after = _stamp(conn, subnet["id"])
    if cached is not None and before is not None and cached[0] == before and after is not None:
        taken = list(cached[1])  # a new list: another thread may be reading the old one
        bisect.insort(taken, _as_int(ip))
        _taken[subnet["id"]] = (after, taken)


def already_allocated(ip: str, subnet_id: str) -> NeutronError:
    return conflict(
        "IpAddressAlreadyAllocated", f"IP address {ip} already allocated in subnet {subnet_id}"
    )


def cidr_version_mismatch(name: str, value: str, ip_version: int) -> NeutronError:
    return invalid_input(f"{name} '{value}' does not match the ip_version '{ip_version}'")
