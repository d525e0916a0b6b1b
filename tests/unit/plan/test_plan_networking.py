"""What a change to a networking resource (or to a server's interfaces) costs: the verbs
follow terraform-provider-openstack, and a value the cloud filled in is no change."""

from __future__ import annotations

from typing import Any

import pytest

from stackplan.addr import Address
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Observed, ObservedResource
from stackplan.kinds.registry import KINDS
from stackplan.plan.diff import DiffOptions, diff
from stackplan.plan.model import Action, Change
from stackplan.spec.model import Desired, DesiredResource
from stackplan.state.model import FORMAT_VERSION, ResourceRecord, State

LINEAGE = "6c1d2e3f-0000-4000-8000-000000000001"


def plan_one(
    kind: str, wanted: dict[str, Any], was: dict[str, Any], seen: dict[str, Any]
) -> Change:
    """The change for one resource the state holds as `was` and the cloud shows as `seen`."""
    address = Address(kind, "x")
    desired = Desired("net", None, "sha256:d", (DesiredResource(address, frozen_map(wanted)),))
    record = ResourceRecord(address, "id-x", KINDS[kind].recorded(was))
    prior = State(FORMAT_VERSION, LINEAGE, 1, "net", {address: record})
    observed = Observed(frozen_map({"id-x": ObservedResource(kind, "id-x", frozen_map(seen))}))
    (change,) = diff(desired, prior, observed, DiffOptions(lineage=LINEAGE)).changes
    return change


def subnet(**extra: Any) -> dict[str, Any]:
    attrs = {
        "name": "app",
        "description": "",
        "network_id": "n-1",
        "cidr": "10.1.0.0/24",
        "ip_version": 4,
        "gateway_ip": None,
        "enable_dhcp": True,
        "dns_nameservers": [],
        "allocation_pools": None,
        "host_routes": [],
        "tags": [],
    }
    return {**attrs, **extra}


def subnet_seen(**extra: Any) -> dict[str, Any]:
    pools = [{"start": "10.1.0.2", "end": "10.1.0.254"}]
    return subnet(gateway_ip="10.1.0.1", allocation_pools=pools, **extra)


def test_a_subnet_the_cloud_gave_a_gateway_and_pools_is_unchanged() -> None:
    assert plan_one("subnet", subnet(), subnet(), subnet_seen()).action is Action.NO_OP


@pytest.mark.parametrize(
    ("field", "value", "action"),
    [
        ("dns_nameservers", ["1.1.1.1"], Action.UPDATE),
        ("enable_dhcp", False, Action.UPDATE),
        ("host_routes", [{"destination": "0.0.0.0/0", "nexthop": "10.1.0.9"}], Action.UPDATE),
        ("cidr", "10.2.0.0/24", Action.DELETE_THEN_CREATE),
        ("network_id", "n-2", Action.DELETE_THEN_CREATE),
    ],
)
def test_subnet_fields_update_or_replace(field: str, value: Any, action: Action) -> None:
    change = plan_one("subnet", subnet(**{field: value}), subnet(), subnet_seen())
    assert change.action is action and field in change.changed_paths


def group(rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {"name": "web", "description": "", "rules": rules, "tags": []}


def rule(**extra: Any) -> dict[str, Any]:
    base = {
        "direction": "ingress",
        "ethertype": "IPv4",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "remote_ip_prefix": None,
        "remote_group_id": None,
    }
    return {**base, **extra}


def test_a_rule_added_by_hand_is_drift_and_the_group_updates_in_place() -> None:
    ssh, web = rule(), rule(port_range_min=443, port_range_max=443)
    change = plan_one("security_group", group([ssh]), group([ssh]), group([ssh, web]))
    assert change.action is Action.UPDATE
    assert "rules" in change.drift and change.changed_paths == ("rules",)


def test_a_port_whose_fixed_ip_the_cloud_chose_is_unchanged() -> None:
    wanted = {"name": "vip", "network_id": "n-1", "fixed_ips": [{"subnet_id": "s-1"}]}
    seen = {**wanted, "fixed_ips": [{"subnet_id": "s-1", "ip_address": "10.1.0.7"}]}
    assert plan_one("port", wanted, wanted, seen).action is Action.NO_OP
    moved = {**wanted, "fixed_ips": [{"subnet_id": "s-1", "ip_address": "10.1.0.9"}]}
    assert plan_one("port", moved, wanted, seen).action is Action.UPDATE
    elsewhere = {**wanted, "network_id": "n-2"}
    assert plan_one("port", elsewhere, wanted, seen).action is Action.DELETE_THEN_CREATE


def fip(association: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "name": None,
        "floating_network_id": "public",
        "association": association,
        "description": "",
        "tags": [],
    }


def test_a_floating_ip_moves_in_place_and_changes_network_by_replacement() -> None:
    on_a = fip({"server_id": "srv-a", "fixed_ip": None})
    seen = fip({"port_id": "p-a", "fixed_ip": "10.1.0.5", "server_id": "srv-a"})
    assert plan_one("floating_ip", on_a, on_a, seen).action is Action.NO_OP
    on_b = fip({"server_id": "srv-b", "fixed_ip": None})
    assert plan_one("floating_ip", on_b, on_a, seen).action is Action.UPDATE
    loose = fip(None)  # disassociated by hand: drift, put back in place
    change = plan_one("floating_ip", on_a, on_a, {**seen, "association": None})
    assert change.action is Action.UPDATE and "association" in change.drift
    other = {**on_a, "floating_network_id": "public-2"}
    assert plan_one("floating_ip", other, on_a, seen).action is Action.DELETE_THEN_CREATE
    assert plan_one("floating_ip", loose, loose, {**seen, "association": None}).action is (
        Action.NO_OP
    )


def server(networks: Any, groups: list[str] | None = None) -> dict[str, Any]:
    return {
        "name": "web",
        "image_id": "img",
        "flavor_id": "1",
        "key_name": None,
        "networks": networks,
        "security_groups": groups,
        "metadata": {},
        "user_data": None,
        "availability_zone": None,
        "image_update": "replace",
    }


def interface(port: str, network: str, *ips: str) -> dict[str, Any]:
    return {"port_id": port, "network_id": network, "fixed_ips": list(ips)}


def server_seen(*nics: dict[str, Any], groups: list[str] | None = None) -> dict[str, Any]:
    attrs = {k: v for k, v in server(list(nics)).items() if k != "user_data"}
    return {**attrs, "security_groups": groups or [], "user_data_sha256": None}


def test_a_network_added_to_a_server_attaches_in_place() -> None:
    one = [{"network_id": "n-1", "fixed_ip": None}]
    two = [*one, {"network_id": "n-2", "fixed_ip": "10.2.0.5"}]
    seen = server_seen(interface("p-1", "n-1", "10.1.0.4"))
    assert plan_one("server", server(one), server(one), seen).action is Action.NO_OP
    change = plan_one("server", server(two), server(one), seen)
    assert change.action is Action.UPDATE and change.changed_paths == ("networks",)


def test_interfaces_match_in_any_order_and_ports_by_id() -> None:
    kind = KINDS["server"]
    wanted = [{"port_id": "p-vip"}, {"network_id": "n-1", "fixed_ip": None}]
    seen = [interface("p-other", "n-1", "10.1.0.8"), interface("p-vip", "n-1", "10.1.0.100")]
    assert kind.same("networks", wanted, seen) is True
    # The named port cannot stand in for the network entry too.
    assert kind.same("networks", wanted, seen[1:]) is False
    assert kind.same("networks", [{"network_id": "n-1", "fixed_ip": "10.1.0.9"}], seen[:1]) is (
        False
    )
    assert kind.same("networks", None, seen) is True  # the cloud's choice
    assert kind.same("networks", "auto", []) is True
    assert kind.same("networks", "none", seen) is False
    assert kind.same("networks", "none", []) is True


def test_server_groups_compare_as_a_set() -> None:
    nic = [{"network_id": "n-1", "fixed_ip": None}]
    seen = server_seen(interface("p-1", "n-1", "10.1.0.4"), groups=["sg-b", "sg-a"])
    wanted = server(nic, ["sg-a", "sg-b"])
    assert plan_one("server", wanted, wanted, seen).action is Action.NO_OP
    fewer = server(nic, ["sg-a"])
    change = plan_one("server", fewer, wanted, seen)
    assert change.action is Action.UPDATE and change.changed_paths == ("security_groups",)


def test_a_rule_change_shows_the_rules_that_go_and_come() -> None:
    from stackplan.plan.render import attribute_lines

    ssh, web = rule(), rule(port_range_min=443, port_range_max=443, remote_group_id="sg-lb")
    change = plan_one("security_group", group([ssh, web]), group([ssh]), group([ssh]))
    (line,) = attribute_lines(change)
    assert line.before == "none removed"
    assert line.after == 'added ["ingress IPv4 tcp 443 from group sg-lb"] (1 unchanged)'
    own = rule(remote_group_id="${security_group.web.id}", port_range_min=80, port_range_max=90)
    assert KINDS["security_group"].items("rules", [own]) == [
        "ingress IPv4 tcp 80-90 from group web"
    ]
