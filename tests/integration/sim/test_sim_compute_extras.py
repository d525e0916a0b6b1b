"""Nova's smaller APIs on the simulator: flavor extra specs, quota sets, availability
zones, and the security groups of a server."""

from __future__ import annotations

from tests.integration.sim.conftest import Api

DEMO = "d0000000000000000000000000000001"
ADMIN = "a0000000000000000000000000000001"


def test_flavor_extra_specs_are_empty_and_keys_404(api):
    assert api.compute("GET", "/flavors/1/os-extra_specs").json() == {"extra_specs": {}}
    key = api.compute("GET", "/flavors/1/os-extra_specs/hw:cpu_policy")
    assert key.status_code == 404
    assert key.json()["itemNotFound"]["message"] == (
        "Flavor 1 has no extra specs with key hw:cpu_policy."
    )
    missing = api.compute("GET", "/flavors/999/os-extra_specs")
    assert missing.status_code == 404
    assert missing.json()["itemNotFound"]["message"] == "Flavor 999 could not be found."


def test_quota_set_keys_follow_the_microversion(make_sim):
    url = make_sim(quota_instances=7, quota_cores=-1, quota_ram=4096).url
    old, new = Api(url, version="2.1"), Api(url, version="2.57")
    show = old.compute("GET", f"/os-quota-sets/{DEMO}").json()["quota_set"]
    assert show["id"] == DEMO
    assert (show["instances"], show["cores"], show["ram"]) == (7, -1, 4096)
    assert (show["key_pairs"], show["metadata_items"]) == (100, 128)
    assert (show["server_groups"], show["server_group_members"]) == (10, 10)
    assert show["security_groups"] == -1 and show["injected_files"] == 5
    at_236 = old.compute(
        "GET", f"/os-quota-sets/{DEMO}", headers={"OpenStack-API-Version": "compute 2.36"}
    ).json()["quota_set"]
    assert "floating_ips" not in at_236 and "injected_files" in at_236
    latest = new.compute("GET", f"/os-quota-sets/{DEMO}").json()["quota_set"]
    assert set(latest) == {
        "id",
        "cores",
        "instances",
        "key_pairs",
        "metadata_items",
        "ram",
        "server_group_members",
        "server_groups",
    }
    defaults = new.compute("GET", f"/os-quota-sets/{DEMO}/defaults").json()["quota_set"]
    assert defaults == latest


def test_quota_detail_counts_what_the_project_holds(make_sim):
    api = Api(make_sim(build_seconds=0).url, version="2.60")
    api.create_server(flavorRef="2")  # m1.small: 1 vCPU, 2048 MiB
    api.compute(
        "POST", "/os-server-groups", json={"server_group": {"name": "g", "policies": ["affinity"]}}
    )
    detail = api.compute("GET", f"/os-quota-sets/{DEMO}/detail").json()["quota_set"]
    assert detail["instances"] == {"in_use": 1, "limit": -1, "reserved": 0}
    assert detail["cores"]["in_use"] == 1 and detail["ram"]["in_use"] == 2048
    assert detail["key_pairs"] == {"in_use": 0, "limit": 100, "reserved": 0}
    assert detail["id"] == DEMO


def test_quota_sets_of_another_project_need_admin(sim):
    demo, admin = Api(sim.url), Api(sim.url, user="admin")
    denied = demo.compute("GET", f"/os-quota-sets/{ADMIN}")
    assert denied.status_code == 403
    assert denied.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-quota-sets:show to be performed."
    )
    assert demo.compute("GET", f"/os-quota-sets/{ADMIN}/defaults").status_code == 200
    assert admin.compute("GET", f"/os-quota-sets/{DEMO}").json()["quota_set"]["id"] == DEMO
    unknown = admin.compute("GET", "/os-quota-sets/abc123")
    assert unknown.status_code == 400
    assert "is not a valid project" in unknown.json()["badRequest"]["message"]


def test_availability_zones_summary_and_admin_detail(make_sim):
    url = make_sim(hosts=2).url
    demo, admin = Api(url), Api(url, user="admin")
    assert demo.compute("GET", "/os-availability-zone").json() == {
        "availabilityZoneInfo": [
            {"zoneName": "nova", "zoneState": {"available": True}, "hosts": None}
        ]
    }
    denied = demo.compute("GET", "/os-availability-zone/detail")
    assert denied.status_code == 403
    zones = admin.compute("GET", "/os-availability-zone/detail").json()["availabilityZoneInfo"]
    by_name = {z["zoneName"]: z for z in zones}
    assert set(by_name["nova"]["hosts"]) == {"sim-compute-0", "sim-compute-1"}
    service = by_name["nova"]["hosts"]["sim-compute-0"]["nova-compute"]
    assert service["available"] and service["active"] and service["updated_at"]
    assert "nova-conductor" in next(iter(by_name["internal"]["hosts"].values()))


def test_server_security_groups_have_stable_ids_and_default_rules(fast_api):
    api = fast_api
    api.neutron_create("security_group", name="web")  # Nova names only Neutron's groups
    a = api.create_server(security_groups=[{"name": "default"}, {"name": "web"}])
    b = api.create_server()
    groups = api.compute("GET", f"/servers/{a}/os-security-groups").json()["security_groups"]
    assert [g["name"] for g in groups] == ["default", "web"]
    default, web = groups
    assert default["tenant_id"] == api.project_id
    assert default["description"] == "Default security group"
    assert len(default["rules"]) == 2  # ingress from the group itself, IPv4 and IPv6
    rule = default["rules"][0]
    assert rule["parent_group_id"] == default["id"] and rule["ip_protocol"] is None
    assert rule["group"] == {"name": "default", "tenant_id": api.project_id}
    assert web["rules"] == [] and web["description"] == ""
    (only,) = api.compute("GET", f"/servers/{b}/os-security-groups").json()["security_groups"]
    assert only["id"] == default["id"]
    missing = api.compute("GET", "/servers/00000000-0000-0000-0000-000000000000/os-security-groups")
    assert missing.status_code == 404


def test_security_group_proxy_list_is_gone_from_2_36(fast_api):
    api = fast_api
    api.neutron_create("security_group", name="db")
    old = api.compute(
        "GET", "/os-security-groups", headers={"OpenStack-API-Version": "compute 2.35"}
    )
    assert [g["name"] for g in old.json()["security_groups"]] == ["db", "default"]
    assert api.compute("GET", "/os-security-groups").status_code == 404


def test_port_security_off_leaves_servers_without_groups(fast_api):
    api = fast_api
    net = api.neutron_create("network", name="open", port_security_enabled=False)
    api.neutron_create("subnet", network_id=net["id"], ip_version=4, cidr="10.77.0.0/24")
    api.neutron_create("security_group", name="web")
    server_id = api.create_server(networks=[{"uuid": net["id"]}])
    server = api.wait(server_id, "ACTIVE")
    assert "security_groups" not in server
    (port,) = api.ports_of(server_id)
    assert port["security_groups"] == [] and port["port_security_enabled"] is False
    assert api.compute("GET", f"/servers/{server_id}/os-security-groups").json() == {
        "security_groups": []
    }
    add = api.action(server_id, {"addSecurityGroup": {"name": "web"}})
    assert add.status_code == 400 and "port_security_enabled" in add.text
    # The build fails on the compute host, is rescheduled, and one host has no alternate:
    # Nova's fault is the conductor's (the groups' error is in its log only; with three
    # hosts it is in the fault: test_sim_nova_ports.py).
    named = api.create_server(networks=[{"uuid": net["id"]}], security_groups=[{"name": "web"}])
    failed = api.wait(named, "ERROR")
    assert failed["fault"]["message"] == (
        "Exceeded maximum number of retries. Exhausted all hosts available for retrying "
        f"build failures for instance {named}."
    )
    assert api.ports_of(named) == []
