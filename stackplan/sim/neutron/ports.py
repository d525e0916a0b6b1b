"""Ports: the in-process functions the HTTP handlers (`port_api.py`) and, later, Nova
use, with ML2's rules (`neutron/db/db_base_plugin_v2.py`, `plugins/ml2/plugin.py`).

    schema.ready(ctx)                      # once, outside any transaction
    with ctx.db.write() as conn:
        port = create_port(ctx, conn, who, {"network_id": ..., "device_id": ...,
                                            "device_owner": "compute:nova"})
        port = update_port(ctx, conn, who, port["id"], {"device_id": ""})
        delete_port(ctx, conn, who, port["id"])
        mine = find_ports(conn, who, device_id=server_id)

`who` is a `common.Caller`; bodies are what the API takes in `{"port": {...}}`, checked
by the same attribute map; the result is the port as `GET /ports/{id}` shows it.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from stackplan.sim.neutron import port_checks as pc
from stackplan.sim.neutron import schema, security_groups, store
from stackplan.sim.neutron.common import (
    UNSET,
    Caller,
    NeutronError,
    bad_request,
    conflict,
    explicitly_set,
    new_id,
    not_found,
    policy_denied,
    prepare_item,
    rule,
)
from stackplan.sim.neutron.port_checks import SPEC, trusted
from stackplan.sim.options import Context

KIND = "ports"
TABLE = "neutron_ports"
ROUTER_INTERFACE = "network:router_interface"
ROUTER_GATEWAY = "network:router_gateway"
FLOATINGIP = "network:floatingip"
L3_OWNERS = ("network:ha_router_replicated_interface", ROUTER_INTERFACE, ROUTER_GATEWAY, FLOATINGIP)


def port_not_found(port_id: str) -> NeutronError:
    return not_found("PortNotFound", f"Port {port_id} could not be found.")


# -- reading ---------------------------------------------------------------------------


def ips_of(conn: sqlite3.Connection, port_id: str) -> list[dict[str, str]]:
    rows = conn.execute(
        "SELECT subnet_id, ip_address FROM neutron_ip_allocations WHERE port_id = ? ORDER BY rowid",
        (port_id,),
    ).fetchall()
    return [{"subnet_id": r["subnet_id"], "ip_address": r["ip_address"]} for r in rows]


def groups_of(conn: sqlite3.Connection, port_id: str) -> list[str]:
    rows = conn.execute(
        "SELECT group_id FROM neutron_port_groups WHERE port_id = ? ORDER BY seq", (port_id,)
    ).fetchall()
    return [r["group_id"] for r in rows]


def render(conn: sqlite3.Connection, row: sqlite3.Row) -> dict[str, Any]:
    return {
        "id": row["id"],
        "name": row["name"],
        "network_id": row["network_id"],
        **store.owner(row["project_id"]),
        "mac_address": row["mac_address"],
        "admin_state_up": bool(row["admin_state_up"]),
        "status": row["status"],
        "device_id": row["device_id"],
        "device_owner": row["device_owner"],
        "fixed_ips": ips_of(conn, row["id"]),
        "allowed_address_pairs": json.loads(row["address_pairs"]),
        "security_groups": groups_of(conn, row["id"]),
        "port_security_enabled": bool(row["port_security"]),
        "binding:vnic_type": row["vnic_type"],
        "extra_dhcp_opts": [],
        **store.standard(conn, KIND, row),
    }


def load(conn: sqlite3.Connection, who: Caller, port_id: str) -> tuple[sqlite3.Row, sqlite3.Row]:
    """The port and its network, or PortNotFound for what `who` may not see."""
    row = store.get(conn, TABLE, port_id)
    net = store.get(conn, "neutron_networks", row["network_id"]) if row else None
    if row is None or net is None or not store.port_visible(who, row, net):
        raise port_not_found(port_id)
    return row, net


# -- the in-process API ----------------------------------------------------------------


def create(ctx: Context, conn: sqlite3.Connection, who: Caller, p: dict[str, Any]) -> str:
    """Create one port from a body that went through `prepare`; its id."""
    net = store.get(conn, "neutron_networks", p["network_id"])
    if net is None:
        raise not_found("NetworkNotFound", f"Network {p['network_id']} could not be found.")
    if not (who.owns(net["project_id"]) or net["shared"]):
        raise pc.denial("create_port", p, [n for n in pc.ENFORCED if explicitly_set(p, SPEC, n)])
    pc.policy("create_port", p, who, net, creating=True)
    project, owner = p["project_id"], p["device_owner"]
    if owner:
        pc.device_check(conn, who, owner, p["device_id"], project)
    security_groups.ensure_default(ctx, conn, who, project)
    if p["mac_address"] is UNSET:
        mac = pc.new_mac(ctx, conn, net["id"])
    elif pc.mac_in_use(conn, net["id"], p["mac_address"]):
        raise conflict(
            "MacAddressInUse",
            f"Unable to complete operation for network {net['id']}. The mac address "
            f"{p['mac_address']} is in use.",
        )
    else:
        mac = p["mac_address"]
    port_id, now = new_id(), ctx.now()
    conn.execute(
        f"INSERT INTO {TABLE} (id, project_id, network_id, name, description, admin_state_up,"
        " status, mac_address, device_id, device_owner, port_security, address_pairs, created,"
        " updated, vnic_type) VALUES (?, ?, ?, ?, ?, ?, 'DOWN', ?, ?, ?, 0, '[]', ?, ?, ?)",
        (
            port_id,
            project,
            net["id"],
            p["name"],
            p["description"],
            int(p["admin_state_up"]),
            mac,
            p["device_id"],
            owner,
            now,
            now,
            p["binding:vnic_type"],
        ),
    )
    if p["fixed_ips"] is UNSET:
        pc.auto_ips(ctx, conn, port_id, net)
    else:
        wanted = [(pc.subnet_for(conn, net, f, owner), f.get("ip_address")) for f in p["fixed_ips"]]
        pc.allocate(ctx, conn, port_id, net, wanted)
    if trusted(owner):
        security = False
    elif p["port_security_enabled"] is not UNSET:
        security = bool(p["port_security_enabled"])
    else:
        security = bool(net["port_security"])
    pairs = [] if p["allowed_address_pairs"] is UNSET else p["allowed_address_pairs"]
    if pairs and not security:
        raise pc.no_pairs_without_security()
    groups = p["security_groups"]
    if security and not trusted(owner):
        if groups is UNSET:
            default = security_groups.ensure_default(ctx, conn, who, project)
            groups = [default] if default else []
        else:
            pc.check_groups(conn, who, project, groups)
    elif groups not in (UNSET, []):
        raise pc.no_groups_without_security()
    else:
        groups = []
    conn.execute(
        f"UPDATE {TABLE} SET port_security = ?, address_pairs = ? WHERE id = ?",
        (int(security), pc.stored_pairs(pairs, mac), port_id),
    )
    pc.bind_groups(conn, port_id, groups)
    if ctx.options.port_tags_at_create:
        store.add_tags(conn, KIND, port_id, p["tags"])
    return port_id


def update(
    ctx: Context, conn: sqlite3.Connection, who: Caller, port_id: str, p: dict[str, Any]
) -> None:
    """Apply a checked update body to a port."""
    row, net = load(conn, who, port_id)
    if not who.owns(row["project_id"]):
        raise pc.denial("update_port", p, [n for n in pc.ENFORCED if n in p])
    pc.policy("update_port", p, who, net, creating=False)
    owner = p.get("device_owner", row["device_owner"])
    device_id = p.get("device_id", row["device_id"])
    if (owner and device_id != row["device_id"]) or "device_owner" in p:
        pc.device_check(conn, who, owner, device_id, row["project_id"])
    mac = p.get("mac_address", row["mac_address"])
    if mac != row["mac_address"]:
        if trusted(owner):
            # Neutron formats this message with the builtin `id` (db_base_plugin_v2.py)
            raise conflict(
                "UnsupportedPortDeviceOwner",
                f"Operation mac address update is not supported for device_owner {owner} "
                f"on port {id}.",
            )
        if pc.mac_in_use(conn, net["id"], mac):
            raise conflict(
                "MacAddressInUse",
                f"Unable to complete operation for network {net['id']}. The mac address "
                f"{mac} is in use.",
            )
    security_groups.ensure_default(ctx, conn, who, row["project_id"])
    if "fixed_ips" in p:
        _change_ips(ctx, conn, row, net, p["fixed_ips"], owner)
    security = bool(p.get("port_security_enabled", row["port_security"]))
    groups = p.get("security_groups", groups_of(conn, port_id))
    if "security_groups" in p:
        if groups and not security:
            raise pc.no_groups_without_security()
        pc.check_groups(conn, who, row["project_id"], groups)
    elif not security and groups:
        raise conflict(
            "PortSecurityPortHasSecurityGroup",
            "Port has security group associated. Cannot disable port security or IP address "
            "until security group is removed.",
        )
    pairs = p.get("allowed_address_pairs", json.loads(row["address_pairs"]))
    if pairs and not security:
        raise pc.no_pairs_without_security()
    values: dict[str, Any] = {
        k: p[k] for k in ("name", "description", "device_id", "device_owner") if k in p
    }
    if "binding:vnic_type" in p:
        values["vnic_type"] = p["binding:vnic_type"]
    values.update(
        {
            "mac_address": mac,
            "port_security": int(security),
            "address_pairs": pc.stored_pairs(pairs, mac),
        }
    )
    if "admin_state_up" in p:
        values["admin_state_up"] = int(p["admin_state_up"])
    store.update_row(conn, TABLE, port_id, values, ctx.now())
    pc.bind_groups(conn, port_id, groups)


def _change_ips(
    ctx: Context,
    conn: sqlite3.Connection,
    row: sqlite3.Row,
    net: sqlite3.Row,
    wanted: list[dict[str, Any]],
    owner: str,
) -> None:
    """Neutron's `_get_changed_ips_for_port`: keep what is asked again, add, remove."""
    original = ips_of(conn, row["id"])
    fip = conn.execute(
        "SELECT fixed_ip_address FROM neutron_floatingips WHERE fixed_port_id = ?", (row["id"],)
    ).fetchone()
    if fip is not None and fip["fixed_ip_address"] not in [f.get("ip_address") for f in wanted]:
        raise bad_request(
            "port",
            f"Cannot update the fixed_ips of the port {row['id']}, because its original "
            "fixed_ip has been associated to a floating ip",
        )
    keep: list[dict[str, str]] = []
    add: list[tuple[sqlite3.Row, str | None]] = []
    by_ip = {ip["ip_address"]: ip for ip in original}
    for fixed in wanted:
        if "ip_address" in fixed and fixed["ip_address"] in by_ip:
            keep.append(by_ip.pop(fixed["ip_address"]))
    for fixed in wanted:
        if "ip_address" in fixed and any(k["ip_address"] == fixed["ip_address"] for k in keep):
            continue
        subnet = pc.subnet_for(conn, net, fixed, owner)
        reuse = next((ip for ip in by_ip.values() if ip["subnet_id"] == subnet["id"]), None)
        if "ip_address" not in fixed and reuse is not None:
            keep.append(by_ip.pop(reuse["ip_address"]))
        else:
            add.append((subnet, fixed.get("ip_address")))
    for gone in by_ip.values():
        conn.execute(
            "DELETE FROM neutron_ip_allocations WHERE port_id = ? AND ip_address = ?",
            (row["id"], gone["ip_address"]),
        )
    pc.allocate(ctx, conn, row["id"], net, add)


def remove(conn: sqlite3.Connection, port_id: str, now: float) -> None:
    """Drop the port and what hangs off it; floating IPs on it are disassociated."""
    conn.execute(
        "UPDATE neutron_floatingips SET fixed_port_id = NULL, fixed_ip_address = NULL,"
        " router_id = NULL, status = 'DOWN', revision = revision + 1, updated = ?"
        " WHERE fixed_port_id = ?",
        (now, port_id),
    )
    conn.execute("DELETE FROM neutron_ip_allocations WHERE port_id = ?", (port_id,))
    conn.execute("DELETE FROM neutron_port_groups WHERE port_id = ?", (port_id,))
    conn.execute("DELETE FROM neutron_router_ports WHERE port_id = ?", (port_id,))
    conn.execute(f"DELETE FROM {TABLE} WHERE id = ?", (port_id,))
    store.drop_tags(conn, KIND, port_id)


def create_port(
    ctx: Context, conn: sqlite3.Connection, who: Caller, body: dict[str, Any]
) -> dict[str, Any]:
    """Create a port from an API body (`{"network_id": ...}`); the port as shown."""
    assert schema.is_ready(ctx), "call neutron.schema.ready(ctx) first"
    port_id = create(ctx, conn, who, prepare_item(body, "port", SPEC, True, who))
    return render(conn, store.get(conn, TABLE, port_id))


def update_port(
    ctx: Context, conn: sqlite3.Connection, who: Caller, port_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    assert schema.is_ready(ctx), "call neutron.schema.ready(ctx) first"
    update(ctx, conn, who, port_id, prepare_item(body, "port", SPEC, False, who))
    return render(conn, store.get(conn, TABLE, port_id))


def delete_port(
    ctx: Context, conn: sqlite3.Connection, who: Caller, port_id: str, l3_check: bool = True
) -> None:
    """Delete a port; router and floating IP ports only with `l3_check=False`."""
    assert schema.is_ready(ctx), "call neutron.schema.ready(ctx) first"
    row, net = load(conn, who, port_id)
    if not (who.owns(row["project_id"]) or who.owns(net["project_id"])):
        raise policy_denied(rule("delete_port"))
    if l3_check and row["device_owner"] in L3_OWNERS:
        table = "neutron_floatingips" if row["device_owner"] == FLOATINGIP else "neutron_routers"
        if store.get(conn, table, row["device_id"]) is not None:
            raise conflict(
                "ServicePortInUse",
                f"Port {port_id} cannot be deleted directly via the port API: has device "
                f"owner {row['device_owner']}.",
            )
    remove(conn, port_id, ctx.now())


def find_ports(
    conn: sqlite3.Connection,
    who: Caller,
    device_id: str | None = None,
    network_id: str | None = None,
) -> list[dict[str, Any]]:
    """The ports `who` may see, narrowed to a device and/or a network, oldest first."""
    rows = conn.execute(
        f"SELECT * FROM {TABLE} WHERE (? IS NULL OR device_id = ?)"
        " AND (? IS NULL OR network_id = ?) ORDER BY seq",
        (device_id, device_id, network_id, network_id),
    ).fetchall()
    found = []
    for row in rows:
        net = store.get(conn, "neutron_networks", row["network_id"])
        if store.port_visible(who, row, net):
            found.append(render(conn, row))
    return found


def set_status(ctx: Context, conn: sqlite3.Connection, port_id: str, status: str) -> None:
    """What the L2 agent reports for a bound port: ACTIVE while it is wired to a running
    guest, DOWN otherwise. A status change is an update (revision + 1)."""
    row = store.get(conn, TABLE, port_id)
    if row is not None and row["status"] != status:
        store.update_row(conn, TABLE, port_id, {"status": status}, ctx.now())
