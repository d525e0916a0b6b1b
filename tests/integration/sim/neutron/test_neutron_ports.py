"""Ports: addresses from the pools (and back), MACs, security groups, port security,
allowed address pairs, updates in place, and what may not be deleted directly."""

from __future__ import annotations

import ipaddress
import re

from tests.integration.sim.neutron.conftest import Neutron, error


def test_port_defaults(demo):
    net, sub = demo.network_with_subnet("10.70.0.0/24")
    port = demo.create("port", network_id=net["id"], name="p1")
    assert re.fullmatch(r"fa:16:3e(:[0-9a-f]{2}){3}", port["mac_address"])
    assert port["status"] == "DOWN" and port["admin_state_up"] is True
    assert port["device_id"] == "" and port["device_owner"] == ""
    (ip,) = port["fixed_ips"]
    assert ip["subnet_id"] == sub["id"]
    assert ipaddress.ip_address("10.70.0.2") <= ipaddress.ip_address(ip["ip_address"])
    assert ipaddress.ip_address(ip["ip_address"]) <= ipaddress.ip_address("10.70.0.254")
    (default,) = demo.listing("security-groups", name="default")
    assert port["security_groups"] == [default["id"]]
    assert port["port_security_enabled"] is True and port["allowed_address_pairs"] == []
    no_ip = demo.create("port", network_id=net["id"], fixed_ips=[])
    assert no_ip["fixed_ips"] == []


def test_addresses_are_handed_out_from_the_pool_and_returned(demo):
    pool = [{"start": "10.71.0.10", "end": "10.71.0.12"}]
    net, sub = demo.network_with_subnet("10.71.0.0/24", allocation_pools=pool)
    ports = [demo.create("port", network_id=net["id"]) for _ in range(3)]
    taken = sorted(p["fixed_ips"][0]["ip_address"] for p in ports)
    assert taken == ["10.71.0.10", "10.71.0.11", "10.71.0.12"]
    assert error(demo.post("/ports", {"port": {"network_id": net["id"]}}), 409) == (
        "IpAddressGenerationFailure",
        f"No more IP addresses available on network {net['id']}.",
    )
    by_subnet = {"port": {"network_id": net["id"], "fixed_ips": [{"subnet_id": sub["id"]}]}}
    assert error(demo.post("/ports", by_subnet), 409)[1] == (
        f"No more IP addresses available for subnet {sub['id']}."
    )
    freed = ports[1]["fixed_ips"][0]["ip_address"]
    assert demo.delete(f"/ports/{ports[1]['id']}").status_code == 204
    again = demo.create("port", network_id=net["id"])
    assert again["fixed_ips"][0]["ip_address"] == freed


def test_fixed_ips_requests(demo):
    net, sub = demo.network_with_subnet("10.72.0.0/24")
    chosen = demo.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.72.0.200"}])
    assert chosen["fixed_ips"] == [{"subnet_id": sub["id"], "ip_address": "10.72.0.200"}]
    outside_pool = demo.create(
        "port",
        network_id=net["id"],
        fixed_ips=[{"subnet_id": sub["id"], "ip_address": "10.72.0.1"}],
    )
    assert outside_pool["fixed_ips"][0]["ip_address"] == "10.72.0.1"  # not in a pool: allowed
    again = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.72.0.200"}]}}
    assert error(demo.post("/ports", again), 409) == (
        "IpAddressAlreadyAllocated",
        f"IP address 10.72.0.200 already allocated in subnet {sub['id']}",
    )
    wrong = {
        "port": {
            "network_id": net["id"],
            "fixed_ips": [{"subnet_id": sub["id"], "ip_address": "10.99.0.5"}],
        }
    }
    assert error(demo.post("/ports", wrong), 400) == (
        "InvalidIpForSubnet",
        "IP address 10.99.0.5 is not a valid IP for the specified subnet.",
    )
    nowhere = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.99.0.5"}]}}
    assert error(demo.post("/ports", nowhere), 400)[0] == "InvalidIpForNetwork"
    broadcast = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.72.0.255"}]}}
    assert error(demo.post("/ports", broadcast), 400)[0] == "InvalidIpForNetwork"
    bad = {"port": {"network_id": net["id"], "fixed_ips": [{"ip_address": "10.72.0"}]}}
    assert error(demo.post("/ports", bad), 400)[1] == (
        "Invalid input for fixed_ips. Reason: '10.72.0' is not a valid IP address."
    )
    _other_net, other_sub = demo.network_with_subnet("10.73.0.0/24")
    foreign = {"port": {"network_id": net["id"], "fixed_ips": [{"subnet_id": other_sub["id"]}]}}
    assert error(demo.post("/ports", foreign), 400)[1] == (
        f"Invalid input for operation: Failed to create port on network {net['id']}, because "
        f"fixed_ips included invalid subnet {other_sub['id']}."
    )
    missing = {"port": {"network_id": "6f4f0b2e-6a3c-4b8e-9d7e-000000000000"}}
    assert error(demo.post("/ports", missing), 404)[0] == "NetworkNotFound"


def test_port_update_in_place(demo):
    net, _sub = demo.network_with_subnet("10.74.0.0/24")
    port = demo.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.74.0.50"}])
    group = demo.create("security_group", name="web")
    changes = {
        "name": "renamed",
        "admin_state_up": False,
        "device_id": "server-1",
        "device_owner": "compute:nova",
        "fixed_ips": [{"ip_address": "10.74.0.50"}, {"ip_address": "10.74.0.60"}],
        "security_groups": [group["id"]],
        "allowed_address_pairs": [{"ip_address": "10.74.0.99"}],
    }
    resp = demo.put(f"/ports/{port['id']}", {"port": changes})
    assert resp.status_code == 200, resp.text
    updated = resp.json()["port"]
    assert updated["id"] == port["id"] and updated["mac_address"] == port["mac_address"]
    assert updated["name"] == "renamed" and updated["admin_state_up"] is False
    assert (updated["device_id"], updated["device_owner"]) == ("server-1", "compute:nova")
    assert [ip["ip_address"] for ip in updated["fixed_ips"]] == ["10.74.0.50", "10.74.0.60"]
    assert updated["security_groups"] == [group["id"]]
    assert updated["allowed_address_pairs"] == [
        {"ip_address": "10.74.0.99", "mac_address": port["mac_address"]}
    ]
    assert updated["revision_number"] == port["revision_number"] + 1
    # dropping an address returns it
    resp = demo.put(f"/ports/{port['id']}", {"port": {"fixed_ips": [{"ip_address": "10.74.0.60"}]}})
    assert [ip["ip_address"] for ip in resp.json()["port"]["fixed_ips"]] == ["10.74.0.60"]
    assert demo.create("port", network_id=net["id"], fixed_ips=[{"ip_address": "10.74.0.50"}])
    assert error(demo.put(f"/ports/{port['id']}", {"port": {"network_id": net["id"]}}), 400)[1] == (
        "Cannot update read-only attribute network_id"
    )
    assert error(demo.put(f"/ports/{port['id']}", {"port": {"tags": ["a"]}}), 400)[1] == (
        "Cannot update read-only attribute tags"
    )


def test_port_security_and_groups(demo):
    net, _ = demo.network_with_subnet("10.75.0.0/24")
    bare = demo.create("port", network_id=net["id"], port_security_enabled=False)
    assert bare["security_groups"] == [] and bare["port_security_enabled"] is False
    body = {"port": {"network_id": net["id"], "port_security_enabled": False}}
    group = demo.create("security_group", name="g")
    with_group = {"port": {**body["port"], "security_groups": [group["id"]]}}
    assert error(demo.post("/ports", with_group), 400) == (
        "PortSecurityAndIPRequiredForSecurityGroups",
        "Port security must be enabled and port must have an IP address in order to use "
        "security groups.",
    )
    pairs = {"port": {**body["port"], "allowed_address_pairs": [{"ip_address": "10.0.0.9"}]}}
    assert error(demo.post("/ports", pairs), 409)[0] == "AddressPairAndPortSecurityRequired"
    secured = demo.create("port", network_id=net["id"])
    off = {"port": {"port_security_enabled": False}}
    assert error(demo.put(f"/ports/{secured['id']}", off), 409)[0] == (
        "PortSecurityPortHasSecurityGroup"
    )
    both = {"port": {"port_security_enabled": False, "security_groups": []}}
    assert demo.put(f"/ports/{secured['id']}", both).json()["port"]["security_groups"] == []
    unknown = {"port": {"network_id": net["id"], "security_groups": [bare["id"]]}}
    assert error(demo.post("/ports", unknown), 404) == (
        "SecurityGroupNotFound",
        f"Security group {bare['id']} does not exist",
    )
    insecure = demo.create("network", port_security_enabled=False)
    demo.create("subnet", network_id=insecure["id"], ip_version=4, cidr="10.76.0.0/24")
    inherited = demo.create("port", network_id=insecure["id"])
    assert inherited["port_security_enabled"] is False and inherited["security_groups"] == []


def test_ports_take_tags_at_create_and_mac_checks(demo):
    net, _ = demo.network_with_subnet("10.77.0.0/24")
    port = demo.create("port", network_id=net["id"], tags=["red", "blue"])
    assert port["tags"] == ["blue", "red"]
    same_mac = {"port": {"network_id": net["id"], "mac_address": port["mac_address"]}}
    assert error(demo.post("/ports", same_mac), 409)[0] == "MacAddressInUse"
    bad_mac = {"port": {"network_id": net["id"], "mac_address": "zz"}}
    assert error(demo.post("/ports", bad_mac), 400)[1] == (
        "Invalid input for mac_address. Reason: 'zz' is not a valid MAC address."
    )
    new_mac = {"port": {"mac_address": "fa:16:3e:00:00:01"}}
    assert error(demo.put(f"/ports/{port['id']}", new_mac), 403)[1] == (
        "(rule:update_port and rule:update_port:mac_address) is disallowed by policy"
    )


def test_a_neutron_without_the_tagging_driver_leaves_a_ports_tags_off(make_sim):
    # The conformance harness's Neutron: ML2 loads no `tag_ports_during_bulk_creation`.
    demo = Neutron(make_sim(port_tags_at_create=False).url, "demo")
    net, _ = demo.network_with_subnet("10.79.0.0/24")
    port = demo.create("port", network_id=net["id"], tags=["red"])
    assert port["tags"] == [] and demo.show("ports", port["id"])["tags"] == []
    aliases = {e["alias"] for e in demo.listing("extensions")}
    assert "tag-ports-during-bulk-creation" not in aliases and "standard-attr-tag" in aliases
    assert error(demo.get("/extensions/tag-ports-during-bulk-creation"), 404)[0] == "HTTPNotFound"
    resp = demo.put(f"/ports/{port['id']}/tags", {"tags": ["red"]})  # what a client does next
    assert resp.status_code == 200, resp.text
    assert demo.show("ports", port["id"])["tags"] == ["red"]


def test_router_interface_port_cannot_be_deleted_directly(demo):
    _net, sub = demo.network_with_subnet("10.78.0.0/24")
    router = demo.create("router", name="r")
    resp = demo.put(f"/routers/{router['id']}/add_router_interface", {"subnet_id": sub["id"]})
    port_id = resp.json()["port_id"]
    assert error(demo.delete(f"/ports/{port_id}"), 409) == (
        "ServicePortInUse",
        f"Port {port_id} cannot be deleted directly via the port API: has device owner "
        "network:router_interface.",
    )


def test_members_on_a_shared_network(demo, admin):
    (shared,) = demo.listing("networks", name="shared")
    port = demo.create("port", network_id=shared["id"])
    assert port["project_id"] == demo.project_id and port["fixed_ips"]
    fixed = {"port": {"network_id": shared["id"], "fixed_ips": [{"ip_address": "192.168.233.77"}]}}
    assert error(demo.post("/ports", fixed), 403)[1] == (
        "(rule:create_port and (rule:create_port:fixed_ips and "
        "(rule:create_port:fixed_ips:ip_address))) is disallowed by policy"
    )
    (public,) = demo.listing("networks", name="public")
    assert error(demo.post("/ports", {"port": {"network_id": public["id"]}}), 403)[1] == (
        "rule:create_port is disallowed by policy"
    )
    # the admin, owning the network, sees the member's port on it
    assert port["id"] in {p["id"] for p in admin.listing("ports", network_id=shared["id"])}


def test_ports_show_their_vnic_type_and_no_extra_dhcp_options(demo):
    net, _ = demo.network_with_subnet("10.78.0.0/24")
    port = demo.create("port", network_id=net["id"])
    assert port["binding:vnic_type"] == "normal" and port["extra_dhcp_opts"] == []
    assert "binding:host_id" not in port  # the other binding fields are the admin's
    direct = demo.create("port", network_id=net["id"], **{"binding:vnic_type": "direct"})
    assert demo.show("ports", direct["id"])["binding:vnic_type"] == "direct"
    body = {"port": {"binding:vnic_type": "macvtap"}}
    assert demo.put(f"/ports/{direct['id']}", body).json()["port"]["binding:vnic_type"] == (
        "macvtap"
    )
    bogus = {"port": {"network_id": net["id"], "binding:vnic_type": "bogus"}}
    assert error(demo.post("/ports", bogus), 400)[1] == (
        "Invalid input for binding:vnic_type. Reason: bogus is not in valid_values."
    )


def test_port_policy_names_attributes_in_neutrons_order(demo, public):
    body = {
        "network_id": public["id"],
        "mac_address": "fa:16:3e:00:00:01",
        "binding:vnic_type": "direct",
        "port_security_enabled": True,
        "allowed_address_pairs": [{"ip_address": "1.2.3.4"}],
        "device_owner": "x",
        "device_id": "y",
    }
    assert error(demo.post("/ports", {"port": body}), 403)[1] == (
        "((((((rule:create_port and rule:create_port:mac_address) and "
        "rule:create_port:device_id) and rule:create_port:device_owner) and "
        "(rule:create_port:allowed_address_pairs and "
        "(rule:create_port:allowed_address_pairs:ip_address))) and "
        "rule:create_port:binding:vnic_type) and rule:create_port:port_security_enabled) "
        "is disallowed by policy"
    )
