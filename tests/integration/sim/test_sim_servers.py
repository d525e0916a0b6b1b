"""Nova servers on the simulator: create, lifecycle, lists and filters, writes, actions."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

from tests.integration.sim.conftest import CIRROS, FEDORA_38_DEACTIVATED, UBUNTU_OLD, Api


def test_create_builds_then_goes_active(fast_api):
    api = fast_api
    resp = api.compute(
        "POST",
        "/servers",
        json={
            "server": {
                "name": "web-1",
                "imageRef": CIRROS,
                "flavorRef": "2",
                "networks": "auto",
                "metadata": {"role": "web"},
                "tags": ["a"],
                "description": "d",
                "user_data": base64.b64encode(b"#cloud-config\n").decode(),
            }
        },
    )
    assert resp.status_code == 202
    created = resp.json()["server"]
    assert set(created) == {"id", "links", "OS-DCF:diskConfig", "security_groups", "adminPass"}
    assert len(created["adminPass"]) == 12
    assert resp.headers["Location"] == created["links"][0]["href"]
    server = api.server(created["id"])
    assert server["status"] == "BUILD" and server["addresses"] == {}
    active = api.wait(created["id"], "ACTIVE")
    assert active["OS-EXT-STS:power_state"] == 1 and active["OS-SRV-USG:launched_at"]
    assert active["flavor"]["original_name"] == "m1.small"
    assert active["addresses"]["private"][0]["addr"].startswith("10.0.")
    assert active["metadata"] == {"role": "web"} and active["tags"] == ["a"]
    assert active["security_groups"] == [{"name": "default"}]


def test_create_validation(api):
    def create(**fields):
        body = {"name": "x", "imageRef": CIRROS, "flavorRef": "1", "networks": "auto", **fields}
        return api.compute("POST", "/servers", json={"server": body})

    assert create(flavorRef="99").json()["badRequest"]["message"] == (
        "Flavor 99 could not be found."
    )
    assert create(imageRef=FEDORA_38_DEACTIVATED).status_code == 400
    assert create(imageRef=UBUNTU_OLD, flavorRef="42").status_code == 400  # min_ram 512
    assert create(key_name="missing").json()["badRequest"]["message"] == (
        "Invalid key_name provided."
    )
    assert create(user_data="not base64!").status_code == 400
    assert create(bogus=1).status_code == 400
    assert create(name=" padded").status_code == 400
    old = api.compute(
        "POST",
        "/servers",
        headers={"OpenStack-API-Version": "compute 2.1"},
        json={"server": {"name": "x", "imageRef": CIRROS, "flavorRef": "1"}},
    )
    assert old.status_code == 202  # networks only required from 2.37


def test_quota_exceeded_is_403_with_novas_message(make_sim):
    api = Api(make_sim(quota_instances=2).url, version="2.60")
    api.create_server()
    api.create_server()
    resp = api.compute(
        "POST",
        "/servers",
        json={
            "server": {"name": "third", "imageRef": CIRROS, "flavorRef": "1", "networks": "auto"}
        },
    )
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == (
        "Quota exceeded for instances: Requested 1, but already used 2 of 2 instances"
    )


def test_failed_build_goes_to_error_with_fault(fast_api):
    server_id = fast_api.create_server(metadata={"sim:fail": "build"})
    server = fast_api.wait(server_id, "ERROR")
    assert set(server["fault"]) == {"code", "message", "created"}
    assert server["fault"]["code"] == 500


def test_list_filters_name_regex_status_tags_and_paging(make_sim):
    api = Api(make_sim(build_seconds=30).url, version="2.60")
    ids = [api.create_server(f"web-{n}", tags=["web"]) for n in range(3)]
    db_id = api.create_server("db-0", tags=["db"])
    names = {
        s["name"]
        for s in api.compute("GET", "/servers/detail", params={"name": "^web"}).json()["servers"]
    }
    assert names == {"web-0", "web-1", "web-2"}
    built = api.compute("GET", "/servers", params={"status": "BUILD"}).json()["servers"]
    assert len(built) == 4
    tagged = api.compute("GET", "/servers/detail", params={"tags": "db"}).json()["servers"]
    assert [s["id"] for s in tagged] == [db_id]
    untagged = api.compute("GET", "/servers", params={"not-tags": "db"}).json()["servers"]
    assert db_id not in {s["id"] for s in untagged}
    page = api.compute("GET", "/servers/detail", params={"limit": 2}).json()
    assert [s["id"] for s in page["servers"]] == [db_id, ids[2]]  # newest first
    rest = api.http.get(page["servers_links"][0]["href"]).json()["servers"]
    assert [s["id"] for s in rest] == [ids[1], ids[0]]
    unknown = api.compute("GET", "/servers/detail", params={"marker": "nope", "limit": 2})
    assert unknown.status_code == 400
    assert unknown.json()["badRequest"]["message"] == "marker [nope] not found"
    assert api.compute("GET", "/servers", params={"status": "NOPE"}).status_code == 400


def test_changes_since_shows_deleted_servers(fast_api):
    api = fast_api
    since = (datetime.now(UTC) - timedelta(seconds=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    server_id = api.create_server()
    assert api.compute("DELETE", f"/servers/{server_id}").status_code == 204
    assert api.compute("GET", f"/servers/{server_id}").status_code == 404
    assert server_id not in {s["id"] for s in api.compute("GET", "/servers").json()["servers"]}
    changed = api.compute("GET", "/servers/detail", params={"changes-since": since}).json()
    deleted = next(s for s in changed["servers"] if s["id"] == server_id)
    assert deleted["status"] == "DELETED" and deleted["OS-SRV-USG:terminated_at"]


def test_slow_delete_keeps_listing_with_task_deleting(make_sim):
    api = Api(make_sim(build_seconds=0, delete_seconds=0.3).url, version="2.60")
    server_id = api.create_server()
    api.compute("DELETE", f"/servers/{server_id}")
    deleting = api.server(server_id)
    assert deleting["OS-EXT-STS:task_state"] == "deleting" and deleting["status"] == "ACTIVE"
    time.sleep(0.35)
    assert api.compute("GET", f"/servers/{server_id}").status_code == 404


def test_show_update_and_unknown_server(api):
    assert api.compute("GET", "/servers/web-1").json()["itemNotFound"]["message"] == (
        "Instance web-1 could not be found."
    )
    server_id = api.create_server()
    resp = api.compute(
        "PUT", f"/servers/{server_id}", json={"server": {"name": "renamed", "description": "new"}}
    )
    assert resp.status_code == 200
    assert resp.json()["server"]["name"] == "renamed"
    assert "OS-EXT-STS:vm_state" not in resp.json()["server"]  # reduced shape before 2.75
    assert api.server(server_id)["description"] == "new"
    assert api.compute("DELETE", "/servers/00000000-0000-0000-0000-000000000000").status_code == 404


def test_metadata_and_tags(fast_api):
    api = fast_api
    server_id = api.create_server(metadata={"a": "1"})
    base = f"/servers/{server_id}"
    building = api.compute("POST", f"{base}/metadata", json={"metadata": {"b": "2"}})
    assert building.status_code == 409  # not while building
    api.wait(server_id, "ACTIVE")
    merged = api.compute("POST", f"{base}/metadata", json={"metadata": {"b": "2"}}).json()
    assert merged == {"metadata": {"a": "1", "b": "2"}}
    replaced = api.compute("PUT", f"{base}/metadata", json={"metadata": {"c": "3"}}).json()
    assert replaced == {"metadata": {"c": "3"}}
    assert api.compute("PUT", f"{base}/metadata/d", json={"meta": {"d": "4"}}).status_code == 200
    assert api.compute("GET", f"{base}/metadata/d").json() == {"meta": {"d": "4"}}
    assert api.compute("PUT", f"{base}/metadata/e", json={"meta": {"x": "4"}}).status_code == 400
    assert api.compute("DELETE", f"{base}/metadata/d").status_code == 204
    assert api.compute("GET", f"{base}/metadata/d").status_code == 404
    assert api.compute("PUT", f"{base}/tags", json={"tags": ["x", "y"]}).json()["tags"] == [
        "x",
        "y",
    ]
    assert api.compute("PUT", f"{base}/tags/z").status_code == 201
    assert api.compute("GET", f"{base}/tags/z").status_code == 204
    assert api.compute("DELETE", f"{base}/tags/x").status_code == 204
    assert api.compute("GET", f"{base}/tags").json() == {"tags": ["y", "z"]}
    old = api.compute("GET", f"{base}/tags", headers={"OpenStack-API-Version": "compute 2.25"})
    assert old.status_code == 404


def test_resize_confirm_and_revert(fast_api):
    api = fast_api
    server_id = api.create_server(flavorRef="1")
    early = api.action(server_id, {"resize": {"flavorRef": "2"}})
    assert early.status_code == 409 and "conflictingRequest" in early.json()
    api.wait(server_id, "ACTIVE")
    assert api.action(server_id, {"resize": {"flavorRef": "1"}}).status_code == 400
    assert api.action(server_id, {"resize": {"flavorRef": "2"}}).status_code == 202
    assert api.server(server_id)["status"] == "RESIZE"
    resized = api.wait(server_id, "VERIFY_RESIZE")
    assert resized["flavor"]["original_name"] == "m1.small"
    assert api.action(server_id, {"confirmResize": None}).status_code == 204
    assert api.server(server_id)["status"] == "ACTIVE"
    assert api.action(server_id, {"confirmResize": None}).status_code == 409
    api.action(server_id, {"resize": {"flavorRef": "3"}})
    api.wait(server_id, "VERIFY_RESIZE")
    assert api.action(server_id, {"revertResize": None}).status_code == 202
    assert api.server(server_id)["status"] == "REVERT_RESIZE"
    assert api.wait(server_id, "ACTIVE")["flavor"]["original_name"] == "m1.small"


def test_stop_start_reboot_rebuild(fast_api):
    api = fast_api
    server_id = api.create_server()
    api.wait(server_id, "ACTIVE")
    assert api.action(server_id, {"os-start": None}).status_code == 409
    assert api.action(server_id, {"os-stop": None}).status_code == 202
    stopped = api.wait(server_id, "SHUTOFF")
    assert stopped["OS-EXT-STS:power_state"] == 4
    assert api.action(server_id, {"reboot": {"type": "SOFT"}}).status_code == 409
    assert api.action(server_id, {"os-start": None}).status_code == 202
    api.wait(server_id, "ACTIVE")
    assert api.action(server_id, {"reboot": {"type": "HARD"}}).status_code == 202
    assert api.server(server_id)["status"] == "HARD_REBOOT"
    api.wait(server_id, "ACTIVE")
    rebuilt = api.action(server_id, {"rebuild": {"imageRef": UBUNTU_OLD, "name": "again"}})
    assert rebuilt.status_code == 202
    body = rebuilt.json()["server"]
    assert body["status"] == "REBUILD" and body["adminPass"]
    done = api.wait(server_id, "ACTIVE")
    assert done["image"]["id"] == UBUNTU_OLD and done["name"] == "again"
    assert api.action(server_id, {"explode": None}).status_code == 400
    assert api.action(server_id, {"rebuild": {"imageRef": "nope"}}).status_code == 400
