"""Nova server groups on the simulator over HTTP: the body of each microversion, Nova's
validation and quota errors, members as servers come and go, and placement by policy."""

from __future__ import annotations

from tests.integration.sim.conftest import Api


def _group(api: Api, **fields) -> dict:
    resp = api.compute("POST", "/os-server-groups", json={"server_group": fields})
    assert resp.status_code == 200, resp.text
    return resp.json()["server_group"]


def _grouped(api: Api, group_id: str) -> str:
    body = {
        "server": {
            "name": "g",
            "imageRef": "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01",
            "flavorRef": "1",
            "networks": "auto",
        },
        "os:scheduler_hints": {"group": group_id},
    }
    resp = api.compute("POST", "/servers", json=body)
    assert resp.status_code == 202, resp.text
    return resp.json()["server"]["id"]


def test_the_body_follows_the_microversion(make_sim) -> None:
    url = make_sim(build_seconds=0.1).url
    new, old, oldest = Api(url, version="2.64"), Api(url, version="2.60"), Api(url, version="2.1")
    group = _group(new, name="g", policy="anti-affinity", rules={"max_server_per_host": 2})
    assert set(group) == {"id", "name", "policy", "rules", "members", "project_id", "user_id"}
    assert group["rules"] == {"max_server_per_host": 2}
    shown = old.compute("GET", f"/os-server-groups/{group['id']}").json()["server_group"]
    assert shown["policies"] == ["anti-affinity"] and shown["metadata"] == {}
    assert "policy" not in shown and "rules" not in shown
    assert (
        "project_id"
        not in oldest.compute("GET", f"/os-server-groups/{group['id']}").json()["server_group"]
    )
    listed = new.compute("GET", "/os-server-groups").json()["server_groups"]
    assert [g["id"] for g in listed] == [group["id"]]


def test_nova_validation_and_quota_errors(make_sim) -> None:
    url = make_sim(quota_server_groups=1).url
    new, old = Api(url, version="2.64"), Api(url, version="2.60")
    resp = new.compute("POST", "/os-server-groups", json={"server_group": {"name": "g"}})
    assert resp.status_code == 400 and "'policy' is a required property" in resp.text
    body = {
        "server_group": {"name": "g", "policy": "affinity", "rules": {"max_server_per_host": 2}}
    }
    resp = new.compute("POST", "/os-server-groups", json=body)
    assert resp.status_code == 400
    assert resp.json()["badRequest"]["message"] == "Only anti-affinity policy supports rules."
    body = {"server_group": {"name": "g", "policy": "anti-affinity"}}
    assert old.compute("POST", "/os-server-groups", json=body).status_code == 400
    _group(new, name="g", policy="affinity")
    resp = new.compute("POST", "/os-server-groups", json=body)
    assert resp.status_code == 403
    assert resp.json()["forbidden"]["message"] == "Quota exceeded, too many server groups."
    limits = new.compute("GET", "/limits").json()["limits"]["absolute"]
    assert (limits["maxServerGroups"], limits["totalServerGroupsUsed"]) == (1, 1)
    missing = "00000000-0000-4000-8000-000000000000"
    resp = new.compute("DELETE", f"/os-server-groups/{missing}")
    assert resp.status_code == 404 and f"Instance group {missing} could not be found." in resp.text


def test_members_come_and_go_with_their_servers(make_sim) -> None:
    api = Api(make_sim(build_seconds=0.1, hosts=2).url, version="2.64")
    group = _group(api, name="g", policy="soft-anti-affinity")
    first, second = _grouped(api, group["id"]), _grouped(api, group["id"])
    shown = api.compute("GET", f"/os-server-groups/{group['id']}").json()["server_group"]
    assert sorted(shown["members"]) == sorted([first, second])
    api.wait(first, "ACTIVE")
    api.wait(second, "ACTIVE")
    assert api.server(first)["hostId"] != api.server(second)["hostId"]
    assert api.compute("DELETE", f"/servers/{first}").status_code == 204
    shown = api.compute("GET", f"/os-server-groups/{group['id']}").json()["server_group"]
    assert shown["members"] == [second]


def test_placement_obeys_the_policy_and_reports_no_valid_host(make_sim) -> None:
    url = make_sim(build_seconds=0.1, hosts=2).url
    api, admin = Api(url, version="2.64"), Api(url, user="admin", version="2.64")
    together = _group(api, name="together", policy="affinity")
    apart = _group(api, name="apart", policy="anti-affinity")
    a, b = _grouped(api, together["id"]), _grouped(api, together["id"])
    assert api.wait(a, "ACTIVE")["hostId"] == api.wait(b, "ACTIVE")["hostId"]
    spread = [_grouped(api, apart["id"]) for _ in range(3)]
    hosts = [api.wait(s, "ACTIVE")["hostId"] for s in spread[:2]]
    assert hosts[0] != hosts[1]
    failed = api.wait(spread[2], "ERROR")
    assert failed["fault"]["message"].startswith("No valid host was found.")
    assert failed["hostId"] == ""
    # The host's name is an admin's to see, as in Nova; a member sees only hostId.
    assert "OS-EXT-SRV-ATTR:host" not in api.server(a)
    mine = _group(admin, name="admins", policy="affinity")
    c, d = _grouped(admin, mine["id"]), _grouped(admin, mine["id"])
    names = {admin.wait(s, "ACTIVE")["OS-EXT-SRV-ATTR:host"] for s in (c, d)}
    assert len(names) == 1 and names.pop().startswith("sim-compute-")


def test_a_hint_naming_no_group_is_refused(make_sim) -> None:
    api = Api(make_sim().url, version="2.64")
    resp = api.compute(
        "POST",
        "/servers",
        json={
            "server": {"name": "x", "imageRef": "x", "flavorRef": "1", "networks": "auto"},
            "os:scheduler_hints": {"group": "00000000-0000-4000-8000-000000000000"},
        },
    )
    assert resp.status_code == 400
