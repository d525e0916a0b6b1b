"""Routers (gateway, interfaces) and floating IPs, with the 409s that make teardown
order matter: interfaces before the router, floating IPs before their interface."""

from __future__ import annotations

from tests.integration.sim.neutron.conftest import error


def _interface(demo, router_id, **info):
    return demo.put(f"/routers/{router_id}/add_router_interface", info)


def test_router_gateway_on_the_external_network(demo, public, admin):
    router = demo.create("router", name="r1", external_gateway_info={"network_id": public["id"]})
    gateway = router["external_gateway_info"]
    assert router["status"] == "ACTIVE" and gateway["enable_snat"] is True
    (ip,) = gateway["external_fixed_ips"]
    assert ip["ip_address"].startswith("172.24.4.") and ip["ip_address"] != "172.24.4.1"
    gw_ports = admin.listing("ports", device_id=router["id"])
    assert [(p["device_owner"], p["project_id"]) for p in gw_ports] == [
        ("network:router_gateway", "")
    ]
    cleared = demo.put(f"/routers/{router['id']}", {"router": {"external_gateway_info": {}}})
    assert cleared.json()["router"]["external_gateway_info"] is None
    assert admin.listing("ports", device_id=router["id"]) == []
    (private,) = demo.listing("networks", name="private")
    body = {"router": {"external_gateway_info": {"network_id": private["id"]}}}
    assert error(demo.put(f"/routers/{router['id']}", body), 400) == (
        "BadRequest",
        f"Bad router request: Network {private['id']} is not an external network.",
    )
    snat = {"router": {"external_gateway_info": {"network_id": public["id"], "enable_snat": False}}}
    assert error(demo.put(f"/routers/{router['id']}", snat), 403)[1] == (
        "(rule:update_router and (rule:update_router:external_gateway_info and "
        "(rule:update_router:external_gateway_info:network_id and "
        "rule:update_router:external_gateway_info:enable_snat))) is disallowed by policy"
    )


def test_interfaces_by_subnet_and_by_port(demo):
    net, sub = demo.network_with_subnet("10.80.0.0/24")
    router = demo.create("router", name="r")
    resp = _interface(demo, router["id"], subnet_id=sub["id"])
    assert resp.status_code == 200
    info = resp.json()
    assert info["id"] == router["id"] and info["subnet_ids"] == [sub["id"]]
    assert info["subnet_id"] == sub["id"] and info["network_id"] == net["id"]
    port = demo.show("ports", info["port_id"])
    assert port["device_owner"] == "network:router_interface" and port["device_id"] == router["id"]
    assert port["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.80.0.1"}]
    assert port["security_groups"] == [] and port["project_id"] == demo.project_id
    assert error(_interface(demo, router["id"], subnet_id=sub["id"]), 400)[1] == (
        f"Bad router request: Router already has a port on subnet {sub['id']}."
    )
    other = demo.create("router", name="other")
    assert error(_interface(demo, other["id"], subnet_id=sub["id"]), 409) == (
        "IpAddressAlreadyAllocated",
        f"IP address 10.80.0.1 already allocated in subnet {sub['id']}",
    )
    net2, _sub2 = demo.network_with_subnet("10.81.0.0/24")
    free = demo.create("port", network_id=net2["id"])
    by_port = _interface(demo, router["id"], port_id=free["id"])
    assert by_port.status_code == 200 and by_port.json()["port_id"] == free["id"]
    attached = demo.show("ports", free["id"])
    assert attached["device_owner"] == "network:router_interface"
    assert error(_interface(demo, other["id"], port_id=free["id"]), 409)[0] == "PortInUse"
    assert error(_interface(demo, router["id"]), 400)[1] == (
        "Bad router request: Either subnet_id or port_id must be specified."
    )
    both = _interface(demo, router["id"], port_id=free["id"], subnet_id=sub["id"])
    assert error(both, 400)[1] == "Bad router request: Cannot specify both subnet-id and port-id."
    _overlapping_net, overlapping = demo.network_with_subnet("10.80.0.0/25")
    message = error(_interface(demo, router["id"], subnet_id=overlapping["id"]), 400)[1]
    assert message.startswith("Bad router request: Cidr 10.80.0.0/25 of subnet")
    missing = "3d1e0f4c-2b5a-4c6d-8e9f-000000000000"
    assert error(_interface(demo, missing, subnet_id=sub["id"]), 404) == (
        "RouterNotFound",
        f"Router {missing} could not be found",
    )


def test_router_in_use_then_remove_interfaces(demo):
    net, sub = demo.network_with_subnet("10.82.0.0/24")
    router = demo.create("router", name="r")
    port_id = _interface(demo, router["id"], subnet_id=sub["id"]).json()["port_id"]
    assert error(demo.delete(f"/routers/{router['id']}"), 409) == (
        "RouterInUse",
        f"Router {router['id']} has ports still attached: {port_id}",
    )
    assert error(demo.delete(f"/subnets/{sub['id']}"), 409)[0] == "SubnetInUse"
    assert error(demo.delete(f"/networks/{net['id']}"), 409)[0] == "NetworkInUse"
    remove = f"/routers/{router['id']}/remove_router_interface"
    resp = demo.put(remove, {"subnet_id": sub["id"]})
    assert resp.status_code == 200 and resp.json()["port_id"] == port_id
    error(demo.get(f"/ports/{port_id}"), 404)
    assert error(demo.put(remove, {"subnet_id": sub["id"]}), 404) == (
        "RouterInterfaceNotFoundForSubnet",
        f"Router {router['id']} has no interface on subnet {sub['id']}",
    )
    assert error(demo.put(remove, {"port_id": port_id}), 404)[0] == "RouterInterfaceNotFound"
    port_id = _interface(demo, router["id"], subnet_id=sub["id"]).json()["port_id"]
    assert demo.put(remove, {"port_id": port_id}).status_code == 200
    for path in (f"/routers/{router['id']}", f"/subnets/{sub['id']}", f"/networks/{net['id']}"):
        assert demo.delete(path).status_code == 204


def _topology(demo, public, cidr):
    net, sub = demo.network_with_subnet(cidr)
    router = demo.create("router", external_gateway_info={"network_id": public["id"]})
    _interface(demo, router["id"], subnet_id=sub["id"])
    port = demo.create("port", network_id=net["id"])
    return net, sub, router, port


def test_floating_ip_lifecycle(demo, public):
    net, _sub, router, port = _topology(demo, public, "10.83.0.0/24")
    fip = demo.create("floatingip", floating_network_id=public["id"])
    assert fip["floating_ip_address"].startswith("172.24.4.")
    assert (fip["status"], fip["port_id"], fip["router_id"]) == ("DOWN", None, None)
    resp = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": port["id"]}})
    assert resp.status_code == 200, resp.text
    bound = resp.json()["floatingip"]
    assert bound["status"] == "ACTIVE" and bound["router_id"] == router["id"]
    assert bound["fixed_ip_address"] == port["fixed_ips"][0]["ip_address"]
    assert bound["floating_ip_address"] == fip["floating_ip_address"]
    assert bound["port_details"]["network_id"] == net["id"]
    other = demo.create("port", network_id=net["id"])
    moved = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": other["id"]}})
    assert moved.json()["floatingip"]["port_id"] == other["id"]
    gone = demo.put(f"/floatingips/{fip['id']}", {"floatingip": {"port_id": None}})
    released = gone.json()["floatingip"]
    assert (released["status"], released["port_id"], released["router_id"]) == ("DOWN", None, None)
    assert released["floating_ip_address"] == fip["floating_ip_address"]
    at_create = demo.create("floatingip", floating_network_id=public["id"], port_id=port["id"])
    assert at_create["status"] == "ACTIVE"
    assert demo.delete(f"/ports/{port['id']}").status_code == 204  # disassociates
    assert demo.show("floatingips", at_create["id"])["port_id"] is None
    assert demo.delete(f"/floatingips/{fip['id']}").status_code == 204
    error(demo.get(f"/floatingips/{fip['id']}"), 404)


def test_floating_ip_needs_a_router_to_the_port(demo, public):
    net, sub = demo.network_with_subnet("10.84.0.0/24")
    port = demo.create("port", network_id=net["id"])
    body = {"floatingip": {"floating_network_id": public["id"], "port_id": port["id"]}}
    assert error(demo.post("/floatingips", body), 404) == (
        "ExternalGatewayForFloatingIPNotFound",
        f"External network {public['id']} is not reachable from subnet {sub['id']}.  "
        f"Therefore, cannot associate Port {port['id']} with a Floating IP.",
    )
    (private,) = demo.listing("networks", name="private")
    body = {"floatingip": {"floating_network_id": private["id"]}}
    assert error(demo.post("/floatingips", body), 400)[1] == (
        f"Bad floatingip request: Network {private['id']} is not a valid external network."
    )
    taken = {
        "floatingip": {"floating_network_id": public["id"], "floating_ip_address": "172.24.4.9"}
    }
    assert error(demo.post("/floatingips", taken), 403)[1] == (
        "(rule:create_floatingip and rule:create_floatingip:floating_ip_address) "
        "is disallowed by policy"
    )


def test_teardown_order_floating_ip_interface_router(demo, public):
    net, sub, router, port = _topology(demo, public, "10.85.0.0/24")
    fip = demo.create("floatingip", floating_network_id=public["id"], port_id=port["id"])
    remove = f"/routers/{router['id']}/remove_router_interface"
    assert error(demo.put(remove, {"subnet_id": sub["id"]}), 409) == (
        "RouterInterfaceInUseByFloatingIP",
        f"Router interface for subnet {sub['id']} on router {router['id']} cannot be deleted, "
        "as it is required by one or more floating IPs.",
    )
    clear_gw = {"router": {"external_gateway_info": None}}
    assert error(demo.put(f"/routers/{router['id']}", clear_gw), 409)[0] == (
        "RouterExternalGatewayInUseByFloatingIp"
    )
    assert error(demo.delete(f"/routers/{router['id']}"), 409)[0] == "RouterInUse"
    assert demo.delete(f"/floatingips/{fip['id']}").status_code == 204
    assert demo.put(remove, {"subnet_id": sub["id"]}).status_code == 200
    assert demo.delete(f"/routers/{router['id']}").status_code == 204
    assert demo.delete(f"/ports/{port['id']}").status_code == 204
    assert demo.delete(f"/networks/{net['id']}").status_code == 204


def test_seeded_router_serves_floating_ips_for_private(demo, public):
    (private,) = demo.listing("networks", name="private")
    port = demo.create("port", network_id=private["id"])
    fip = demo.create("floatingip", floating_network_id=public["id"], port_id=port["id"])
    (router1,) = demo.listing("routers", name="router1")
    assert fip["router_id"] == router1["id"]


def test_admin_picks_a_floating_ip_address(admin, public):
    fip = admin.create(
        "floatingip", floating_network_id=public["id"], floating_ip_address="172.24.4.99"
    )
    assert fip["floating_ip_address"] == "172.24.4.99" and fip["project_id"] == admin.project_id
    again = {
        "floatingip": {"floating_network_id": public["id"], "floating_ip_address": "172.24.4.99"}
    }
    assert error(admin.post("/floatingips", again), 409)[0] == "IpAddressAlreadyAllocated"
    (port,) = admin.listing("ports", device_id=fip["id"])
    assert (port["device_owner"], port["status"], port["project_id"]) == (
        "network:floatingip",
        "N/A",
        "",
    )


def test_routers_show_zones_flavor_and_routes(demo):
    """router_availability_zone, l3-flavors and extraroute as a Neutron without L3
    agents or router flavors shows them: any zone or flavor named is unknown."""
    router = demo.create("router", name="plain")
    assert (router["availability_zone_hints"], router["availability_zones"]) == ([], [])
    assert (router["flavor_id"], router["routes"]) == (None, [])
    (listed,) = demo.listing("routers", name="plain", sort_key="flavor_id", sort_dir="asc")
    assert listed["routes"] == [] and listed["flavor_id"] is None
    for flavor in ("abc", None):  # null too: Neutron looks the flavor "None" up
        assert error(demo.post("/routers", {"router": {"flavor_id": flavor}}), 404) == (
            "FlavorNotFound",
            f"Flavor {flavor} could not be found.",
        )
    hints = {"router": {"availability_zone_hints": ["x"]}}
    assert error(demo.post("/routers", hints), 404)[1] == "AvailabilityZone x could not be found."
    flavor = {"router": {"flavor_id": None}}
    assert error(demo.put(f"/routers/{router['id']}", flavor), 400)[1] == (
        "Cannot update read-only attribute flavor_id"
    )
