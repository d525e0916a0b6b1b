"""Keystone v3 project reads and the version document's v2.0 status, over real HTTP."""

from __future__ import annotations

import requests

from tests.integration.sim.conftest import Api

DEMO = "d0000000000000000000000000000001"
ADMIN = "a0000000000000000000000000000001"
DEMO_USER = "d0000000000000000000000000000d01"


def _get(api: Api, path: str, **params) -> requests.Response:
    return api.http.get(f"{api.url}/identity/v3{path}", params=params)


def test_v2_is_advertised_as_deprecated(sim):
    values = requests.get(f"{sim.url}/identity").json()["versions"]["values"]
    by_id = {v["id"]: v for v in values}
    assert by_id["v3.14"]["status"] == "stable"
    assert by_id["v2.0"]["status"] == "deprecated"
    assert by_id["v2.0"]["updated"] == "2016-08-04T00:00:00Z"
    assert requests.get(f"{sim.url}/identity/v2.0").json()["version"]["status"] == "deprecated"


def test_a_member_reads_its_own_project_only(sim):
    demo = Api(sim.url)
    project = _get(demo, f"/projects/{DEMO}").json()["project"]
    assert project["name"] == "demo" and project["domain_id"] == "default"
    assert project["links"]["self"] == f"{sim.url}/identity/v3/projects/{DEMO}"
    assert project["enabled"] is True and project["is_domain"] is False
    other = _get(demo, f"/projects/{ADMIN}")
    assert other.status_code == 403
    assert other.json()["error"]["message"] == (
        "You are not authorized to perform the requested action: identity:get_project."
    )
    assert _get(demo, "/projects/demo").status_code == 403  # a name is no id, and no target
    listing = _get(demo, "/projects", name="demo")
    assert listing.status_code == 403
    assert "identity:list_projects" in listing.json()["error"]["message"]
    assert requests.get(f"{sim.url}/identity/v3/projects").status_code == 401


def test_a_user_lists_its_own_projects(sim):
    demo = Api(sim.url)
    mine = _get(demo, f"/users/{DEMO_USER}/projects").json()
    assert [p["id"] for p in mine["projects"]] == [DEMO]
    assert mine["links"]["next"] is None
    other = _get(demo, "/users/a0000000000000000000000000000a01/projects")
    assert other.status_code == 403


def test_the_admin_lists_and_filters_projects(sim):
    admin = Api(sim.url, user="admin")
    names = [p["name"] for p in _get(admin, "/projects").json()["projects"]]
    assert names == ["admin", "demo"]
    (demo,) = _get(admin, "/projects", name="demo").json()["projects"]
    assert demo["id"] == DEMO
    assert _get(admin, "/projects", name="nosuch").json()["projects"] == []
    assert _get(admin, f"/projects/{DEMO}").json()["project"]["name"] == "demo"
    missing = _get(admin, "/projects/0123")
    assert missing.status_code == 404
    assert missing.json()["error"]["message"] == "Could not find project: 0123."
