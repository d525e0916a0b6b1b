"""The embedded cloud's address picking: at random among the first 1000 free addresses of
the first pool with any, as Neutron's built-in IPAM does. Checked against the plain scan
it replaced (every candidate from the pool's start), draw for draw, with the allocations
kept in memory between picks and read again when a change or a rollback moved them."""

from __future__ import annotations

import ipaddress
import json
import random
import sqlite3

import pytest

from stackplan.sim.neutron import ipam, schema


def _scan(taken: set[int], pools: list[dict[str, str]], rng: random.Random) -> str | None:
    for pool in pools:
        start, end = (
            int(ipaddress.ip_address(pool["start"])),
            int(ipaddress.ip_address(pool["end"])),
        )
        window = [a for a in range(start, end + 1) if a not in taken][: ipam.MAX_WINDOW]
        if window:
            return str(ipaddress.ip_address(rng.choice(window)))
    return None


def _subnet(conn: sqlite3.Connection, version: int, pools: list[tuple[str, str]]) -> dict:
    schema.create_tables(conn)
    return {
        "id": "subnet-1",
        "network_id": "net-1",
        "ip_version": version,
        "allocation_pools": json.dumps([{"start": s, "end": e} for s, e in pools]),
    }


@pytest.mark.parametrize(
    ("version", "pools"),
    [
        (4, [("10.0.0.2", "10.0.0.40"), ("10.0.1.10", "10.0.7.254")]),
        (4, [("192.168.0.2", "192.168.15.254")]),
        (6, [("fd00::2", "fd00::5dc")]),
    ],
)
def test_each_pick_is_the_address_the_plain_scan_picks(version, pools) -> None:
    conn = sqlite3.connect(":memory:")
    subnet = _subnet(conn, version, pools)
    ours, theirs = random.Random(7), random.Random(7)
    taken: set[int] = set()
    # Addresses outside the pools (a router's, a fixed one) count for no pool.
    outside = "10.0.9.1" if version == 4 else "fd00::9999"
    ipam.store(conn, "p-out", subnet, outside)
    for n in range(1500):
        expected = _scan(taken, json.loads(subnet["allocation_pools"]), theirs)
        picked = ipam.pick(conn, subnet, ours)
        assert picked == expected, n
        if picked is None:
            break
        ipam.store(conn, f"p{n}", subnet, picked)
        taken.add(int(ipaddress.ip_address(picked)))
        if n % 7 == 0:  # ports go away too, leaving holes
            gone = sorted(taken)[len(taken) // 2]
            conn.execute("DELETE FROM neutron_ip_allocations WHERE ip_address = ?",
                         (str(ipaddress.ip_address(gone)),))  # fmt: skip
            taken.discard(gone)


def test_a_full_pool_gives_none() -> None:
    conn = sqlite3.connect(":memory:")
    subnet = _subnet(conn, 4, [("10.0.0.2", "10.0.0.4")])
    rng = random.Random(1)
    for n in range(3):
        picked = ipam.pick(conn, subnet, rng)
        assert picked in ("10.0.0.2", "10.0.0.3", "10.0.0.4")
        ipam.store(conn, f"p{n}", subnet, picked)
    assert ipam.pick(conn, subnet, rng) is None


def test_a_rolled_back_allocation_is_free_again() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    subnet = _subnet(conn, 4, [("10.0.0.2", "10.0.0.3")])
    ipam.store(conn, "p0", subnet, "10.0.0.2")
    conn.execute("BEGIN")
    assert ipam.pick(conn, subnet, random.Random(1)) == "10.0.0.3"
    ipam.store(conn, "p1", subnet, "10.0.0.3")
    assert ipam.pick(conn, subnet, random.Random(1)) is None  # full, as this transaction sees
    conn.execute("ROLLBACK")
    assert ipam.pick(conn, subnet, random.Random(1)) == "10.0.0.3"
