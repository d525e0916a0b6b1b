"""Flavor extra specs on the simulator: the admin writes them as Nova's controller takes
them (below 2.86: no value checks), everyone reads them, and a `trait:` spec no host
satisfies leaves Placement nothing: a boot ends in ERROR with "No valid host was found. ",
a resize is taken (202) and the server goes back to its old flavor, with no fault."""

from __future__ import annotations

import time

from tests.integration.sim.conftest import Api

NOWHERE = {"trait:CUSTOM_STACKPLAN_NOWHERE": "required"}


def _clients(make_sim, **knobs) -> tuple[Api, Api]:
    url = make_sim(**knobs).url
    return Api(url, version="2.64"), Api(url, user="admin", version="2.64")


def _specs(api: Api, flavor_id: str, body) -> int:
    return api.compute("POST", f"/flavors/{flavor_id}/os-extra_specs", json=body).status_code


def test_the_admin_writes_extra_specs_and_everyone_reads_them(make_sim):
    demo, admin = _clients(make_sim)
    made = admin.compute("POST", "/flavors/2/os-extra_specs", json={"extra_specs": {"n": 1}})
    assert (made.status_code, made.json()) == (200, {"extra_specs": {"n": 1}})  # as given
    assert demo.compute("GET", "/flavors/2/os-extra_specs").json() == {"extra_specs": {"n": "1"}}
    assert demo.compute("GET", "/flavors/2/os-extra_specs/n").json() == {"n": "1"}
    assert demo.compute("GET", "/flavors/2").json()["flavor"]["extra_specs"] == {"n": "1"}
    listed = demo.compute("GET", "/flavors/detail").json()["flavors"]
    assert {f["id"]: f["extra_specs"] for f in listed}["2"] == {"n": "1"}
    assert {f["id"]: f["extra_specs"] for f in listed}["1"] == {}
    denied = demo.compute("POST", "/flavors/2/os-extra_specs", json={"extra_specs": {"a": "b"}})
    assert denied.status_code == 403
    assert denied.json()["forbidden"]["message"] == (
        "Policy doesn't allow os_compute_api:os-flavor-extra-specs:create to be performed."
    )
    # the body's schema is checked before the policy, the flavor after it
    missing = demo.compute("POST", "/flavors/2/os-extra_specs", json={})
    assert missing.json()["badRequest"]["message"] == "'extra_specs' is a required property"
    bad_key = admin.compute("POST", "/flavors/2/os-extra_specs", json={"extra_specs": {"a!": "b"}})
    assert bad_key.json()["badRequest"]["message"] == (
        "Invalid input for field/attribute extra_specs. Value: {'a!': 'b'}. 'a!' does not "
        "match any of the regexes: '^[a-zA-Z0-9-_:. ]{1,255}$'"
    )
    unknown = admin.compute("POST", "/flavors/nope/os-extra_specs", json={"extra_specs": {}})
    assert unknown.json()["itemNotFound"]["message"] == "Flavor nope could not be found."


def test_one_extra_spec_is_replaced_and_deleted_by_key(make_sim):
    demo, admin = _clients(make_sim)
    assert _specs(admin, "3", {"extra_specs": {"k": "v"}}) == 200
    put = admin.compute("PUT", "/flavors/3/os-extra_specs/k", json={"k": "w"})
    assert (put.status_code, put.json()) == (200, {"k": "w"})
    mismatch = admin.compute("PUT", "/flavors/3/os-extra_specs/k", json={"j": "w"})
    assert mismatch.json()["badRequest"]["message"] == "Request body and URI mismatch"
    two = admin.compute("PUT", "/flavors/3/os-extra_specs/k", json={"k": "a", "j": "b"})
    assert two.json()["badRequest"]["message"] == "{'k': 'a', 'j': 'b'} has too many properties"
    assert demo.compute("DELETE", "/flavors/3/os-extra_specs/k").status_code == 403
    gone = admin.compute("DELETE", "/flavors/3/os-extra_specs/k")
    assert (gone.status_code, gone.content) == (200, b"")  # Nova's 200, not 204
    again = admin.compute("DELETE", "/flavors/3/os-extra_specs/k")
    assert again.status_code == 404
    assert again.json()["itemNotFound"]["message"] == ("Flavor 3 has no extra specs with key k.")
    assert demo.compute("GET", "/flavors/3/os-extra_specs").json() == {"extra_specs": {}}


def test_a_boot_on_a_flavor_no_host_can_take_ends_with_no_valid_host(make_sim):
    demo, admin = _clients(make_sim, build_seconds=0.1)
    assert _specs(admin, "2", {"extra_specs": NOWHERE}) == 200
    server = demo.wait(demo.create_server(flavorRef="2"), "ERROR")
    assert server["fault"]["message"] == "No valid host was found. "  # Placement's: no reason
    assert server["fault"]["code"] == 500 and server["hostId"] == ""
    assert server["flavor"]["extra_specs"] == NOWHERE
    (action,) = demo.compute("GET", f"/servers/{server['id']}/os-instance-actions").json()[
        "instanceActions"
    ]
    assert (action["action"], action["message"]) == ("create", "Error")
    shown = demo.compute(
        "GET", f"/servers/{server['id']}/os-instance-actions/{action['request_id']}"
    )
    (event,) = shown.json()["instanceAction"]["events"]
    assert (event["event"], event["result"]) == ("conductor_schedule_and_build_instances", "Error")
    # traits the hosts report are there to ask for, and to forbid
    assert _specs(admin, "3", {"extra_specs": {"trait:COMPUTE_NODE": "required"}}) == 200
    assert demo.wait(demo.create_server(flavorRef="3"), "ACTIVE")["flavor"]["original_name"] == (
        "m1.medium"
    )
    assert _specs(admin, "4", {"extra_specs": {"trait:COMPUTE_NODE": "forbidden"}}) == 200
    assert demo.wait(demo.create_server(flavorRef="4"), "ERROR")["fault"]["message"] == (
        "No valid host was found. "
    )


def test_a_resize_no_host_can_take_is_taken_then_goes_back_to_the_old_flavor(make_sim):
    demo, admin = _clients(make_sim, build_seconds=0.3)
    assert _specs(admin, "5", {"extra_specs": NOWHERE}) == 200
    server_id = demo.create_server(flavorRef="1")
    demo.wait(server_id, "ACTIVE")
    resp = demo.action(server_id, {"resize": {"flavorRef": "5"}})
    assert resp.status_code == 202  # the scheduler is asked after the answer
    during = demo.server(server_id)
    assert (during["status"], during["OS-EXT-STS:task_state"]) == ("RESIZE", "resize_prep")
    time.sleep(0.4)
    after = demo.server(server_id)
    assert (after["status"], after["OS-EXT-STS:task_state"]) == ("ACTIVE", None)
    assert after["flavor"]["original_name"] == "m1.tiny" and after["flavor"]["extra_specs"] == {}
    assert "fault" not in after
    actions = demo.compute("GET", f"/servers/{server_id}/os-instance-actions").json()
    resize, create = actions["instanceActions"]
    assert (resize["action"], resize["message"]) == ("resize", "Error")
    assert resize["request_id"] == resp.headers["x-openstack-request-id"]
    assert (create["action"], create["message"]) == ("create", None)
    shown = demo.compute("GET", f"/servers/{server_id}/os-instance-actions/{resize['request_id']}")
    events = shown.json()["instanceAction"]["events"]
    assert [(e["event"], e["result"]) for e in events] == [
        ("cold_migrate", "Error"),
        ("conductor_migrate_server", "Error"),
    ]
    # a stopped server goes back to SHUTOFF the same way; a resize that fits still works
    assert demo.action(server_id, {"os-stop": None}).status_code == 202
    demo.wait(server_id, "SHUTOFF")
    assert demo.action(server_id, {"resize": {"flavorRef": "5"}}).status_code == 202
    time.sleep(0.4)
    assert demo.server(server_id)["status"] == "SHUTOFF"
    assert demo.action(server_id, {"resize": {"flavorRef": "2"}}).status_code == 202
    assert demo.wait(server_id, "VERIFY_RESIZE")["flavor"]["original_name"] == "m1.small"
