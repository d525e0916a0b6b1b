"""Security groups and rules: the default group, starting rules, rule checks,
duplicates, cascades, and the 409s of a group in use or a member deleting `default`."""

from __future__ import annotations

from tests.integration.sim.neutron.conftest import error


def _rule(demo, group_id, **body):
    full = {"security_group_id": group_id, "direction": "ingress", **body}
    return demo.post("/security-group-rules", {"security_group_rule": full})


def test_default_group_has_neutrons_four_rules(demo):
    (default,) = demo.listing("security-groups", name="default")
    assert default["description"] == "Default security group" and default["stateful"] is True
    rules = {
        (r["direction"], r["ethertype"], r["remote_group_id"], r["protocol"], r["remote_ip_prefix"])
        for r in default["security_group_rules"]
    }
    assert rules == {
        ("egress", "IPv4", None, None, None),
        ("egress", "IPv6", None, None, None),
        ("ingress", "IPv4", default["id"], None, None),
        ("ingress", "IPv6", default["id"], None, None),
    }
    # A list builds the rules from database rows: no flag; a show from objects: true.
    assert all(r["belongs_to_default_sg"] is None for r in default["security_group_rules"])
    shown = demo.show("security-groups", default["id"])["security_group_rules"]
    assert all(r["belongs_to_default_sg"] is True for r in shown)


def test_a_new_group_starts_with_the_egress_rules(demo):
    group = demo.create("security_group", name="web", description="w")
    assert {(r["direction"], r["ethertype"]) for r in group["security_group_rules"]} == {
        ("egress", "IPv4"),
        ("egress", "IPv6"),
    }
    assert group["shared"] is False and group["tags"] == []
    listed = demo.listing("security-group-rules", security_group_id=group["id"])
    assert len(listed) == 2 and not any(r["belongs_to_default_sg"] for r in listed)
    assert error(demo.post("/security-groups", {"security_group": {"name": "Default"}}), 409) == (
        "SecurityGroupDefaultAlreadyExists",
        "Default security group already exists.",
    )
    renamed = demo.put(f"/security-groups/{group['id']}", {"security_group": {"name": "web2"}})
    assert renamed.json()["security_group"]["name"] == "web2"
    (default,) = demo.listing("security-groups", name="default")
    body = {"security_group": {"name": "other"}}
    assert error(demo.put(f"/security-groups/{default['id']}", body), 409)[0] == (
        "SecurityGroupCannotUpdateDefault"
    )


def test_rules_inside_a_group_are_shown_as_neutron_builds_them(demo):
    """Neutron's own rules have no description (null); the rules inside a group carry
    standard_attr_id and tags, the same rules listed alone do not; the flag is false in
    a create or show answer and null in a list of groups."""
    group = demo.create("security_group", name="inside")
    body = {"security_group_id": group["id"], "direction": "ingress", "protocol": "tcp"}
    made = demo.create("security_group_rule", **body)
    assert made["description"] == "" and made["belongs_to_default_sg"] is False
    assert "standard_attr_id" not in made and "tags" not in made
    rules = group["security_group_rules"]
    assert {(r["direction"], r["description"]) for r in rules} == {("egress", None)}
    assert all(r["belongs_to_default_sg"] is False and r["tags"] == [] for r in rules)
    shown = demo.show("security-groups", group["id"])["security_group_rules"]
    assert sorted(r["description"] is None for r in shown) == [False, True, True]
    ids = [r["standard_attr_id"] for r in shown]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == 3
    assert all(r["belongs_to_default_sg"] is False for r in shown)
    (listed,) = demo.listing("security-groups", name="inside")
    assert all(r["belongs_to_default_sg"] is None for r in listed["security_group_rules"])
    assert {r["standard_attr_id"] for r in listed["security_group_rules"]} == set(ids)
    alone = demo.listing("security-group-rules", security_group_id=group["id"])
    assert all("standard_attr_id" not in r and "tags" not in r for r in alone)
    assert sorted(r["description"] is None for r in alone) == [False, True, True]
    assert not any(r["belongs_to_default_sg"] for r in alone)


REJECTED = [
    (
        {"protocol": "icmp", "port_range_min": 300},
        "SecurityGroupInvalidIcmpValue",
        "Invalid value for ICMP type (port_range_min) 300. It must be 0 to 255.",
    ),
    (
        {"protocol": "icmp", "port_range_max": 3},
        "SecurityGroupMissingIcmpType",
        "ICMP code (port-range-max) 3 is provided but ICMP type (port-range-min) is missing.",
    ),
    (
        {"protocol": "tcp", "port_range_min": 90, "port_range_max": 80},
        "SecurityGroupInvalidPortRange",
        "For TCP/UDP protocols, port_range_min must be <= port_range_max",
    ),
    (
        {"port_range_min": 80, "port_range_max": 80},
        "SecurityGroupProtocolRequiredWithPorts",
        "Must also specify protocol if port range is given.",
    ),
    (
        {"protocol": "gre", "port_range_min": 1, "port_range_max": 2},
        "SecurityGroupInvalidProtocolForPort",
        "Ports cannot be specified for protocol 47. Ports are only supported for "
        "DCCP, SCTP, TCP, UDP.",
    ),
    (
        {"protocol": "tcp", "port_range_min": 70000},
        "SecurityGroupInvalidPortValue",
        "Invalid value for port 70000",
    ),
    (
        {"remote_ip_prefix": "::/0"},
        "SecurityGroupRuleParameterConflict",
        "Conflicting value ethertype IPv4 for CIDR ::/0",
    ),
    (
        {"ethertype": "IPv8"},
        "SecurityGroupRuleInvalidEtherType",
        "Security group rule for ethertype 'IPv8' not supported. Allowed values are "
        "['IPv4', 'IPv6'].",
    ),
    (
        {"direction": "sideways"},
        "HTTPBadRequest",
        "Invalid input for direction. Reason: sideways is not in valid_values.",
    ),
    (
        {"protocol": "ipv6-icmp"},
        "SecurityGroupEthertypeConflictWithProtocol",
        "Invalid ethertype IPv4 for protocol ipv6-icmp.",
    ),
]


def test_rules_are_checked_like_neutron(demo):
    group = demo.create("security_group", name="g")
    ssh = _rule(demo, group["id"], protocol="tcp", port_range_min=22, port_range_max=22)
    assert ssh.status_code == 201
    rule = ssh.json()["security_group_rule"]
    assert (rule["protocol"], rule["ethertype"], rule["remote_ip_prefix"]) == ("tcp", "IPv4", None)
    again = _rule(demo, group["id"], protocol="tcp", port_range_min=22, port_range_max=22)
    assert error(again, 409) == (
        "SecurityGroupRuleExists",
        f"Security group rule already exists. Rule id is {rule['id']}.",
    )
    for body, kind, message in REJECTED:
        assert error(_rule(demo, group["id"], **body), 400) == (kind, message), body
    kind, message = error(_rule(demo, group["id"], protocol="bogus"), 400)
    assert kind == "SecurityGroupRuleInvalidProtocol"
    assert message.startswith(
        "Security group rule protocol bogus not supported. Only protocol values (None, 'any', 'ah',"
    )
    both = _rule(demo, group["id"], remote_ip_prefix="10.0.0.0/8", remote_group_id=group["id"])
    assert error(both, 400)[1] == (
        "Only one of remote_ip_prefix or remote_group_id or remote_address_group_id "
        "may be provided."
    )
    v6 = {"ethertype": "ipv6", "remote_ip_prefix": "fd00::5/64"}
    made = _rule(demo, group["id"], protocol="17", **v6).json()["security_group_rule"]
    assert (made["protocol"], made["ethertype"]) == ("17", "IPv6")
    assert (made["remote_ip_prefix"], made["normalized_cidr"]) == ("fd00::5/64", "fd00::/64")
    same = _rule(demo, group["id"], protocol="udp", **v6)  # udp and 17 are the same rule
    assert error(same, 409)[0] == "SecurityGroupRuleExists"
    full_range = _rule(demo, group["id"], protocol="udp", port_range_min=1, port_range_max=65535)
    assert full_range.json()["security_group_rule"]["port_range_min"] is None
    missing = "1b7f0e2a-0c4d-4e5f-8a9b-000000000000"
    assert error(_rule(demo, missing), 404) == (
        "SecurityGroupNotFound",
        f"Security group {missing} does not exist",
    )
    assert demo.delete(f"/security-group-rules/{rule['id']}").status_code == 204
    gone = demo.delete(f"/security-group-rules/{rule['id']}")
    assert error(gone, 404)[0] == "SecurityGroupRuleNotFound"


def test_deleting_a_group_takes_rules_naming_it(demo):
    target = demo.create("security_group", name="target")
    other = demo.create("security_group", name="other")
    via = _rule(demo, other["id"], remote_group_id=target["id"]).json()["security_group_rule"]
    assert demo.delete(f"/security-groups/{target['id']}").status_code == 204
    error(demo.get(f"/security-group-rules/{via['id']}"), 404)
    assert len(demo.show("security-groups", other["id"])["security_group_rules"]) == 2
    assert demo.listing("security-group-rules", security_group_id=target["id"]) == []


def test_group_in_use_and_default_group_deletion(demo, admin):
    net, _ = demo.network_with_subnet("10.90.0.0/24")
    group = demo.create("security_group", name="used")
    port = demo.create("port", network_id=net["id"], security_groups=[group["id"]])
    assert error(demo.delete(f"/security-groups/{group['id']}"), 409) == (
        "SecurityGroupInUse",
        f"Security Group {group['id']} in use.",
    )
    body = {"security_group": {"stateful": False}}
    assert error(demo.put(f"/security-groups/{group['id']}", body), 409)[0] == "SecurityGroupInUse"
    assert demo.delete(f"/ports/{port['id']}").status_code == 204
    assert demo.delete(f"/security-groups/{group['id']}").status_code == 204
    (default,) = demo.listing("security-groups", name="default")
    assert error(demo.delete(f"/security-groups/{default['id']}"), 409) == (
        "SecurityGroupCannotRemoveDefault",
        "Insufficient rights for removing default security group.",
    )
    assert admin.delete(f"/security-groups/{default['id']}").status_code == 204
    (again,) = demo.listing("security-groups", name="default")  # made again on first use
    assert again["id"] == default["id"]


def test_rule_listing_filters(demo, admin):
    group = demo.create("security_group", name="f")
    _rule(demo, group["id"], protocol="tcp", port_range_min=443, port_range_max=443)
    _rule(demo, group["id"], protocol="udp", port_range_min=53, port_range_max=53)
    tcp = demo.listing("security-group-rules", security_group_id=group["id"], protocol="tcp")
    assert [r["port_range_min"] for r in tcp] == [443]
    egress = demo.listing("security-group-rules", security_group_id=group["id"], direction="egress")
    assert len(egress) == 2
    assert error(demo.get("/security-group-rules", tags="x"), 400)[1] == (
        "['tags'] is invalid attribute for filtering"
    )
    mine = {r["project_id"] for r in demo.listing("security-group-rules")}
    assert mine == {demo.project_id}
    assert group["id"] not in {
        g["id"] for g in admin.listing("security-groups", project_id=admin.project_id)
    }
