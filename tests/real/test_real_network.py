"""RegionTwo (real Keystone 30, Neutron 29 with ML2 and no agents, Cinder 29 with its fake
volume driver) through the stackplan CLI, checked in Neutron's and Cinder's own APIs.

RegionTwo has no Nova, so the stack has no servers: the floating IP sits on a port.
No agents run: ports stay DOWN and routers are not scheduled, which nothing here asks of
them.
"""

from __future__ import annotations

from typing import Any

from tests.real.harness import DEMO, REGION_TWO, Api

NET = """\
stack: real-net-{rid}
networks:
  app: {{name: app-{rid}{mtu}}}
subnets:
  app:
    name: app-{rid}
    network: app
    cidr: 10.{octet}.0.0/24
    gateway_ip: 10.{octet}.0.1
    allocation_pools: [{{start: 10.{octet}.0.10, end: 10.{octet}.0.{pool_end}}}]
    dns_nameservers: [{dns}]
{extra_subnet}routers:
  edge:
    name: edge-{rid}
    external_network: public
    interfaces: [{interfaces}]
security_groups:
  web:
    name: web-{rid}
    description: web tier
    rules:
      - {{protocol: tcp, port: 443}}
      - {{protocol: tcp, port: 22, remote_ip_prefix: 10.0.0.0/8}}
      - {{protocol: tcp, port: 8000-8100, remote_group: web}}
{extra_rule}ports:
  vip:
    name: vip-{rid}
    network: app
    fixed_ips: [{{subnet: app, ip_address: 10.{octet}.0.{vip}}}]
    security_groups: [web]
floating_ips:
  vip: {{network: public, port: vip}}
volumes:
  data:
    name: data-{rid}
    size: {size}
    metadata: {{role: {role}}}
"""


def net_spec(rid: str, octet: int, *, changed: bool = False, vip: int = 100) -> str:
    return NET.format(
        rid=rid,
        octet=octet,
        mtu=", mtu: 1400" if changed else "",
        pool_end=150 if changed else 200,
        dns="1.1.1.1, 9.9.9.9" if changed else "1.1.1.1",
        extra_subnet=(
            f"  more:\n    name: more-{rid}\n    network: app\n    cidr: 10.{octet}.1.0/24\n"
            if changed
            else ""
        ),
        interfaces="app, more" if changed else "app",
        extra_rule="      - {protocol: icmp}\n" if changed else "",
        vip=vip,
        size=2 if changed else 1,
        role="db" if changed else "data",
    )


NEUTRON_KINDS = ("networks", "subnets", "routers", "ports", "security-groups", "floatingips")


def snapshot(real: Api) -> dict[str, dict[str, dict[str, Any]]]:
    """The demo project's resources of every kind stackplan makes in RegionTwo, by ID."""
    found = {
        kind: {i["id"]: i for i in real.neutron_list(kind, project_id=real.project_id)}
        for kind in NEUTRON_KINDS
    }
    found["volumes"] = {v["id"]: v for v in real.volumes()}
    return found


def _one(items: dict[str, dict], name: str) -> dict[str, Any]:
    hits = [i for i in items.values() if i.get("name") == name]
    assert len(hits) == 1, f"{len(hits)} of {name}: {hits}"
    return hits[0]


def _rules(group: dict[str, Any]) -> set[tuple]:
    return {
        (
            r["direction"],
            r["ethertype"],
            r["protocol"],
            r["port_range_min"],
            r["port_range_max"],
            r["remote_ip_prefix"],
            r["remote_group_id"],
        )
        for r in group["security_group_rules"]
    }


def _no_change(stack) -> None:
    result = stack.cli("plan", "--detailed-exitcode", rc=None)
    assert result.returncode == 0 and "No changes" in result.stdout, str(result)


def test_networking_and_volumes_apply_change_in_place_destroy(own_project, make_stack, run_id):
    """In a project of its own: "destroy leaves nothing" counts all the project holds."""
    real = Api(DEMO[0], DEMO[1], own_project)
    before = snapshot(real)
    public = real.neutron_list("networks", name="public")[0]
    stack = make_stack(REGION_TWO, project=own_project)
    octet = 100 + int(run_id, 16) % 100
    stack.write(net_spec(run_id, octet))
    result = stack.cli("apply", "--auto-approve")
    assert "Apply complete!" in result.stdout, str(result)

    now = snapshot(real)
    net = _one(now["networks"], f"app-{run_id}")
    subnet = _one(now["subnets"], f"app-{run_id}")
    router = _one(now["routers"], f"edge-{run_id}")
    group = _one(now["security-groups"], f"web-{run_id}")
    port = _one(now["ports"], f"vip-{run_id}")
    volume = _one(now["volumes"], f"data-{run_id}")
    assert subnet["network_id"] == net["id"] and subnet["cidr"] == f"10.{octet}.0.0/24"
    assert subnet["dns_nameservers"] == ["1.1.1.1"]
    assert subnet["allocation_pools"] == [{"start": f"10.{octet}.0.10", "end": f"10.{octet}.0.200"}]
    assert router["external_gateway_info"]["network_id"] == public["id"]
    interfaces = [
        p
        for p in now["ports"].values()
        if p["device_id"] == router["id"] and p["device_owner"] == "network:router_interface"
    ]
    assert [ip["subnet_id"] for p in interfaces for ip in p["fixed_ips"]] == [subnet["id"]]
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": f"10.{octet}.0.100"}]
    assert port["security_groups"] == [group["id"]]
    assert {
        ("ingress", "IPv4", "tcp", 443, 443, None, None),
        ("ingress", "IPv4", "tcp", 22, 22, "10.0.0.0/8", None),
        ("ingress", "IPv4", "tcp", 8000, 8100, None, group["id"]),
    } <= _rules(group)
    (fip,) = [f for f in now["floatingips"].values() if f["id"] not in before["floatingips"]]
    assert fip["port_id"] == port["id"] and fip["floating_network_id"] == public["id"]
    assert fip["fixed_ip_address"] == f"10.{octet}.0.100"
    assert volume["size"] == 1 and volume["status"] == "available"
    assert volume["metadata"]["role"] == "data"
    for item in (net, subnet, router, group, port, fip):
        assert any(t.startswith("stackplan:address=") for t in item["tags"]), item
    _no_change(stack)

    # Changes in place: MTU, pools, DNS, a second subnet on the router, a rule more, the
    # volume grown and its metadata (the port's address: the test below).
    stack.write(net_spec(run_id, octet, changed=True))
    stack.cli("plan", "--detailed-exitcode", rc=2)
    stack.cli("apply", "--auto-approve")
    after = snapshot(real)
    assert _one(after["networks"], f"app-{run_id}")["id"] == net["id"]
    assert _one(after["networks"], f"app-{run_id}")["mtu"] == 1400
    subnet2 = _one(after["subnets"], f"app-{run_id}")
    assert subnet2["id"] == subnet["id"]
    assert subnet2["dns_nameservers"] == ["1.1.1.1", "9.9.9.9"]
    assert subnet2["allocation_pools"][0]["end"] == f"10.{octet}.0.150"
    more = _one(after["subnets"], f"more-{run_id}")
    router_ports = {
        ip["subnet_id"]
        for p in after["ports"].values()
        if p["device_id"] == router["id"] and p["device_owner"] == "network:router_interface"
        for ip in p["fixed_ips"]
    }
    assert router_ports == {subnet["id"], more["id"]}
    port2 = _one(after["ports"], f"vip-{run_id}")
    assert port2["id"] == port["id"]
    assert after["floatingips"][fip["id"]]["port_id"] == port["id"]
    group2 = _one(after["security-groups"], f"web-{run_id}")
    assert ("ingress", "IPv4", "icmp", None, None, None, None) in _rules(group2)
    volume2 = after["volumes"][volume["id"]]
    assert volume2["size"] == 2 and volume2["metadata"]["role"] == "db"
    _no_change(stack)

    stack.cli("destroy", "--auto-approve")
    left = snapshot(real)
    for kind, items in left.items():
        extra = set(items) - set(before[kind])
        if kind == "security-groups":  # Neutron makes the project's `default` on first use
            extra = {i for i in extra if items[i]["name"] != "default"}
        assert not extra, f"destroy left {kind}: {[items[i].get('name') for i in extra]}"


def test_a_port_with_a_floating_ip_moves_to_another_address(real: Api, make_stack, run_id):
    stack = make_stack(REGION_TWO)
    octet = 100 + (int(run_id, 16) + 37) % 100
    rid = f"{run_id}p"
    stack.write(net_spec(rid, octet))
    stack.cli("apply", "--auto-approve")
    stack.write(net_spec(rid, octet, vip=101))
    stack.cli("apply", "--auto-approve", rc=None)
    port = _one(snapshot(real)["ports"], f"vip-{rid}")
    try:
        assert port["fixed_ips"][0]["ip_address"] == f"10.{octet}.0.101"
        fips = real.neutron_list("floatingips", port_id=port["id"])
        assert [f["fixed_ip_address"] for f in fips] == [f"10.{octet}.0.101"]
    finally:
        stack.write(net_spec(rid, octet))
        stack.cli("destroy", "--auto-approve")
