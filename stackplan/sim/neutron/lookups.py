"""In-process lists with the filters the compute service sends Neutron
(`list_networks(id=[...])`, `list_ports(device_id=[...], fields=[...])`,
`list_security_groups(tenant_id=, name=)`, `list_floatingips(port_id=[...])`): what a
caller may see, as the API would list it, batched so a page of 1,000 servers costs a
fixed number of queries. Writes stay in the resource modules (`ports`, ...)."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from stackplan.sim.neutron import networks, ports, security_groups, store
from stackplan.sim.neutron.common import Caller
from stackplan.sim.options import Context

_CHUNK = 500  # ids per IN (...): well under SQLite's bound-variable limit


def _chunks(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield ids[start : start + _CHUNK]


def _marks(ids: Sequence[str]) -> str:
    return ", ".join("?" for _ in ids)


def find_networks(
    conn: sqlite3.Connection,
    who: Caller,
    ids: Iterable[str] | None = None,
    project_id: str | None = None,
    shared: bool | None = None,
) -> list[dict[str, Any]]:
    """`GET /networks` with `id=`, `tenant_id=` and `shared=` filters, oldest first."""
    rows = conn.execute(f"SELECT * FROM {networks.TABLE} ORDER BY seq").fetchall()
    wanted = set(ids) if ids is not None else None
    found = []
    for row in rows:
        if not store.network_visible(who, row):
            continue
        if wanted is not None and row["id"] not in wanted:
            continue
        if project_id is not None and row["project_id"] != project_id:
            continue
        if shared is not None and bool(row["shared"]) != shared:
            continue
        found.append(networks.render(conn, row))
    return found


def show_port(conn: sqlite3.Connection, who: Caller, port_id: str) -> dict[str, Any]:
    """`GET /ports/{id}`; PortNotFound for what `who` may not see."""
    row, _ = ports.load(conn, who, port_id)
    return ports.render(conn, row)


def ports_with_ip(
    conn: sqlite3.Connection, who: Caller, network_id: str, ip_address: str
) -> list[dict[str, Any]]:
    """`GET /ports?network_id=N&fixed_ips=ip_address=IP`."""
    rows = conn.execute(
        "SELECT p.* FROM neutron_ports p JOIN neutron_ip_allocations a ON a.port_id = p.id"
        " WHERE p.network_id = ? AND a.ip_address = ? ORDER BY p.seq",
        (network_id, ip_address),
    ).fetchall()
    net = store.get(conn, networks.TABLE, network_id)
    return [ports.render(conn, r) for r in rows if store.port_visible(who, r, net)]


def find_groups(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    project_id: str | None = None,
    ids: Iterable[str] | None = None,
    name: str | None = None,
) -> list[dict[str, Any]]:
    """`GET /security-groups` with `tenant_id=`, `id=` and `name=`; listing makes the
    project's default group first, as Neutron's does (needs a write connection)."""
    rows = group_rows(ctx, conn, who, project_id, ids, name)
    return [security_groups.render(conn, r, listed=True) for r in rows]


def group_rows(
    ctx: Context,
    conn: sqlite3.Connection,
    who: Caller,
    project_id: str | None = None,
    ids: Iterable[str] | None = None,
    name: str | None = None,
) -> list[sqlite3.Row]:
    """The rows `find_groups` renders: what a caller needing only ids and names reads
    (Nova's create matches the server's groups; rendering their rules cost ~8% of it)."""
    security_groups.ensure_default(ctx, conn, who, project_id or who.project_id)
    wanted = set(ids) if ids is not None else None
    rows = conn.execute(f"SELECT * FROM {security_groups.TABLE} ORDER BY seq").fetchall()
    return [
        r
        for r in rows
        if who.owns(r["project_id"])
        and (project_id is None or r["project_id"] == project_id)
        and (wanted is None or r["id"] in wanted)
        and (name is None or r["name"] == name)
    ]


def ports_of_devices(
    conn: sqlite3.Connection, device_ids: Sequence[str]
) -> dict[str, list[dict[str, Any]]]:
    """The ports bound to each device as the admin lists them with
    `fields=id,network_id,mac_address,status,fixed_ips,security_groups,
    port_security_enabled,device_id,device_owner`, oldest first."""
    rows: list[sqlite3.Row] = []
    for chunk in _chunks(list(device_ids)):
        rows += conn.execute(
            f"SELECT * FROM {ports.TABLE} WHERE device_id IN ({_marks(chunk)}) ORDER BY seq",
            tuple(chunk),
        ).fetchall()
    port_ids = [r["id"] for r in rows]
    ips: dict[str, list[dict[str, str]]] = {p: [] for p in port_ids}
    groups: dict[str, list[str]] = {p: [] for p in port_ids}
    for chunk in _chunks(port_ids):
        for r in conn.execute(
            "SELECT port_id, subnet_id, ip_address FROM neutron_ip_allocations"
            f" WHERE port_id IN ({_marks(chunk)}) ORDER BY rowid",
            tuple(chunk),
        ):
            ips[r["port_id"]].append({"subnet_id": r["subnet_id"], "ip_address": r["ip_address"]})
        for r in conn.execute(
            f"SELECT port_id, group_id FROM neutron_port_groups WHERE port_id IN ({_marks(chunk)})"
            " ORDER BY seq",
            tuple(chunk),
        ):
            groups[r["port_id"]].append(r["group_id"])
    found: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        found.setdefault(row["device_id"], []).append(
            {
                "id": row["id"],
                "network_id": row["network_id"],
                "mac_address": row["mac_address"],
                "status": row["status"],
                "fixed_ips": ips[row["id"]],
                "security_groups": groups[row["id"]],
                "port_security_enabled": bool(row["port_security"]),
                "device_id": row["device_id"],
                "device_owner": row["device_owner"],
            }
        )
    return found


def network_names(conn: sqlite3.Connection, network_ids: Iterable[str]) -> dict[str, str]:
    """`GET /networks?id=...&fields=id,name` as the admin."""
    ids = sorted(set(network_ids))
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(
            f"SELECT id, name FROM {networks.TABLE} WHERE id IN ({_marks(chunk)})", tuple(chunk)
        ):
            names[r["id"]] = r["name"]
    return names


def group_names(conn: sqlite3.Connection, who: Caller, group_ids: Iterable[str]) -> dict[str, str]:
    """`GET /security-groups?id=...&fields=id,name` as `who`: the groups it may see."""
    ids = sorted(set(group_ids))
    names: dict[str, str] = {}
    for chunk in _chunks(ids):
        for r in conn.execute(
            f"SELECT id, name, project_id FROM {security_groups.TABLE}"
            f" WHERE id IN ({_marks(chunk)})",
            tuple(chunk),
        ):
            if who.owns(r["project_id"]):
                names[r["id"]] = r["name"]
    return names


def floating_ips_on_ports(
    conn: sqlite3.Connection, port_ids: Sequence[str]
) -> dict[str, list[dict[str, str]]]:
    """`GET /floatingips?port_id=...` as the admin: each port's floating IPs, with the
    fixed address each is associated with, oldest first."""
    found: dict[str, list[dict[str, str]]] = {}
    for chunk in _chunks(list(port_ids)):
        for r in conn.execute(
            "SELECT fixed_port_id, fixed_ip_address, floating_ip_address FROM neutron_floatingips"
            f" WHERE fixed_port_id IN ({_marks(chunk)}) ORDER BY seq",
            tuple(chunk),
        ):
            found.setdefault(r["fixed_port_id"], []).append(
                {
                    "fixed_ip_address": r["fixed_ip_address"],
                    "floating_ip_address": r["floating_ip_address"],
                }
            )
    return found


def external_networks(conn: sqlite3.Connection, who: Caller) -> list[dict[str, Any]]:
    """`GET /networks?router:external=True` as `who`."""
    rows = conn.execute(f"SELECT * FROM {networks.TABLE} WHERE external = 1 ORDER BY seq")
    return [networks.render(conn, r) for r in rows if store.network_visible(who, r)]


def fixed_ips_by_device(conn: sqlite3.Connection, owner_prefix: str) -> dict[str, list[str]]:
    """Every fixed address of the ports whose device_owner starts with `owner_prefix`,
    by device (as the admin lists `ports?fields=device_id,fixed_ips`)."""
    found: dict[str, list[str]] = {}
    for r in conn.execute(
        "SELECT p.device_id, a.ip_address FROM neutron_ports p"
        " JOIN neutron_ip_allocations a ON a.port_id = p.id"
        " WHERE substr(p.device_owner, 1, ?) = ? ORDER BY p.seq, a.rowid",
        (len(owner_prefix), owner_prefix),
    ):
        found.setdefault(r["device_id"], []).append(r["ip_address"])
    return found
