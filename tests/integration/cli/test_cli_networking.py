"""The networking kinds through the CLI, checked in Neutron's and Nova's own APIs: the
three-tier example applies, plans no change, changes in place (same IDs), keeps a port's
addresses across a server's replacement, puts drift back, and destroys to the seed."""

from __future__ import annotations

import json
import shutil
from typing import Any

import yaml

from tests.integration.cli.conftest import ROOT, Stack

EXAMPLE = ROOT / "examples" / "three-tier"
NEUTRON_KINDS = ("networks", "subnets", "routers", "ports", "security-groups", "floatingips")


def three_tier(stack: Stack, **changes: Any) -> dict[str, Any]:
    """The example in the stack's folder; `changes` replace whole sections."""
    shutil.copytree(EXAMPLE / "keys", stack.dir / "keys", dirs_exist_ok=True)
    doc = yaml.safe_load((EXAMPLE / "stackplan.yaml").read_text(encoding="utf-8"))
    doc.update(changes)
    write(stack, doc)
    return doc


def write(stack: Stack, doc: dict[str, Any]) -> None:
    stack.write_spec(yaml.safe_dump(doc, sort_keys=False))


def ids(stack: Stack) -> dict[str, str]:
    """Cloud IDs by address, from the state file."""
    doc = json.loads(stack.state.read_text(encoding="utf-8"))
    return {r["address"]: r["id"] for r in doc["resources"]}


def apply(stack: Stack, *counts: str) -> str:
    out = stack.cli("apply", "--auto-approve").stdout
    for words in counts:
        assert words in out, out
    return out


def no_change(stack: Stack) -> None:
    result = stack.cli("plan", "--detailed-exitcode", rc=None)
    assert result.returncode == 0, str(result)


def seeded(stack: Stack) -> dict[str, list[str]]:
    return {kind: sorted(i["id"] for i in stack.cloud.neutron(kind)) for kind in NEUTRON_KINDS}


def test_three_tiers_apply_change_in_place_and_destroy_to_the_seed(stack: Stack) -> None:
    before = seeded(stack)
    doc = three_tier(stack)
    apply(stack, "Apply complete!")
    no_change(stack)
    first = ids(stack)
    net = stack.cloud.neutron_one("networks", first["network.tiers"])
    assert net["name"] == "tiers"
    router = stack.cloud.neutron_one("routers", first["router.edge"])
    public = stack.cloud.neutron("networks", name="public")[0]
    assert router["external_gateway_info"]["network_id"] == public["id"]
    interfaces = stack.cloud.neutron(
        "ports", device_id=first["router.edge"], device_owner="network:router_interface"
    )
    assert [ip["subnet_id"] for p in interfaces for ip in p["fixed_ips"]] == [first["subnet.tiers"]]
    db_port = stack.cloud.neutron_one("ports", first["port.db"])
    assert db_port["fixed_ips"][0]["ip_address"] == "10.20.0.250"
    assert db_port["device_id"] == first["server.db"]
    bastion_ports = stack.cloud.neutron("ports", device_id=first["server.bastion"])
    fip = stack.cloud.neutron_one("floatingips", first["floating_ip.bastion"])
    assert fip["port_id"] == bastion_ports[0]["id"]
    address = fip["floating_ip_address"]
    outputs = json.loads(stack.cli("output", "--json").stdout)
    assert outputs["bastion_address"] == address and outputs["db_address"] == "10.20.0.250"

    # A rule added, then removed: the group stays, only that rule comes and goes.
    web_rules = doc["security_groups"]["web"]["rules"]
    web_rules.append({"protocol": "tcp", "port": 8443})
    write(stack, doc)
    apply(stack, "1 changed")
    group = stack.cloud.neutron_one("security-groups", first["security_group.web"])
    assert any(r["port_range_min"] == 8443 for r in group["security_group_rules"])
    web_rules.pop()
    write(stack, doc)
    apply(stack, "1 changed")
    group = stack.cloud.neutron_one("security-groups", first["security_group.web"])
    assert not any(r["port_range_min"] == 8443 for r in group["security_group_rules"])

    # DNS servers, a router interface on a new subnet, a network on a running server.
    doc["subnets"]["tiers"]["dns_nameservers"] = ["9.9.9.9"]
    doc["subnets"]["spare"] = {"network": "tiers", "cidr": "10.21.0.0/24"}
    doc["routers"]["edge"]["interfaces"] = ["tiers", "spare"]
    doc["servers"]["app"]["networks"] = [{"network": "tiers"}, {"network": "private"}]
    write(stack, doc)
    plan = stack.cli("plan").stdout
    assert "must be replaced" not in plan, plan
    apply(stack, "1 added", "0 destroyed")
    now = ids(stack)
    for kept_id in ("subnet.tiers", "router.edge", "server.app[0]", "server.app[1]"):
        assert now[kept_id] == first[kept_id], kept_id
    subnet = stack.cloud.neutron_one("subnets", first["subnet.tiers"])
    assert subnet["dns_nameservers"] == ["9.9.9.9"]
    interfaces = stack.cloud.neutron(
        "ports", device_id=first["router.edge"], device_owner="network:router_interface"
    )
    assert len(interfaces) == 2
    app_ports = stack.cloud.neutron("ports", device_id=first["server.app[0]"])
    assert len(app_ports) == 2
    no_change(stack)

    # The floating IP moves from the bastion to web[0]: same ID, same address.
    doc["floating_ips"]["bastion"]["server"] = "web[0]"
    write(stack, doc)
    apply(stack, "1 changed", "0 destroyed")
    fip = stack.cloud.neutron_one("floatingips", first["floating_ip.bastion"])
    web_port = stack.cloud.neutron("ports", device_id=first["server.web[0]"])[0]
    assert fip["floating_ip_address"] == address and fip["port_id"] == web_port["id"]

    # The database server replaced (a new key pair): its port, fixed IP and floating IP stay.
    doc["floating_ips"]["db"] = {"network": "public", "port": "db"}
    doc["keypairs"]["dba"] = {"public_key_file": "keys/ops.pub", "name": "dba"}
    write(stack, doc)
    apply(stack, "2 added")  # the floating IP and the key pair
    outputs = json.loads(stack.cli("output", "--json").stdout)
    assert outputs["bastion_address"] == address  # moved, still known
    db_address = stack.cloud.neutron_one("floatingips", ids(stack)["floating_ip.db"])
    doc["servers"]["db"]["key_pair"] = "dba"
    write(stack, doc)
    plan = stack.cli("plan").stdout
    assert "-/+ server.db (replace: key_name forces replacement)" in plan, plan
    apply(stack, "0 added, 0 changed, 1 replaced, 0 destroyed")
    after = ids(stack)
    assert after["server.db"] != first["server.db"] and after["port.db"] == first["port.db"]
    port = stack.cloud.neutron_one("ports", first["port.db"])
    assert port["device_id"] == after["server.db"]
    assert port["fixed_ips"][0]["ip_address"] == "10.20.0.250"
    kept = stack.cloud.neutron_one("floatingips", after["floating_ip.db"])
    assert kept["floating_ip_address"] == db_address["floating_ip_address"]
    assert kept["port_id"] == first["port.db"]
    no_change(stack)

    stack.cli("destroy", "--auto-approve")
    assert seeded(stack) == before
    assert stack.cloud.servers() == []


def test_drift_a_rule_added_by_hand_goes_and_a_loose_floating_ip_comes_back(stack: Stack) -> None:
    three_tier(stack)
    apply(stack, "Apply complete!")
    first = ids(stack)
    group = first["security_group.db"]
    stack.openstack(
        "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "9999", group
    )
    stack.openstack("floating", "ip", "unset", "--port", first["floating_ip.bastion"])
    plan = stack.cli("plan").stdout
    assert "security_group.db" in plan and "floating_ip.bastion" in plan, plan
    assert "changed outside stackplan" in plan or "drift" in plan.lower(), plan
    apply(stack, "2 changed", "0 destroyed")
    rules = stack.cloud.neutron_one("security-groups", group)["security_group_rules"]
    assert not any(r["port_range_min"] == 9999 for r in rules)
    fip = stack.cloud.neutron_one("floatingips", first["floating_ip.bastion"])
    assert fip["port_id"], fip
    no_change(stack)
    stack.cli("destroy", "--auto-approve")


def test_a_server_naming_no_network_among_several_fails_the_plan(make_stack) -> None:
    # devstack's demo project sees `private` and `shared`: Nova would refuse the server.
    stack = make_stack(shared_network=True)
    stack.write_spec(
        "stack: lost\nservers:\n  web: {image: cirros-0.6.2-x86_64-disk, flavor: m1.tiny}\n"
    )
    result = stack.cli("plan", rc=1)
    assert "Multiple possible networks found" in result.stderr, str(result)
    assert "networks: [{network: " in result.stderr
    assert "Traceback" not in result.output
