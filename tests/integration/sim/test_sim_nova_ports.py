"""Nova's ports on the simulator's Neutron: the ports a server create makes, takes and
gives back, the groups on them, what the server views read from them (`addresses`,
`security_groups`), `os-interface`, add/removeSecurityGroup, the floating IP pools, and
Neutron's in-use conflicts while a server holds a port. Real HTTP, as a client sees it."""

from __future__ import annotations

import ipaddress
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from stackplan.sim.app import SimOptions
from tests.integration.sim.conftest import CIRROS, Api

MISSING = "00000000-0000-4000-8000-000000000000"
OWNER = "compute:nova"


def nova_error(resp: requests.Response, status: int) -> str:
    """Assert `status` and Nova's error body; its message."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    ((name, body),) = resp.json().items()
    assert (
        name
        == {
            400: "badRequest",
            403: "forbidden",
            404: "itemNotFound",
            409: "conflictingRequest",
        }[status]
    )
    assert body["code"] == status
    return body["message"]


def neutron_error(resp: requests.Response, status: int) -> tuple[str, str]:
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    body = resp.json()["NeutronError"]
    return body["type"], body["message"]


def until(check: Callable[[], Any], timeout: float = 5.0) -> Any:
    """Poll `check` until it returns something truthy (Nova releases ports lazily)."""
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got or time.monotonic() > deadline:
            assert got, "timed out"
            return got
        time.sleep(0.05)


def post_server(api: Api, **fields: Any) -> requests.Response:
    body = {"name": f"t-{uuid.uuid4().hex[:8]}", "imageRef": CIRROS, "flavorRef": "1", **fields}
    return api.compute("POST", "/servers", json={"server": body})


def group_id(api: Api, name: str) -> str:
    (group,) = api.neutron_list("security-groups", name=name, project_id=api.project_id)
    return group["id"]


def port_gone(api: Api, port_id: str) -> bool:
    return api.network("GET", f"/ports/{port_id}").status_code == 404


@pytest.fixture
def devstack_api(make_sim) -> Api:
    """A private cloud with devstack's whole seed (`shared` too): two networks to choose."""
    return Api(make_sim(build_seconds=0.1, shared_network=True).url, version="2.60")


# -- the ports of a server -------------------------------------------------------------


def test_nova_makes_a_port_for_the_named_network_and_deletes_it_with_the_server(fast_api):
    api = fast_api
    private = api.network_id("private")
    server_id = api.create_server(networks=[{"uuid": private}])
    (port,) = api.ports_of(server_id)  # made at once, as the build starts
    assert (port["device_owner"], port["network_id"]) == (OWNER, private)
    assert port["project_id"] == api.project_id and port["status"] == "DOWN"
    assert port["security_groups"] == [group_id(api, "default")]
    (subnet,) = api.neutron_list("subnets", network_id=private)
    ((ip),) = port["fixed_ips"]
    assert ip["subnet_id"] == subnet["id"]
    assert ipaddress.ip_address(ip["ip_address"]) in ipaddress.ip_network(subnet["cidr"])

    server = api.wait(server_id, "ACTIVE")
    (port,) = api.ports_of(server_id)
    assert port["status"] == "ACTIVE"  # the guest runs: the agent reports the tap up
    assert server["addresses"] == {
        "private": [
            {
                "version": 4,
                "addr": ip["ip_address"],
                "OS-EXT-IPS:type": "fixed",
                "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
            }
        ]
    }
    assert server["security_groups"] == [{"name": "default"}]
    assert api.action(server_id, {"os-stop": None}).status_code == 202
    api.wait(server_id, "SHUTOFF")
    assert [p["status"] for p in api.ports_of(server_id)] == ["DOWN"]

    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204
    until(lambda: port_gone(api, port["id"]))
    assert api.ports_of(server_id) == []


def test_networks_auto_none_and_omitted_before_2_37(fast_api):
    api = fast_api
    auto = api.create_server(networks="auto")  # the one network the project sees
    (port,) = api.ports_of(auto)
    assert port["network_id"] == api.network_id("private")
    none = api.create_server(networks="none")
    assert api.ports_of(none) == []
    server = api.wait(none, "ACTIVE")
    assert server["addresses"] == {} and "security_groups" not in server
    old = Api(api.url, version="2.36")
    resp = post_server(old)  # no `networks` before 2.37: as "auto"
    assert resp.status_code == 202, resp.text
    assert len(api.ports_of(resp.json()["server"]["id"])) == 1
    assert "'networks' is a required property" in nova_error(post_server(api), 400)
    assert "is not of type 'array'" in nova_error(post_server(old, networks="auto"), 400)


def test_several_networks_need_one_named(devstack_api):
    api = devstack_api
    ambiguous = "Multiple possible networks found, use a Network ID to be more specific."
    # validate_networks' NetworkAmbiguous, which the compute API answers with a 409
    assert nova_error(post_server(api, networks="auto"), 409) == ambiguous
    assert nova_error(post_server(Api(api.url, version="2.1")), 409) == ambiguous
    shared = api.network_id("shared")
    server_id = api.create_server(networks=[{"uuid": shared}])
    server = api.wait(server_id, "ACTIVE")
    (entry,) = server["addresses"]["shared"]
    assert ipaddress.ip_address(entry["addr"]) in ipaddress.ip_network("192.168.233.0/24")
    both = api.create_server(networks=[{"uuid": shared}, {"uuid": api.network_id("private")}])
    assert sorted(p["network_id"] for p in api.ports_of(both)) == sorted(
        [shared, api.network_id("private")]
    )
    # the addresses follow the order of `networks`, as Nova's info cache keeps it
    assert list(api.wait(both, "ACTIVE")["addresses"]) == ["shared", "private"]


def test_unknown_networks_ports_and_groups_are_refused_before_anything_is_made(fast_api):
    api = fast_api
    before = len(api.neutron_list("ports"))
    assert nova_error(post_server(api, networks=[{"uuid": MISSING}]), 400) == (
        f"Network {MISSING} could not be found."
    )
    assert nova_error(post_server(api, networks=[{"port": MISSING}]), 400) == (
        f"Port id {MISSING} could not be found."
    )
    assert "is not a 'uuid'" in nova_error(post_server(api, networks=[{"uuid": "x"}]), 400)
    unknown = post_server(api, networks="auto", security_groups=[{"name": "nope"}])
    assert nova_error(unknown, 400) == "Unable to find security_group with name or id 'nope'"
    empty = api.neutron_create("network", name=f"empty-{uuid.uuid4().hex[:6]}")
    assert nova_error(post_server(api, networks=[{"uuid": empty["id"]}]), 400) == (
        f"Network {empty['id']} requires a subnet in order to boot instances on."
    )
    private = api.network_id("private")
    address = api.neutron_list("ports", network_id=private)[0]["fixed_ips"][0]["ip_address"]
    taken = post_server(api, networks=[{"uuid": private, "fixed_ip": address}])
    assert nova_error(taken, 400).startswith(f"Fixed IP address {address} is already in use")
    assert len(api.neutron_list("ports")) == before


def test_a_fixed_ip_is_the_ports_address(fast_api):
    api = fast_api
    private = api.network_id("private")
    (subnet,) = api.neutron_list("subnets", network_id=private)
    free = str(ipaddress.ip_network(subnet["cidr"])[-2])
    server_id = api.create_server(networks=[{"uuid": private, "fixed_ip": free}])
    (port,) = api.ports_of(server_id)
    assert port["fixed_ips"] == [{"subnet_id": subnet["id"], "ip_address": free}]
    assert api.wait(server_id, "ACTIVE")["addresses"]["private"][0]["addr"] == free


def test_a_given_port_is_bound_then_unbound_and_kept(fast_api):
    api = fast_api
    private = api.network_id("private")
    given = api.neutron_create("port", network_id=private, name="mine")
    assert (given["device_id"], given["device_owner"]) == ("", "")
    server_id = api.create_server(networks=[{"port": given["id"]}])
    port = api.network("GET", f"/ports/{given['id']}").json()["port"]
    assert (port["device_id"], port["device_owner"]) == (server_id, OWNER)
    assert port["fixed_ips"] == given["fixed_ips"]  # the port keeps its address
    # the port is in use now: Nova's PortInUse
    again = post_server(api, networks=[{"port": given["id"]}])
    assert nova_error(again, 409) == f"Port {given['id']} is still in use."
    server = api.wait(server_id, "ACTIVE")
    assert server["addresses"]["private"][0]["addr"] == given["fixed_ips"][0]["ip_address"]
    fip = api.neutron_create(
        "floatingip", floating_network_id=api.network_id("public"), port_id=given["id"]
    )

    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204

    def unbound() -> dict[str, Any] | None:
        shown = api.network("GET", f"/ports/{given['id']}").json()["port"]
        return shown if shown["device_id"] == "" else None

    kept = until(unbound)
    assert kept["device_owner"] == "" and kept["fixed_ips"] == given["fixed_ips"]
    shown = api.network("GET", f"/floatingips/{fip['id']}").json()["floatingip"]
    assert shown["port_id"] == given["id"]  # its floating IP stays on it
    # free again: another server may take it
    second = api.create_server(networks=[{"port": given["id"]}])
    assert [p["id"] for p in api.ports_of(second)] == [given["id"]]


def test_another_projects_port_is_not_usable(fast_api):
    api = fast_api
    admin = Api(api.url, user="admin", version="2.60")
    theirs = admin.neutron_create("port", network_id=api.network_id("private"))
    # The member owns the network, so it sees the port and the API lets the server
    # through; the compute host finds the port another project's (PortNotUsable).
    server_id = api.create_server(networks=[{"port": theirs["id"]}])
    failed = api.wait(server_id, "ERROR")
    assert failed["fault"]["message"] == (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        f"build failures for instance {server_id}."
    )
    shown = admin.network("GET", f"/ports/{theirs['id']}").json()["port"]
    assert (shown["device_id"], shown["device_owner"]) == ("", "")


def test_groups_by_name_or_id_go_on_the_ports_nova_makes_not_on_given_ones(fast_api):
    api = fast_api
    web = api.neutron_create("security_group", name="web")
    db = api.neutron_create("security_group", name="db")
    private = api.network_id("private")
    given = api.neutron_create("port", network_id=private)
    server_id = api.create_server(
        networks=[{"uuid": private}, {"port": given["id"]}],
        security_groups=[{"name": "web"}, {"name": db["id"]}],
    )
    by_id = {p["id"]: p for p in api.ports_of(server_id)}
    taken = by_id.pop(given["id"])
    ((made),) = by_id.values()
    assert sorted(made["security_groups"]) == sorted([web["id"], db["id"]])
    assert taken["security_groups"] == [group_id(api, "default")]
    server = api.wait(server_id, "ACTIVE")
    # one entry per group per port, as Nova lists them
    assert sorted(g["name"] for g in server["security_groups"]) == ["db", "default", "web"]
    shown = api.compute("GET", f"/servers/{server_id}/os-security-groups").json()
    assert [g["name"] for g in shown["security_groups"]] == ["db", "default", "web"]


def test_port_security_off_and_groups_fail_the_build_with_novas_fault(make_sim):
    # Three hosts: the build is rescheduled twice, then the conductor gives up with the
    # last attempt's error (one host: "Exhausted all hosts", test_sim_compute_extras.py).
    api = Api(make_sim(build_seconds=0.1, hosts=3).url, version="2.60")
    net = api.neutron_create("network", name="open", port_security_enabled=False)
    api.neutron_create("subnet", network_id=net["id"], ip_version=4, cidr="10.78.0.0/24")
    api.neutron_create("security_group", name="web")
    named = api.create_server(networks=[{"uuid": net["id"]}], security_groups=[{"name": "web"}])
    failed = api.wait(named, "ERROR")
    assert failed["fault"]["message"] == (
        "Exceeded maximum number of retries. Exceeded max scheduling attempts 3 for instance "
        f"{named}. Last exception: Network requires port_security_enabled and subnet "
        "associated in order to apply security groups."
    )
    assert failed["fault"]["code"] == 500 and api.ports_of(named) == []


def test_an_external_network_is_the_admins_to_attach(fast_api):
    api = fast_api
    public = api.network_id("public")
    server_id = api.create_server(networks=[{"uuid": public}])  # the API lets it through
    failed = api.wait(server_id, "ERROR")
    assert failed["fault"]["message"] == (
        f"Build of instance {server_id} aborted: Failed to allocate the network(s), not "
        "rescheduling."
    )
    assert api.ports_of(server_id) == []


def test_a_full_subnet_aborts_the_build(make_sim):
    # a /29: five addresses for ports, the router holding the gateway
    api = Api(make_sim(build_seconds=0.1, private_cidr="10.0.0.0/29").url, version="2.60")
    private = api.network_id("private")
    fits = [api.create_server(networks=[{"uuid": private}]) for _ in range(5)]
    over = api.create_server(networks=[{"uuid": private}])
    failed = api.wait(over, "ERROR")
    assert failed["fault"]["message"] == (
        f"Build of instance {over} aborted: Failed to allocate the network(s) with error No "
        f"fixed IP addresses available for network: {private}, not rescheduling."
    )
    assert all(api.wait(s, "ACTIVE")["addresses"]["private"] for s in fits)
    assert api.compute("DELETE", f"/servers/{fits[0]}").status_code == 204
    until(lambda: api.ports_of(fits[0]) == [])
    api.wait(api.create_server(networks=[{"uuid": private}]), "ACTIVE")  # its address is free


# -- what the views read from Neutron --------------------------------------------------


def test_addresses_show_a_floating_ip_after_the_fixed_one(fast_api):
    api = fast_api
    server_id = api.create_server(networks=[{"uuid": api.network_id("private")}])
    api.wait(server_id, "ACTIVE")
    (port,) = api.ports_of(server_id)
    fip = api.neutron_create(
        "floatingip", floating_network_id=api.network_id("public"), port_id=port["id"]
    )
    router = api.neutron_list("routers", name="router1")[0]
    assert fip["router_id"] == router["id"]  # router1 routes private to public
    fixed, floating = api.server(server_id)["addresses"]["private"]
    assert (fixed["OS-EXT-IPS:type"], fixed["addr"]) == ("fixed", fip["fixed_ip_address"])
    assert floating == {
        "version": 4,
        "addr": fip["floating_ip_address"],
        "OS-EXT-IPS:type": "floating",
        "OS-EXT-IPS-MAC:mac_addr": port["mac_address"],
    }
    listed = api.compute("GET", "/servers/detail", params={"name": "^t-"}).json()["servers"]
    (mine,) = [s for s in listed if s["id"] == server_id]
    assert mine["addresses"]["private"] == [fixed, floating]
    # the `ip` filter matches fixed addresses only
    by_fixed = api.compute("GET", "/servers", params={"ip": f"^{fixed['addr']}$"}).json()
    assert [s["id"] for s in by_fixed["servers"]] == [server_id]
    by_floating = api.compute("GET", "/servers", params={"ip": f"^{floating['addr']}$"}).json()
    assert by_floating["servers"] == []
    # the floating IP goes with the port Nova deletes: disassociated, kept
    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204
    until(lambda: port_gone(api, port["id"]))
    shown = api.network("GET", f"/floatingips/{fip['id']}").json()["floatingip"]
    assert shown["port_id"] is None and shown["status"] == "DOWN"


def test_console_log_shows_the_ports_address(fast_api):
    api = fast_api
    server_id = api.create_server(networks=[{"uuid": api.network_id("private")}])
    addr = api.wait(server_id, "ACTIVE")["addresses"]["private"][0]["addr"]
    log = api.action(server_id, {"os-getConsoleOutput": {"length": 50}}).json()["output"]
    assert f"udhcpc: lease of {addr} obtained" in log


# -- os-interface ----------------------------------------------------------------------


def test_interfaces_attach_list_show_and_detach_through_neutron(fast_api):
    api = fast_api
    private = api.network_id("private")
    server_id = api.create_server(networks=[{"uuid": private}])
    api.wait(server_id, "ACTIVE")
    path = f"/servers/{server_id}/os-interface"
    (first,) = api.compute("GET", path).json()["interfaceAttachments"]
    (port,) = api.ports_of(server_id)
    assert first == {
        "net_id": private,
        "port_id": port["id"],
        "mac_addr": port["mac_address"],
        "port_state": "ACTIVE",
        "fixed_ips": port["fixed_ips"],
    }
    # by network: Nova makes the port
    made = api.compute("POST", path, json={"interfaceAttachment": {"net_id": private}})
    assert made.status_code == 200, made.text
    made_port = made.json()["interfaceAttachment"]
    assert made_port["net_id"] == private and made_port["port_state"] == "ACTIVE"
    # by port: Nova takes the user's
    given = api.neutron_create("port", network_id=private)
    taken = api.compute("POST", path, json={"interfaceAttachment": {"port_id": given["id"]}})
    assert taken.status_code == 200, taken.text
    assert taken.json()["interfaceAttachment"]["port_id"] == given["id"]
    listed = api.compute("GET", path).json()["interfaceAttachments"]
    assert sorted(a["port_id"] for a in listed) == sorted(
        [port["id"], made_port["port_id"], given["id"]]
    )
    one = api.compute("GET", f"{path}/{given['id']}")
    assert one.status_code == 200 and one.json()["interfaceAttachment"]["port_id"] == given["id"]
    assert len(api.server(server_id)["addresses"]["private"]) == 3
    # errors as Nova's API gives them
    both = {"interfaceAttachment": {"net_id": private, "port_id": given["id"]}}
    assert nova_error(api.compute("POST", path, json=both), 400) == (
        "Must not input both network_id and port_id"
    )
    in_use = {"interfaceAttachment": {"port_id": given["id"]}}
    assert nova_error(api.compute("POST", path, json=in_use), 409) == (
        f"Port {given['id']} is still in use."
    )
    unknown = {"interfaceAttachment": {"net_id": MISSING}}
    assert nova_error(api.compute("POST", path, json=unknown), 404) == (
        f"Network {MISSING} could not be found."
    )
    assert nova_error(api.compute("GET", f"{path}/{MISSING}"), 404) == (
        f"Port id {MISSING} could not be found."
    )
    # detach: Nova's port deleted, the user's unbound and kept
    assert api.compute("DELETE", f"{path}/{made_port['port_id']}").status_code == 202
    assert api.compute("DELETE", f"{path}/{given['id']}").status_code == 202
    assert port_gone(api, made_port["port_id"])
    kept = api.network("GET", f"/ports/{given['id']}").json()["port"]
    assert (kept["device_id"], kept["device_owner"]) == ("", "")
    assert [a["port_id"] for a in api.compute("GET", path).json()["interfaceAttachments"]] == [
        port["id"]
    ]


def test_attach_without_a_network_needs_the_one_there_is(devstack_api):
    api = devstack_api
    server_id = api.create_server(networks=[{"uuid": api.network_id("private")}])
    api.wait(server_id, "ACTIVE")
    path = f"/servers/{server_id}/os-interface"
    # the interface API answers NetworkAmbiguous with a 400
    assert nova_error(api.compute("POST", path, json={"interfaceAttachment": {}}), 400) == (
        "Multiple possible networks found, use a Network ID to be more specific."
    )


# -- security groups through the ports -------------------------------------------------


def test_add_and_remove_security_group_change_every_port(fast_api):
    api = fast_api
    web = api.neutron_create("security_group", name="web")
    private = api.network_id("private")
    server_id = api.create_server(networks=[{"uuid": private}, {"uuid": private}])
    api.wait(server_id, "ACTIVE")
    default = group_id(api, "default")
    assert api.action(server_id, {"addSecurityGroup": {"name": "web"}}).status_code == 202
    assert [sorted(p["security_groups"]) for p in api.ports_of(server_id)] == [
        sorted([default, web["id"]])
    ] * 2
    names = [g["name"] for g in api.server(server_id)["security_groups"]]
    assert names == ["default", "web", "default", "web"]  # per port, as Nova lists them
    assert api.action(server_id, {"removeSecurityGroup": {"name": default}}).status_code == 202
    assert [p["security_groups"] for p in api.ports_of(server_id)] == [[web["id"]]] * 2
    again = api.action(server_id, {"removeSecurityGroup": {"name": "default"}})
    assert nova_error(again, 404) == (
        f"Security group default not associated with the instance {server_id}"
    )
    unknown = api.action(server_id, {"addSecurityGroup": {"name": "nope"}})
    assert nova_error(unknown, 404) == (
        f"Security group nope is not found for project {api.project_id}"
    )
    portless = api.create_server(networks="none")
    api.wait(portless, "ACTIVE")
    assert nova_error(api.action(portless, {"addSecurityGroup": {"name": "web"}}), 404) == (
        f"instance_id {portless} could not be found as device id on any ports"
    )


def test_security_group_proxies_before_2_36_read_neutron(fast_api):
    api = fast_api
    group = api.neutron_create("security_group", name="ssh")
    rule = {
        "security_group_id": group["id"],
        "direction": "ingress",
        "protocol": "tcp",
        "port_range_min": 22,
        "port_range_max": 22,
        "remote_ip_prefix": "10.0.0.0/8",
    }
    resp = api.network("POST", "/security-group-rules", json={"security_group_rule": rule})
    assert resp.status_code == 201, resp.text
    old = {"OpenStack-API-Version": "compute 2.35"}
    listed = api.compute("GET", "/os-security-groups", headers=old).json()["security_groups"]
    (ssh,) = [g for g in listed if g["name"] == "ssh"]
    assert ssh["id"] == group["id"] and ssh["tenant_id"] == api.project_id
    (shown,) = ssh["rules"]  # Nova shows the ingress rules only
    assert shown["ip_protocol"] == "tcp" and (shown["from_port"], shown["to_port"]) == (22, 22)
    assert shown["ip_range"] == {"cidr": "10.0.0.0/8"} and shown["group"] == {}


def test_floating_ip_pools_are_the_external_networks_until_2_36(fast_api):
    api = fast_api
    old = {"OpenStack-API-Version": "compute 2.35"}
    pools = api.compute("GET", "/os-floating-ip-pools", headers=old)
    assert pools.status_code == 200
    assert pools.json() == {"floating_ip_pools": [{"name": "public"}]}
    assert api.compute("GET", "/os-floating-ip-pools").status_code == 404


# -- Neutron's side while a server holds a port ----------------------------------------


def test_a_servers_port_keeps_its_subnet_and_network_in_use_until_nova_lets_go(make_sim):
    # Nova deletes the server (and then its ports) a little after the API answered.
    api = Api(make_sim(build_seconds=0.1, delete_seconds=0.5).url, version="2.60")
    net = api.neutron_create("network", name="app")
    subnet = api.neutron_create("subnet", network_id=net["id"], ip_version=4, cidr="10.60.0.0/24")
    server_id = api.create_server(networks=[{"uuid": net["id"]}])
    api.wait(server_id, "ACTIVE")
    (port,) = api.ports_of(server_id)
    kind, message = neutron_error(api.network("DELETE", f"/subnets/{subnet['id']}"), 409)
    assert kind == "SubnetInUse" and "One or more ports have an IP allocation" in message
    kind, _ = neutron_error(api.network("DELETE", f"/networks/{net['id']}"), 409)
    assert kind == "NetworkInUse"
    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204
    # still deleting: the port is still there, and so is the conflict
    assert api.server(server_id)["OS-EXT-STS:task_state"] == "deleting"
    neutron_error(api.network("DELETE", f"/subnets/{subnet['id']}"), 409)
    # a client retries the 409 until the delete has finished
    until(lambda: api.network("DELETE", f"/subnets/{subnet['id']}").status_code == 204)
    assert port_gone(api, port["id"])
    assert api.network("DELETE", f"/networks/{net['id']}").status_code == 204


# -- the private subnet's size ---------------------------------------------------------


def test_private_cidr_is_devstacks_unless_widened(make_sim, sim_process):
    assert SimOptions().private_cidr == "10.0.0.0/26"
    wide = Api(make_sim(private_cidr="10.0.0.0/22").url)
    (subnet,) = wide.neutron_list("subnets", name="private-subnet")
    assert subnet["cidr"] == "10.0.0.0/22" and subnet["gateway_ip"] == "10.0.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.3.254"}]
    served = Api(sim_process(private_cidr="10.8.0.0/24").url)
    (subnet,) = served.neutron_list("subnets", name="private-subnet")
    assert subnet["cidr"] == "10.8.0.0/24"
