"""Instance actions on the simulator (`/servers/{id}/os-instance-actions`): one per
action Nova records, under the id of the request that asked for it, newest first, with
the events the conductor and the compute host add, as they stand when read."""

from __future__ import annotations

import time

from tests.integration.sim.conftest import Api


def _actions(api: Api, server_id: str, **params) -> dict:
    resp = api.compute("GET", f"/servers/{server_id}/os-instance-actions", params=params)
    assert resp.status_code == 200, resp.text
    return resp.json()


def _action(api: Api, server_id: str, request_id: str, version: str | None = None) -> dict:
    headers = {"OpenStack-API-Version": f"compute {version}"} if version else {}
    path = f"/servers/{server_id}/os-instance-actions/{request_id}"
    resp = api.compute("GET", path, headers=headers)
    assert resp.status_code == 200, resp.text
    return resp.json()["instanceAction"]


def test_each_action_is_recorded_with_nova_s_events(make_sim):
    api = Api(make_sim(build_seconds=0.1).url, version="2.64")
    server_id = api.create_server(flavorRef="1")
    api.wait(server_id, "ACTIVE")
    steps = [
        ({"os-stop": None}, "SHUTOFF"),
        ({"os-start": None}, "ACTIVE"),
        ({"reboot": {"type": "SOFT"}}, "ACTIVE"),
        ({"resize": {"flavorRef": "2"}}, "VERIFY_RESIZE"),
        ({"confirmResize": None}, "ACTIVE"),
        ({"lock": None}, "ACTIVE"),
        ({"unlock": None}, "ACTIVE"),
        ({"os-getConsoleOutput": {"length": 1}}, "ACTIVE"),  # not an instance action
    ]
    ids = []
    for body, status in steps:
        resp = api.action(server_id, body)
        assert resp.status_code < 300, resp.text
        ids.append(resp.headers["x-openstack-request-id"])
        api.wait(server_id, status)
    api.compute("PUT", f"/servers/{server_id}", json={"server": {"name": "renamed"}})  # neither
    listed = _actions(api, server_id)["instanceActions"]
    assert [a["action"] for a in listed] == [
        "unlock",
        "lock",
        "confirmResize",
        "resize",
        "reboot",
        "start",
        "stop",
        "create",
    ]
    assert [a["request_id"] for a in listed[:7]] == list(reversed(ids[:7]))
    assert all(a["message"] is None and a["instance_uuid"] == server_id for a in listed)
    assert set(listed[0]) == {
        "action",
        "instance_uuid",
        "request_id",
        "user_id",
        "project_id",
        "start_time",
        "message",
        "updated_at",
    }
    events = {
        a["action"]: [e["event"] for e in _action(api, server_id, a["request_id"])["events"]]
        for a in listed
    }
    assert events["resize"] == [  # newest first, as Nova orders them
        "compute_finish_resize",
        "compute_resize_instance",
        "compute_prep_resize",
        "cold_migrate",
        "conductor_migrate_server",
    ]
    assert events["stop"] == ["compute_stop_instance"] and events["lock"] == ["api_lock"]
    assert events["create"] == ["compute__do_build_and_run_instance"]
    event = _action(api, server_id, listed[-1]["request_id"])["events"][0]
    assert set(event) == {"event", "start_time", "finish_time", "result", "hostId"}
    assert event["hostId"] == api.server(server_id)["hostId"]  # the compute host's, hashed


def test_what_each_microversion_and_the_admin_see(make_sim):
    url = make_sim(build_seconds=0.1).url
    admin = Api(url, user="admin", version="2.64")
    server_id = admin.create_server(flavorRef="1")
    admin.wait(server_id, "ACTIVE")
    (create,) = _actions(admin, server_id)["instanceActions"]
    (event,) = _action(admin, server_id, create["request_id"])["events"]
    assert event["host"].startswith("sim-compute-") and event["traceback"] is None
    old = _action(admin, server_id, create["request_id"], "2.61")["events"][0]
    assert "host" not in old and "hostId" not in old and "traceback" in old
    before_258 = admin.compute(
        "GET",
        f"/servers/{server_id}/os-instance-actions",
        headers={"OpenStack-API-Version": "compute 2.57"},
    ).json()["instanceActions"][0]
    assert "updated_at" not in before_258
    demo = Api(url, version="2.64")
    mine = demo.create_server(flavorRef="1")
    demo.wait(mine, "ACTIVE")
    (action,) = _actions(demo, mine)["instanceActions"]
    assert "events" not in _action(demo, mine, action["request_id"], "2.50")  # admin only
    assert "traceback" not in _action(demo, mine, action["request_id"], "2.51")["events"][0]
    # Nova formats timestamps as naive datetimes with microseconds, no zone
    assert "T" in action["start_time"] and not action["start_time"].endswith("Z")


def test_an_event_is_shown_unfinished_until_its_task_ends(make_sim):
    api = Api(make_sim(build_seconds=0.6).url, version="2.64")
    server_id = api.create_server(flavorRef="1")
    (create,) = _actions(api, server_id)["instanceActions"]
    (event,) = _action(api, server_id, create["request_id"])["events"]
    assert (event["finish_time"], event["result"]) == (None, None)
    assert create["updated_at"] == create["start_time"]
    api.wait(server_id, "ACTIVE")
    (event,) = _action(api, server_id, create["request_id"])["events"]
    assert event["result"] == "Success" and event["finish_time"] > event["start_time"]


def test_paging_filters_and_errors_from_2_58(make_sim):
    api = Api(make_sim(build_seconds=0.1).url, version="2.64")
    server_id = api.create_server(flavorRef="1")
    api.wait(server_id, "ACTIVE")
    for body in ({"lock": None}, {"unlock": None}):
        assert api.action(server_id, body).status_code == 202
    page = _actions(api, server_id, limit=2)
    assert [a["action"] for a in page["instanceActions"]] == ["unlock", "lock"]
    (link,) = page["links"]
    assert (
        link["rel"] == "next"
        and f"marker={page['instanceActions'][1]['request_id']}" in (link["href"])
    )
    rest = api.http.get(link["href"]).json()
    assert [a["action"] for a in rest["instanceActions"]] == ["create"] and "links" not in rest
    assert _actions(api, server_id, **{"changes-since": "2099-01-01T00:00:00Z"}) == {
        "instanceActions": []
    }
    base = f"/servers/{server_id}/os-instance-actions"
    for query, message in (
        ("?foo=1", "Additional properties are not allowed ('foo' was unexpected)"),
        (
            "?limit=-1",
            "Invalid input for query parameters limit. Value: -1. '-1' does not match '^[0-9]*$'",
        ),
        ("?marker=nope", "Marker None could not be found."),
        (
            "?changes-since=bad",
            "Invalid input for query parameters changes-since. Value: bad. 'bad' is not a "
            "'date-time'",
        ),
    ):
        resp = api.compute("GET", base + query)
        assert resp.status_code == 400 and resp.json()["badRequest"]["message"] == message
    missing = api.compute("GET", base + "/req-nope")
    assert missing.json()["itemNotFound"]["message"] == "Action req-nope not found"
    nowhere = api.compute(
        "GET", "/servers/00000000-0000-0000-0000-000000000001/os-instance-actions"
    )
    assert nowhere.json()["itemNotFound"]["message"] == (
        "Instance 00000000-0000-0000-0000-000000000001 could not be found."
    )


def test_a_deleted_server_keeps_its_actions_from_2_21(make_sim):
    api = Api(make_sim(build_seconds=0.1, delete_seconds=0.1).url, version="2.64")
    server_id = api.create_server(flavorRef="1")
    api.wait(server_id, "ACTIVE")
    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204
    time.sleep(0.2)
    assert api.compute("GET", f"/servers/{server_id}").status_code == 404
    delete, _create = _actions(api, server_id)["instanceActions"]
    (event,) = _action(api, server_id, delete["request_id"])["events"]
    assert (delete["action"], event["event"]) == ("delete", "compute_terminate_instance")
    old = api.compute(
        "GET",
        f"/servers/{server_id}/os-instance-actions",
        headers={"OpenStack-API-Version": "compute 2.20"},
    )
    assert old.status_code == 404
