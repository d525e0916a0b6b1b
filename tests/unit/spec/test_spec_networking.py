"""The networking kinds' spec half: what their entries expand to, the problems they report
at the field's line, and the edges their references make (mutual rules are no cycle)."""

from __future__ import annotations

import pytest

from stackplan.addr import Address
from stackplan.errors import SpecError
from stackplan.spec.graph import dependency_graph

THREE_TIER = """\
stack: tiers
networks:
  app: {}
subnets:
  app: {network: app, cidr: 10.1.0.7/24, dns_nameservers: [1.1.1.1]}
routers:
  edge: {external_network: public, interfaces: [app]}
security_groups:
  web:
    rules:
      - {protocol: tcp, port: 443}
      - {protocol: tcp, port: 22, remote_ip_prefix: 10.0.0.0/8}
      - {protocol: tcp, port: 8000-8100, remote_group: web}
  db:
    delete_default_rules: true
    rules:
      - {protocol: tcp, port: 5432, remote_group: web}
ports:
  vip:
    network: app
    fixed_ips: [{subnet: app, ip_address: 10.1.0.10}]
    security_groups: [web]
servers:
  bastion:
    image: cirros
    flavor: m1.tiny
    networks: [{network: app}]
    security_groups: [web]
  lb:
    image: cirros
    flavor: m1.tiny
    networks: [{port: vip}]
floating_ips:
  bastion: {network: public, server: bastion}
  vip: {network: public, port: vip}
"""


def _by_address(desired) -> dict[str, dict]:
    return {str(r.address): dict(r.attrs) for r in desired.resources}


def test_the_three_tiers_expand(load) -> None:
    found = _by_address(load(THREE_TIER))
    assert found["subnet.app"]["cidr"] == "10.1.0.0/24"  # Neutron's form of it
    assert found["subnet.app"]["network_id"] == "${network.app.id}"
    router = found["router.edge"]
    assert router["interfaces"] == ["${subnet.app.id}"]
    assert router["external_network_id"]["name"] == "public"  # the cloud's, resolved later
    assert found["port.vip"]["fixed_ips"] == [
        {"subnet_id": "${subnet.app.id}", "ip_address": "10.1.0.10"}
    ]
    assert found["server.bastion"]["networks"] == [
        {"network_id": "${network.app.id}", "fixed_ip": None}
    ]
    assert found["server.bastion"]["security_groups"] == ["${security_group.web.id}"]
    assert found["server.lb"]["networks"] == [{"port_id": "${port.vip.id}"}]
    assert found["floating_ip.bastion"]["association"] == {
        "server_id": "${server.bastion.id}",
        "fixed_ip": None,
    }


def test_rules_are_a_set_with_neutrons_egress_defaults(load) -> None:
    found = _by_address(load(THREE_TIER))
    web = found["security_group.web"]["rules"]
    egress = [r for r in web if r["direction"] == "egress"]
    assert [r["ethertype"] for r in egress] == ["IPv4", "IPv6"]
    assert all(r["protocol"] is None and r["remote_ip_prefix"] is None for r in egress)
    ranged = next(r for r in web if r["port_range_min"] == 8000)
    assert ranged["port_range_max"] == 8100 and ranged["remote_group_id"] == (
        "${security_group.web.id}"
    )
    db = found["security_group.db"]["rules"]
    assert [r["direction"] for r in db] == ["ingress"]  # delete_default_rules: true


def test_references_are_edges_and_rules_naming_groups_are_late(load) -> None:
    desired = load(THREE_TIER)
    graph = dependency_graph(desired)
    edges = {(str(a), str(b)) for a, b in graph.edges}
    # FIP -> server -> port -> subnet -> network; a FIP also needs its network's router.
    for edge in [
        ("floating_ip.bastion", "server.bastion"),
        ("floating_ip.bastion", "router.edge"),
        ("floating_ip.vip", "port.vip"),
        ("server.lb", "port.vip"),
        ("server.bastion", "subnet.app"),  # its port takes an address from the subnet
        ("port.vip", "subnet.app"),
        ("router.edge", "subnet.app"),
        ("subnet.app", "network.app"),
        ("server.bastion", "security_group.web"),
    ]:
        assert edge in edges, edge
    db = next(r for r in desired.resources if r.address == Address("security_group", "db"))
    assert db.depends_on == () and db.late_depends_on == (Address("security_group", "web"),)


def test_groups_that_name_each_other_are_no_cycle(load) -> None:
    desired = load(
        """\
        security_groups:
          web: {rules: [{protocol: tcp, port: 80, remote_group: db}]}
          db: {rules: [{protocol: tcp, port: 5432, remote_group: web}]}
        """
    )
    assert {str(r.address) for r in desired.resources} == {
        "security_group.web",
        "security_group.db",
    }


@pytest.mark.parametrize(
    ("entry", "field", "words"),
    [
        ("subnets:\n  s: {network: n, cidr: banana}\n", "cidr", "is not a CIDR"),
        ("subnets:\n  s: {network: n, cidr: 10.0.0.0/24, ip_version: 6}\n", "ip_version", "IPv4"),
        (
            "security_groups:\n  g: {rules: [{protocol: icmp, port: 22}]}\n",
            "rules",
            "needs tcp or udp",
        ),
        (
            "security_groups:\n  g: {rules: [{protocol: gre2}]}\n",
            "rules",
            "is not tcp, udp, icmp",
        ),
        ("floating_ips:\n  f: {network: public, fixed_ip: 10.0.0.5}\n", "fixed_ip", "goes with"),
        (
            "ports:\n  p: {network: private}\nservers:\n  s: {image: i, flavor: f, "
            "security_groups: [web], networks: [{port: p}]}\n",
            "security_groups",
            "keeps its own, which win",
        ),
    ],
)
def test_bad_entries_are_reported_at_their_field(load, entry, field, words) -> None:
    with pytest.raises(SpecError) as err:
        load(entry)
    text = str(err.value)
    assert f".{field}" in text and words in text, text


@pytest.mark.parametrize(
    ("networks", "words"),
    [
        ('"some"', "must be one of: auto, none"),
        ("[{network: a, port: b}]", "{network: N}"),
        ("[{port: p, fixed_ip: 10.0.0.1}]", "fixed_ip goes with network"),
    ],
)
def test_bad_network_entries_are_refused_by_the_schema(load, networks, words) -> None:
    with pytest.raises(SpecError) as err:
        load(f"servers:\n  s: {{image: i, flavor: f, networks: {networks}}}\n")
    assert words in str(err.value), str(err.value)


def test_a_server_on_a_port_cannot_be_replaced_create_before_destroy(load) -> None:
    with pytest.raises(SpecError) as err:
        load(
            "ports:\n  p: {network: private}\nservers:\n  s:\n    image: i\n    flavor: f\n"
            "    networks: [{port: p}]\n    lifecycle: {create_before_destroy: true}\n"
        )
    assert "servers.s.networks" in str(err.value) and "one server at a time" in str(err.value)
