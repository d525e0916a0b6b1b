"""Keystone v2.0 and v3 on the simulator, over real HTTP."""

from __future__ import annotations

import time

import requests

from tests.integration.sim.conftest import v3_password

V2_DEMO = {"username": "demo", "password": "secret"}


def _v2(url: str, auth: dict) -> requests.Response:
    return requests.post(f"{url}/identity/v2.0/tokens", json={"auth": auth})


def test_identity_root_lists_both_versions_with_300(sim):
    resp = requests.get(f"{sim.url}/identity")
    assert resp.status_code == 300
    ids = [v["id"] for v in resp.json()["versions"]["values"]]
    assert ids == ["v3.14", "v2.0"]
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    # the list's links carry rel and href only, as keystone's list does
    links = [link for v in resp.json()["versions"]["values"] for link in v["links"]]
    assert links and all(set(link) == {"rel", "href"} for link in links)
    assert requests.get(f"{sim.url}/identity/v3/").json()["version"]["id"] == "v3.14"
    v2 = requests.get(f"{sim.url}/identity/v2.0").json()["version"]
    assert v2["id"] == "v2.0"
    assert {link["rel"] for link in v2["links"]} == {"self", "describedby"}


def test_v2_tenant_name_gives_the_full_access_document(sim):
    resp = _v2(sim.url, {"tenantName": "demo", "passwordCredentials": V2_DEMO})
    assert resp.status_code == 200
    access = resp.json()["access"]
    token = access["token"]
    assert {"id", "expires", "issued_at", "audit_ids", "tenant"} <= set(token)
    assert token["tenant"]["name"] == "demo" and token["expires"].endswith("Z")
    assert access["user"]["name"] == "demo" and access["metadata"]["roles"]
    by_type = {s["type"]: s["endpoints"][0] for s in access["serviceCatalog"]}
    compute = by_type["compute"]
    assert compute["publicURL"] == f"{sim.url}/compute/v2.1/{token['tenant']['id']}"
    assert {"internalURL", "adminURL", "region"} <= set(compute)
    assert by_type["image"]["publicURL"] == f"{sim.url}/image"


def test_v2_tenant_id_and_token_credentials(sim):
    first = _v2(sim.url, {"tenantName": "", "passwordCredentials": V2_DEMO}).json()["access"]
    assert "tenant" not in first["token"] and first["serviceCatalog"] == []
    project_id = "d0000000000000000000000000000001"
    rescoped = _v2(sim.url, {"token": {"id": first["token"]["id"]}, "tenantId": project_id})
    assert rescoped.status_code == 200
    token = rescoped.json()["access"]["token"]
    assert token["tenant"]["id"] == project_id
    assert token["audit_ids"][1] == first["token"]["audit_ids"][0]


def test_v2_without_tenant_is_unscoped(sim):
    access = _v2(sim.url, {"passwordCredentials": V2_DEMO}).json()["access"]
    assert "tenant" not in access["token"]


def test_v2_rejects_tenant_name_with_tenant_id(sim):
    resp = _v2(sim.url, {"tenantName": "demo", "tenantId": "x", "passwordCredentials": V2_DEMO})
    assert resp.status_code == 400
    assert resp.json()["error"]["code"] == 400


def test_v2_wrong_password_and_unknown_tenant_are_401(sim):
    bad = _v2(
        sim.url,
        {"tenantName": "demo", "passwordCredentials": {"username": "demo", "password": "nope"}},
    )
    assert bad.status_code == 401
    assert bad.json()["error"]["title"] == "Unauthorized"
    assert bad.headers["WWW-Authenticate"].startswith("Keystone uri=")
    other = _v2(sim.url, {"tenantName": "admin", "passwordCredentials": V2_DEMO})
    assert other.status_code == 401
    assert _v2(sim.url, {"token": {"id": "nope"}}).status_code == 401
    assert _v2(sim.url, {}).status_code == 400


def test_v3_password_by_name_scoped_to_project(sim):
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=v3_password())
    assert resp.status_code == 201
    token = resp.json()["token"]
    assert "id" not in token and len(resp.headers["X-Subject-Token"]) == 32
    assert token["project"]["domain"] == {"id": "default", "name": "Default"}
    assert token["roles"] and token["expires_at"].endswith("Z")
    endpoints = {(s["type"], e["interface"]): e for s in token["catalog"] for e in s["endpoints"]}
    assert endpoints[("compute", "public")]["url"] == f"{sim.url}/compute/v2.1"
    assert endpoints[("image", "public")]["region_id"] == "RegionOne"


def test_v3_user_id_project_id_token_method_unscoped_and_nocatalog(sim):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"id": "d0000000000000000000000000000d01", "password": "secret"}
                },
            },
            "scope": {"project": {"id": "d0000000000000000000000000000001"}},
        }
    }
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens?nocatalog", json=body)
    assert resp.status_code == 201 and "catalog" not in resp.json()["token"]
    unscoped = requests.post(
        f"{sim.url}/identity/v3/auth/tokens", json=v3_password(project=None) | {}
    )
    # No scope: keystone falls back to the user's default project.
    assert unscoped.json()["token"]["project"]["name"] == "demo"
    explicit = v3_password(project=None)
    explicit["auth"]["scope"] = "unscoped"
    unscoped = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=explicit)
    assert "project" not in unscoped.json()["token"]
    by_token = {
        "auth": {
            "identity": {
                "methods": ["token"],
                "token": {"id": unscoped.headers["X-Subject-Token"]},
            },
            "scope": {"project": {"name": "demo", "domain": {"name": "Default"}}},
        }
    }
    rescoped = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=by_token)
    assert rescoped.status_code == 201
    assert rescoped.json()["token"]["project"]["name"] == "demo"


def test_v3_errors(sim):
    url = f"{sim.url}/identity/v3/auth/tokens"
    assert requests.post(url, json=v3_password(password="bad")).status_code == 401
    no_domain = v3_password()
    del no_domain["auth"]["identity"]["password"]["user"]["domain"]
    resp = requests.post(url, json=no_domain)
    assert resp.status_code == 400 and "domain" in resp.json()["error"]["message"]
    assert requests.post(url, json=v3_password(project="admin")).status_code == 401
    bad_token = {"auth": {"identity": {"methods": ["token"], "token": {"id": "x"}}}}
    assert requests.post(url, json=bad_token).status_code == 404
    missing = {"auth": {"identity": {"methods": ["password"]}}}
    assert requests.post(url, json=missing).status_code == 400


def test_v3_validate_with_get_and_head(sim):
    url = f"{sim.url}/identity/v3/auth/tokens"
    token = requests.post(url, json=v3_password()).headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token, "X-Subject-Token": token}
    got = requests.get(url, headers=headers)
    assert got.status_code == 200 and got.headers["X-Subject-Token"] == token
    assert got.json()["token"]["user"]["name"] == "demo"
    assert requests.head(url, headers=headers).status_code == 200
    missing = requests.get(url, headers={**headers, "X-Subject-Token": "nope"})
    assert missing.status_code == 404
    assert requests.get(url, headers={"X-Subject-Token": token}).status_code == 401


def test_expired_token_is_401_everywhere(make_sim):
    sim = make_sim(token_ttl=0.5)
    resp = requests.post(f"{sim.url}/identity/v3/auth/tokens", json=v3_password())
    token = resp.headers["X-Subject-Token"]
    headers = {"X-Auth-Token": token}
    assert requests.get(f"{sim.url}/compute/v2.1/flavors", headers=headers).status_code == 200
    time.sleep(0.6)
    expired = requests.get(f"{sim.url}/compute/v2.1/flavors", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["WWW-Authenticate"] == f'Keystone uri="{sim.url}/identity"'
    assert requests.get(f"{sim.url}/image/v2/images", headers=headers).status_code == 401
