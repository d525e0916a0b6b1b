"""Networks and subnets: bodies, policy, IPAM defaults and checks, updates, in-use 409s."""

from __future__ import annotations

from tests.integration.sim.neutron.conftest import error, uniq


def test_network_create_show_update_delete(demo):
    net = demo.create("network", name="n1", description="d")
    assert net["status"] == "ACTIVE" and net["admin_state_up"] is True
    assert net["mtu"] == 1450 and net["port_security_enabled"] is True
    assert net["shared"] is False and net["router:external"] is False
    assert net["subnets"] == [] and net["tags"] == []
    assert net["project_id"] == net["tenant_id"] == demo.project_id
    assert net["revision_number"] == 1 and net["created_at"].endswith("Z")
    resp = demo.put(f"/networks/{net['id']}", {"network": {"name": "n2", "mtu": 1400}})
    assert resp.status_code == 200
    updated = resp.json()["network"]
    assert (updated["name"], updated["mtu"], updated["revision_number"]) == ("n2", 1400, 2)
    assert demo.delete(f"/networks/{net['id']}").status_code == 204
    error(demo.get(f"/networks/{net['id']}"), 404)


def test_network_bodies_are_checked_as_neutron_does(demo):
    assert error(demo.post("/networks", {"network": {"nope": 1}}), 400) == (
        "HTTPBadRequest",
        "Unrecognized attribute(s) 'nope'",
    )
    assert error(demo.post("/networks", {"network": {"tags": ["a"]}}), 400)[1] == (
        "Attribute 'tags' not allowed in POST"
    )
    assert error(demo.post("/networks", {}), 400)[1] == "Unable to find 'network' in request body"
    assert error(demo.post("/networks", {"network": {"admin_state_up": "maybe"}}), 400) == (
        "InvalidInput",
        "Invalid input for operation: 'maybe' cannot be converted to boolean.",
    )
    assert error(demo.post("/networks", {"network": {"mtu": 9000}}), 400)[1] == (
        "Invalid input for operation: Requested MTU is too big, maximum is 1450."
    )
    net = demo.create("network")
    assert error(demo.put(f"/networks/{net['id']}", {"network": {"status": "DOWN"}}), 400)[1] == (
        "Cannot update read-only attribute status"
    )
    resp = demo.call("POST", "/networks", data=b"{not json")
    assert error(resp, 400)[1] == "Body contains invalid data"


def test_members_cannot_share_or_externalize(demo, admin):
    assert error(demo.post("/networks", {"network": {"shared": True}}), 403) == (
        "PolicyNotAuthorized",
        "(rule:create_network and rule:create_network:shared) is disallowed by policy",
    )
    net = demo.create("network")
    _kind, message = error(
        demo.put(f"/networks/{net['id']}", {"network": {"router:external": True}}), 403
    )
    assert (
        message
        == "(rule:update_network and rule:update_network:router:external) is disallowed by policy"
    )
    shared = admin.create("network", shared=True)
    assert shared["shared"] is True
    assert error(demo.delete(f"/networks/{shared['id']}"), 403)[1] == (
        "rule:delete_network is disallowed by policy"
    )


def test_bulk_network_create(demo):
    resp = demo.post("/networks", {"networks": [{"name": "b1"}, {"name": "b2"}]})
    assert resp.status_code == 201
    assert [n["name"] for n in resp.json()["networks"]] == ["b1", "b2"]


def test_subnet_defaults_gateway_first_address_and_pools_the_rest(demo):
    net, sub = demo.network_with_subnet("10.20.0.0/24", dns_nameservers=["8.8.8.8"])
    assert sub["gateway_ip"] == "10.20.0.1"
    assert sub["allocation_pools"] == [{"start": "10.20.0.2", "end": "10.20.0.254"}]
    assert sub["enable_dhcp"] is True and sub["dns_nameservers"] == ["8.8.8.8"]
    assert sub["host_routes"] == [] and sub["ip_version"] == 4 and sub["subnetpool_id"] is None
    assert demo.show("networks", net["id"])["subnets"] == [sub["id"]]
    no_gw = demo.create(
        "subnet", network_id=net["id"], ip_version=4, cidr="10.21.0.0/29", gateway_ip=None
    )
    assert no_gw["gateway_ip"] is None
    assert no_gw["allocation_pools"] == [{"start": "10.21.0.1", "end": "10.21.0.6"}]
    host = demo.create("subnet", network_id=net["id"], ip_version=4, cidr="10.22.0.5/24")
    assert host["cidr"] == "10.22.0.0/24"  # Neutron keeps the network, not the host bits
    v6 = demo.create("subnet", network_id=net["id"], ip_version=6, cidr="fd00:1::/64")
    assert v6["gateway_ip"] == "fd00:1::" and v6["allocation_pools"][0]["start"] == "fd00:1::1"


def test_subnet_pool_and_gateway_checks(demo):
    net = demo.create("network")

    def attempt(**body):
        full = {"network_id": net["id"], "ip_version": 4, "cidr": "10.30.0.0/24", **body}
        full = {k: v for k, v in full.items() if v != "omit"}
        return demo.post("/subnets", {"subnet": full})

    pool = [{"start": "10.31.0.2", "end": "10.31.0.9"}]
    assert error(attempt(allocation_pools=pool), 400) == (
        "OutOfBoundsAllocationPool",
        "The allocation pool 10.31.0.2-10.31.0.9 spans beyond the subnet cidr 10.30.0.0/24.",
    )
    with_gw = [{"start": "10.30.0.1", "end": "10.30.0.9"}]
    assert error(attempt(allocation_pools=with_gw), 409) == (
        "GatewayConflictWithAllocationPools",
        "Gateway ip 10.30.0.1 conflicts with allocation pool 10.30.0.1-10.30.0.9.",
    )
    two = [{"start": "10.30.0.5", "end": "10.30.0.9"}, {"start": "10.30.0.8", "end": "10.30.0.20"}]
    assert error(attempt(allocation_pools=two), 409)[0] == "OverlappingAllocationPools"
    backwards = [{"start": "10.30.0.9", "end": "10.30.0.5"}]
    assert error(attempt(allocation_pools=backwards), 400)[0] == "InvalidAllocationPool"
    assert error(attempt(cidr="10.30.0.0/33"), 400)[1] == (
        "Invalid input for operation: 10.30.0.0/33 is not in a CIDR format."
    )
    assert error(attempt(ip_version=6), 400)[1] == (
        "Invalid input for operation: cidr '10.30.0.0/24' does not match the ip_version '6'."
    )
    assert error(attempt(gateway_ip="10.30.0.255"), 400)[1] == (
        "Invalid input for operation: Gateway is not valid on subnet."
    )
    assert error(attempt(cidr="10.30.0.0/31"), 400)[1] == (
        "Invalid input for operation: Subnet has a prefix length that is incompatible with "
        "DHCP service enabled."
    )
    assert error(attempt(cidr=None), 400)[1] == (
        "Invalid input for operation: None is not in a CIDR format."
    )
    assert error(attempt(cidr="omit"), 400)[1] == (
        "Bad subnets request: a subnetpool must be specified in the absence of a cidr."
    )
    assert (
        attempt(allocation_pools=[{"start": "10.30.0.10", "end": "10.30.0.20"}]).status_code == 201
    )
    kind, message = error(attempt(cidr="10.30.0.128/25"), 400)
    assert kind == "InvalidInput" and message == (
        f"Invalid input for operation: Requested subnet with cidr: 10.30.0.128/25 for network: "
        f"{net['id']} overlaps with another subnet."
    )


def test_subnet_updates_in_place_and_read_only_fields(demo):
    _, sub = demo.network_with_subnet("10.40.0.0/24")
    changes = {
        "name": "renamed",
        "gateway_ip": "10.40.0.254",
        "dns_nameservers": ["1.1.1.1", "9.9.9.9"],
        "allocation_pools": [{"start": "10.40.0.10", "end": "10.40.0.100"}],
        "host_routes": [{"destination": "192.168.0.0/16", "nexthop": "10.40.0.5"}],
        "enable_dhcp": False,
    }
    resp = demo.put(f"/subnets/{sub['id']}", {"subnet": changes})
    assert resp.status_code == 200, resp.text
    updated = resp.json()["subnet"]
    for key, value in changes.items():
        assert updated[key] == value, key
    assert updated["id"] == sub["id"] and updated["revision_number"] == sub["revision_number"] + 1
    for field, value in (("cidr", "10.41.0.0/24"), ("ip_version", 6), ("network_id", sub["id"])):
        message = error(demo.put(f"/subnets/{sub['id']}", {"subnet": {field: value}}), 400)[1]
        assert message == f"Cannot update read-only attribute {field}"
    inside = {"allocation_pools": [{"start": "10.40.0.250", "end": "10.40.0.254"}]}
    assert error(demo.put(f"/subnets/{sub['id']}", {"subnet": inside}), 409)[0] == (
        "GatewayConflictWithAllocationPools"
    )


def test_subnet_in_use_then_network_in_use_order(demo):
    net, sub = demo.network_with_subnet("10.50.0.0/24")
    port = demo.create("port", network_id=net["id"])
    assert error(demo.delete(f"/subnets/{sub['id']}"), 409) == (
        "SubnetInUse",
        f"Unable to complete operation on subnet {sub['id']}: One or more ports have an IP "
        "allocation from this subnet.",
    )
    assert error(demo.delete(f"/networks/{net['id']}"), 409) == (
        "NetworkInUse",
        f"Unable to complete operation on network {net['id']}. There are one or more ports "
        f"still in use on the network, id for these ports is: {port['id']}.",
    )
    assert demo.delete(f"/ports/{port['id']}").status_code == 204
    assert demo.delete(f"/subnets/{sub['id']}").status_code == 204
    assert demo.show("networks", net["id"])["subnets"] == []
    assert demo.delete(f"/networks/{net['id']}").status_code == 204


def test_network_delete_takes_its_subnets_and_dhcp_ports(demo):
    net, sub = demo.network_with_subnet("10.51.0.0/24")
    demo.create("port", network_id=net["id"], device_owner="network:dhcp")
    assert demo.delete(f"/networks/{net['id']}").status_code == 204
    error(demo.get(f"/subnets/{sub['id']}"), 404)
    assert demo.listing("ports", network_id=net["id"]) == []


def test_member_subnet_on_someone_elses_network_is_forbidden(demo, admin):
    shared = admin.create("network", shared=True, name=uniq("sh"))
    body = {"subnet": {"network_id": shared["id"], "ip_version": 4, "cidr": "10.60.0.0/24"}}
    assert (
        error(demo.post("/subnets", body), 403)[1] == "rule:create_subnet is disallowed by policy"
    )
    missing = {"subnet": {**body["subnet"], "network_id": "00000000-0000-4000-8000-000000000000"}}
    assert error(demo.post("/subnets", missing), 404)[0] == "NetworkNotFound"


def test_networks_show_zones_scopes_and_the_default_external_flag(demo, admin, public):
    """network_availability_zone, address-scope and auto-allocated-topology as a Neutron
    without agents or pools shows them: `is_default` on external networks and in create
    answers, the seeded `public` the default (as devstack makes it)."""
    assert public["is_default"] is True
    net = demo.create("network")
    assert net["is_default"] is False  # the create answer reflects the request
    for shown in (net, demo.show("networks", net["id"])):
        assert (shown["availability_zone_hints"], shown["availability_zones"]) == ([], [])
        assert (shown["ipv4_address_scope"], shown["ipv6_address_scope"]) == (None, None)
    assert "is_default" not in demo.show("networks", net["id"])
    renamed = demo.put(f"/networks/{net['id']}", {"network": {"name": "n"}}).json()["network"]
    assert "is_default" not in renamed
    assert demo.create("network", is_default=False)["is_default"] is False  # the default
    assert error(demo.post("/networks", {"network": {"is_default": True}}), 403)[1] == (
        "(rule:create_network and rule:create_network:is_default) is disallowed by policy"
    )
    body = {"network": {"shared": True, "port_security_enabled": False, "is_default": True}}
    assert error(demo.post("/networks", body), 403)[1] == (
        "(((rule:create_network and rule:create_network:shared) and "
        "rule:create_network:port_security_enabled) and rule:create_network:is_default) "
        "is disallowed by policy"
    )
    assert (
        error(demo.put(f"/networks/{net['id']}", {"network": {"is_default": False}}), 403)[1]
        == "(rule:update_network and rule:update_network:is_default) is disallowed by policy"
    )
    listed = demo.listing("networks", is_default="true")  # converted, then not applied
    assert {n["id"] for n in listed} == {n["id"] for n in demo.listing("networks")}
    assert error(demo.get("/networks", is_default="maybe"), 400)[0] == "InvalidInput"


def test_one_default_external_network_and_no_zones(demo, admin, public):
    body = {"network": {"router:external": True, "is_default": True}}
    assert error(admin.post("/networks", body), 409) == (
        "DefaultExternalNetworkExists",
        f"A default external network already exists: {public['id']}.",
    )
    ext = admin.create("network", **{"router:external": True})
    assert ext["is_default"] is False and admin.show("networks", ext["id"])["is_default"] is False
    flag = {"network": {"is_default": True}}
    assert error(admin.put(f"/networks/{ext['id']}", flag), 409)[0] == (
        "DefaultExternalNetworkExists"
    )
    unflag = {"network": {"is_default": False}}
    assert admin.put(f"/networks/{public['id']}", unflag).json()["network"]["is_default"] is False
    assert admin.put(f"/networks/{ext['id']}", flag).json()["network"]["is_default"] is True
    internal = admin.put(f"/networks/{ext['id']}", {"network": {"router:external": False}})
    assert "is_default" not in internal.json()["network"]
    again = admin.put(f"/networks/{ext['id']}", {"network": {"router:external": True}})
    assert again.json()["network"]["is_default"] is False  # the flag went with the row
    # no DHCP agent reports a zone: every hint is unknown, and hints are set at create only
    zoned = {"network": {"availability_zone_hints": ["nova"]}}
    assert error(demo.post("/networks", zoned), 404) == (
        "AvailabilityZoneNotFound",
        "AvailabilityZone nova could not be found.",
    )
    assert error(demo.post("/networks", {"network": {"availability_zone_hints": "x"}}), 400)[1] == (
        "Invalid input for availability_zone_hints. Reason: 'x' is not a list."
    )
    net = demo.create("network", availability_zone_hints=[])
    hints = {"network": {"availability_zone_hints": []}}
    assert error(demo.put(f"/networks/{net['id']}", hints), 400)[1] == (
        "Cannot update read-only attribute availability_zone_hints"
    )
    assert error(demo.post("/networks", {"network": {"ipv4_address_scope": None}}), 400)[1] == (
        "Attribute 'ipv4_address_scope' not allowed in POST"
    )


def test_subnets_show_no_service_types(demo):
    _net, sub = demo.network_with_subnet("10.29.0.0/24")
    assert sub["service_types"] == []
    assert demo.show("subnets", sub["id"])["service_types"] == []
