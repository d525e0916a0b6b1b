"""Nova's server tags (2.26: the sub-resource and the view; 2.52: at create; the tags
filters) and `config_drive`, which ride along with the volume work."""

from __future__ import annotations

from tests.integration.sim.cinder.conftest import nova_fault
from tests.integration.sim.conftest import Api


def test_tags_api_as_nova(nova):
    server_id = nova.create_server(tags=["b", "a"])
    base = f"/servers/{server_id}/tags"
    building = nova.compute("PUT", base, json={"tags": ["x"]})
    assert nova_fault(building, 409) == (
        f"Cannot 'update tags' instance {server_id} while it is in vm_state building"
    )
    assert sorted(nova.compute("GET", base).json()["tags"]) == ["a", "b"]  # reads need no state
    nova.wait(server_id, "ACTIVE")
    replaced = nova.compute("PUT", base, json={"tags": ["y", "x", "y"]})
    assert replaced.status_code == 200 and replaced.json() == {"tags": ["x", "y"]}
    added = nova.compute("PUT", f"{base}/new tag")
    assert added.status_code == 201 and added.text == ""
    assert added.headers["Location"] == f"{nova.url}/compute/v2.1{base}/new%20tag"
    assert nova.compute("PUT", f"{base}/x").status_code == 204  # there already
    assert nova.compute("GET", f"{base}/x").status_code == 204
    assert nova.server(server_id)["tags"] == ["new tag", "x", "y"]
    missing = nova.compute("GET", f"{base}/nope")
    assert nova_fault(missing, 404) == f"Server {server_id} has no tag 'nope'"
    not_there = nova.compute("DELETE", f"{base}/nope")
    assert nova_fault(not_there, 404) == f"Instance {server_id} has no tag 'nope'"
    bad = nova.compute("PUT", base, json={"tags": ["a,b"]})
    assert nova_fault(bad, 400) == (
        "Invalid input for field/attribute 0. Value: a,b. 'a,b' does not match '^[^,/]*$'"
    )
    body = nova.compute("PUT", f"{base}/z", json={"tag": "z"})
    assert nova_fault(body, 400) == "{'tag': 'z'} is not of type 'null'"
    too_many = nova.compute("PUT", base, json={"tags": [f"t{n}" for n in range(50)]})
    assert too_many.status_code == 200
    over = nova.compute("PUT", f"{base}/one-more")
    assert nova_fault(over, 400) == "The number of tags exceeded the per-server limit 50"
    assert nova.compute("DELETE", f"{base}/t0").status_code == 204
    assert nova.compute("DELETE", base).status_code == 204
    assert nova.compute("GET", base).json() == {"tags": []}


def test_tags_need_2_26_and_the_servers_project(cloud, nova):
    server_id = nova.create_server()
    old = Api(cloud.url, version="2.25")
    assert nova_fault(old.compute("GET", f"/servers/{server_id}/tags"), 404) == (
        "The resource could not be found."
    )
    assert "tags" not in old.server(server_id)
    missing = "00000000-0000-0000-0000-000000000000"
    unknown = nova.compute("GET", f"/servers/{missing}/tags")
    assert nova_fault(unknown, 404) == f"Instance {missing} has no mapping to a cell."
    admin = Api(cloud.url, user="admin", version="2.60")
    theirs = admin.create_server()
    refused = nova.compute("GET", f"/servers/{theirs}/tags")
    assert nova_fault(refused, 403) == (
        "Policy doesn't allow os_compute_api:os-server-tags:index to be performed."
    )


def test_tags_filters_on_the_server_list(nova):
    web = nova.create_server(tags=["web", "prod"])
    db = nova.create_server(tags=["db", "prod"])
    dev = nova.create_server(tags=["web", "dev"])

    def listed(**params):
        servers = nova.compute("GET", "/servers/detail", params=params).json()["servers"]
        return {s["id"] for s in servers}

    assert listed(tags="web,prod") == {web}
    assert listed(**{"tags-any": "db,dev"}) == {db, dev}
    assert listed(**{"not-tags": "prod"}) == {dev}
    at_2_51 = Api(nova.url, version="2.51")
    refused = at_2_51.compute(
        "POST",
        "/servers",
        json={"server": {"name": "t", "imageRef": "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01",
                         "flavorRef": "1", "networks": "auto", "tags": ["x"]}},
    )  # fmt: skip
    assert refused.status_code == 400


def test_config_drive_at_create_and_in_the_view(nova):
    with_drive = nova.create_server(config_drive="true")
    without = nova.create_server(config_drive=False)
    plain = nova.create_server()
    assert nova.server(with_drive)["config_drive"] == "True"
    assert nova.server(without)["config_drive"] == ""
    assert nova.server(plain)["config_drive"] == ""
    servers = {s["id"]: s for s in nova.compute("GET", "/servers/detail").json()["servers"]}
    assert servers[with_drive]["config_drive"] == "True"
    assert servers[plain]["config_drive"] == ""
    bad = nova.compute(
        "POST",
        "/servers",
        json={"server": {"name": "t", "imageRef": "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01",
                         "flavorRef": "1", "networks": "auto", "config_drive": "maybe"}},
    )  # fmt: skip
    assert nova_fault(bad, 400).startswith(
        "Invalid input for field/attribute config_drive. Value: maybe. 'maybe' is not one of "
        "[True, 'True', 'TRUE', 'true', '1',"
    )
