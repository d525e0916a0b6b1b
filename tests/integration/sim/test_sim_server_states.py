"""Nova fidelity on the simulator: multiple create names, `networks: "none"`, zones,
`all_tenants`, pause/suspend/lock with their 409s, and the console log."""

from __future__ import annotations

import uuid

from tests.integration.sim.conftest import CIRROS, Api


def _create(api: Api, **fields) -> dict:
    body = {"name": "x", "imageRef": CIRROS, "flavorRef": "1", "networks": "auto", **fields}
    return api.compute("POST", "/servers", json={"server": body})


def test_multiple_create_suffixes_the_names(fast_api):
    api = fast_api
    name = f"multi-{uuid.uuid4().hex[:6]}"
    resp = _create(api, name=name, min_count=3, max_count=3)
    assert resp.status_code == 202
    listed = api.compute("GET", "/servers", params={"name": f"^{name}"}).json()["servers"]
    assert sorted(s["name"] for s in listed) == [f"{name}-1", f"{name}-2", f"{name}-3"]
    assert resp.json()["server"]["id"] in {s["id"] for s in listed}
    single = api.server(api.create_server(name=f"{name}-single"))
    assert single["name"] == f"{name}-single"


def test_networks_none_gives_no_address_and_no_groups(fast_api):
    api = fast_api
    resp = _create(api, networks="none")
    assert resp.json()["server"]["security_groups"] == [{"name": "default"}]  # echoed
    server = api.wait(resp.json()["server"]["id"], "ACTIVE")
    assert server["addresses"] == {} and server["accessIPv4"] == ""
    assert "security_groups" not in server
    groups = api.compute("GET", f"/servers/{server['id']}/os-security-groups").json()
    assert groups == {"security_groups": []}
    add = api.action(server["id"], {"addSecurityGroup": {"name": "web"}})
    assert add.status_code == 404


def test_availability_zone_must_exist(make_sim):
    url = make_sim(build_seconds=0.1, hosts=2).url
    api, admin = Api(url, version="2.60"), Api(url, user="admin", version="2.60")
    bad = _create(api, availability_zone="nosuch")
    assert bad.status_code == 400
    assert bad.json()["badRequest"]["message"] == (
        "The requested availability zone is not available"
    )
    assert _create(api, availability_zone="nova").status_code == 202
    forced = _create(api, availability_zone="nova:sim-compute-1")
    assert forced.status_code == 403
    server_id = admin.create_server(availability_zone="nova:sim-compute-1")
    server = admin.wait(server_id, "ACTIVE")
    assert server["OS-EXT-SRV-ATTR:host"] == "sim-compute-1"
    assert server["OS-EXT-AZ:availability_zone"] == "nova"
    nowhere = admin.create_server(availability_zone="nova:no-such-host")
    assert "No valid host" in admin.wait(nowhere, "ERROR")["fault"]["message"]
    console = admin.action(nowhere, {"os-getConsoleOutput": {}})
    assert console.status_code == 409
    assert console.json()["conflictingRequest"]["message"] == f"Instance {nowhere} is not ready"


def test_all_tenants_is_for_admins(make_sim):
    url = make_sim(build_seconds=0).url
    demo, admin = Api(url, version="2.60"), Api(url, user="admin", version="2.60")
    mine, theirs = demo.create_server(), admin.create_server()
    denied = demo.compute("GET", "/servers/detail", params={"all_tenants": "1"})
    assert denied.status_code == 403
    assert denied.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:servers:detail:get_all_tenants to be performed."
    )
    index = demo.compute("GET", "/servers", params={"all_tenants": ""})
    assert "servers:index:get_all_tenants" in index.json()["forbidden"]["message"]
    assert demo.compute("GET", "/servers", params={"all_tenants": "0"}).status_code == 200
    bad = demo.compute("GET", "/servers", params={"all_tenants": "maybe"})
    assert bad.status_code == 400 and "Unrecognized value 'maybe'" in bad.text
    every = admin.compute("GET", "/servers/detail", params={"all_tenants": "True"}).json()
    assert {mine, theirs} <= {s["id"] for s in every["servers"]}
    only_demo = admin.compute(
        "GET", "/servers", params={"all_tenants": "1", "project_id": demo.project_id}
    ).json()["servers"]
    assert [s["id"] for s in only_demo] == [mine]
    own = admin.compute("GET", "/servers").json()["servers"]
    assert [s["id"] for s in own] == [theirs]


def test_pause_unpause_and_suspend_resume(fast_api):
    api = fast_api
    server_id = api.create_server()
    api.wait(server_id, "ACTIVE")
    assert api.action(server_id, {"unpause": None}).status_code == 409
    assert api.action(server_id, {"pause": None}).status_code == 202
    pausing = api.server(server_id)
    assert pausing["OS-EXT-STS:task_state"] == "pausing" and pausing["status"] == "ACTIVE"
    busy = api.action(server_id, {"suspend": None})
    assert busy.json()["conflictingRequest"]["message"] == (
        f"Cannot 'suspend' instance {server_id} while it is in task_state pausing"
    )
    paused = api.wait(server_id, "PAUSED")
    assert paused["OS-EXT-STS:vm_state"] == "paused" and paused["OS-EXT-STS:power_state"] == 3
    again = api.action(server_id, {"pause": None})
    assert again.status_code == 409
    assert again.json()["conflictingRequest"]["message"] == (
        f"Cannot 'pause' instance {server_id} while it is in vm_state paused"
    )
    assert api.action(server_id, {"unpause": None}).status_code == 202
    api.wait(server_id, "ACTIVE")
    assert api.action(server_id, {"resume": None}).status_code == 409
    assert api.action(server_id, {"suspend": None}).status_code == 202
    suspended = api.wait(server_id, "SUSPENDED")
    assert suspended["OS-EXT-STS:power_state"] == 4  # libvirt saves and shuts the domain
    assert api.action(server_id, {"os-stop": None}).status_code == 409
    assert api.action(server_id, {"resume": None}).status_code == 202
    assert api.wait(server_id, "ACTIVE")["OS-EXT-STS:power_state"] == 1
    listed = api.compute("GET", "/servers/detail", params={"status": "PAUSED"}).json()
    assert server_id not in {s["id"] for s in listed["servers"]}


def test_lock_blocks_the_owners_actions_but_not_the_admins(make_sim):
    url = make_sim(build_seconds=0.1).url
    api = Api(url, version="2.60")
    server_id = api.create_server()
    api.wait(server_id, "ACTIVE")
    assert api.server(server_id)["locked"] is False
    assert api.action(server_id, {"lock": None}).status_code == 202
    assert api.server(server_id)["locked"] is True
    assert api.action(server_id, {"lock": {}}).status_code == 202  # locking twice is fine
    locked = f"Instance {server_id} is locked"
    for body in ({"pause": None}, {"os-stop": None}, {"reboot": {"type": "SOFT"}}):
        resp = api.action(server_id, body)
        assert resp.status_code == 409 and resp.json()["conflictingRequest"]["message"] == locked
    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 409
    meta = api.compute("POST", f"/servers/{server_id}/metadata", json={"metadata": {"a": "b"}})
    assert meta.status_code == 409
    rename = api.compute("PUT", f"/servers/{server_id}", json={"server": {"name": "renamed"}})
    assert rename.status_code == 200  # Nova's update does not check the lock
    assert api.action(server_id, {"unlock": None}).status_code == 202
    assert api.server(server_id)["locked"] is False
    assert api.action(server_id, {"pause": None}).status_code == 202
    admin = Api(url, user="admin", version="2.60")
    own = admin.create_server()
    admin.wait(own, "ACTIVE")
    admin.action(own, {"lock": None})
    assert admin.action(own, {"os-stop": None}).status_code == 202  # admins pass locks


def test_console_output_tails_the_boot_log(fast_api):
    api = fast_api
    server_id = api.create_server(name="console-test")
    api.wait(server_id, "ACTIVE")
    full = api.action(server_id, {"os-getConsoleOutput": {}}).json()["output"]
    lines = full.split("\n")
    assert len(lines) > 5 and lines[-1] == "console-test login: "
    assert any("udhcpc: lease of 10.0." in line for line in lines)
    two = api.action(server_id, {"os-getConsoleOutput": {"length": 2}}).json()["output"]
    assert two.split("\n") == lines[-2:]
    as_text = api.action(server_id, {"os-getConsoleOutput": {"length": "2"}}).json()
    assert as_text["output"] == two
    assert api.action(server_id, {"os-getConsoleOutput": {"length": 0}}).json()["output"] == ""
    # Nova's tail of -1 keeps every line but the first, as its compute manager slices it.
    minus_one = api.action(server_id, {"os-getConsoleOutput": {"length": -1}}).json()
    assert minus_one["output"].split("\n") == lines[1:]
    bad = api.action(server_id, {"os-getConsoleOutput": {"length": "ten"}})
    assert bad.status_code == 400
    assert api.action(server_id, {"os-getConsoleOutput": {"length": -2}}).status_code == 400
