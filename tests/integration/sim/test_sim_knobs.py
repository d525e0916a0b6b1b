"""Simulator knobs and cross-cutting behaviour: stats, rate limit, faults, latency,
request ids, restart on the same database, and the classic API guide's flow."""

from __future__ import annotations

import time

import requests

from tests.helpers import run_stackplan
from tests.integration.sim.conftest import Api

CLASSIC = ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.nano", "m1.xlarge", "m1.micro"]


def test_classic_guide_flow_with_v2_tokens(sim):
    auth = {
        "auth": {
            "tenantName": "demo",
            "passwordCredentials": {"username": "demo", "password": "secret"},
        }
    }
    access = requests.post(f"{sim.url}/identity/v2.0/tokens", json=auth).json()["access"]
    headers = {"X-Auth-Token": access["token"]["id"]}
    compute = next(s for s in access["serviceCatalog"] if s["type"] == "compute")
    base = compute["endpoints"][0]["publicURL"]
    flavors = requests.get(f"{base}/flavors", headers=headers).json()["flavors"]
    assert [f["name"] for f in flavors] == CLASSIC
    assert flavors[0]["links"][0]["href"] == f"{base}/flavors/1"
    images = requests.get(f"{base}/images", headers=headers).json()["images"]
    assert "cirros-0.6.2-x86_64-disk" in {i["name"] for i in images}
    servers = requests.get(f"{base}/servers", headers=headers)
    assert servers.status_code == 200 and "servers" in servers.json()


def test_stats_count_requests_per_route_and_reset(make_sim):
    sim = make_sim()
    api = Api(sim.url)
    assert requests.delete(f"{sim.url}/_sim/stats").status_code == 204
    assert requests.get(f"{sim.url}/_sim/stats").json()["first_arrived"] is None
    before = time.time()
    api.compute("GET", "/servers/detail")
    api.compute("GET", "/servers/detail")
    api.compute("GET", "/servers/00000000-0000-0000-0000-000000000000")
    after = time.time()
    stats = requests.get(f"{sim.url}/_sim/stats").json()
    assert stats["total"] == 3
    assert stats["routes"]["GET /compute/v2.1/servers/detail"] == 2
    assert stats["routes"]["GET /compute/v2.1/servers/{server_id}"] == 1
    assert stats["statuses"] == {"200": 2, "404": 1}
    # When the first arrived and the last was handled: a command's time on the wire.
    assert before <= stats["first_arrived"] <= stats["last_handled"] <= after


def test_rate_limit_answers_429_with_retry_after(make_sim):
    sim = make_sim(rate_limit=5)
    statuses = []
    for _ in range(12):
        resp = requests.get(f"{sim.url}/compute/v2.1/")
        statuses.append(resp.status_code)
        if resp.status_code == 429:
            assert int(resp.headers["Retry-After"]) >= 1
            body = resp.json()["overLimit"]
            assert body["code"] == 429 and body["retryAfter"] == resp.headers["Retry-After"]
    assert 429 in statuses and statuses[0] == 200
    assert requests.get(f"{sim.url}/_sim/stats").status_code == 200  # never limited


def test_fault_injection_fails_before_any_effect(make_sim):
    sim = make_sim(fault_rate=1.0, seed=7)
    assert requests.get(f"{sim.url}/identity").status_code == 300  # discovery is spared
    resp = requests.post(
        f"{sim.url}/identity/v2.0/tokens",
        json={"auth": {"passwordCredentials": {"username": "demo", "password": "secret"}}},
    )
    assert resp.status_code in (500, 503)
    assert resp.json()["error"]["code"] == resp.status_code
    half = make_sim(fault_rate=0.5, seed=1)
    codes = {requests.get(f"{half.url}/image/v2/images").status_code for _ in range(30)}
    assert codes & {500, 503} and 401 in codes  # the rest reach the auth check


def test_latency_is_added_to_every_response(make_sim):
    sim = make_sim(latency_ms=200)
    started = time.monotonic()
    resp = requests.get(f"{sim.url}/identity")
    assert time.monotonic() - started >= 0.2
    assert resp.headers["x-openstack-request-id"].startswith("req-")
    assert resp.headers["Content-Type"] == "application/json"


def test_restart_keeps_servers_and_keypairs(sim_process, tmp_path):
    db = str(tmp_path / "sim.sqlite")
    first = sim_process(db=db, build_seconds=0)
    api = Api(first.url, version="2.60")
    private = [{"uuid": api.network_id("private")}]  # `sim serve` seeds `shared` too
    ids = {api.create_server(f"keep-{n}", networks=private) for n in range(3)}
    key = api.compute("POST", "/os-keypairs", json={"keypair": {"name": "keep"}})
    assert key.status_code == 201
    addresses = {s: api.wait(s, "ACTIVE")["addresses"] for s in ids}
    assert first.stop() == 0
    second = sim_process(db=db, build_seconds=0)
    api = Api(second.url, version="2.60")
    listed = api.compute("GET", "/servers/detail").json()["servers"]
    assert {s["id"] for s in listed} == ids
    assert all(s["status"] == "ACTIVE" for s in listed)
    assert {s["id"]: s["addresses"] for s in listed} == addresses  # the ports stayed
    assert api.compute("GET", "/os-keypairs/keep").status_code == 200
    second.kill()
    third = sim_process(db=db)
    assert len(Api(third.url).compute("GET", "/servers").json()["servers"]) == 3


def test_sim_env_fixture_matches_the_cli_and_authenticates(sim, sim_env):
    port = sim.url.rsplit(":", 1)[-1]
    done = run_stackplan(["sim", "env", "--port", port])
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert f"export OS_AUTH_URL={sim_env['OS_AUTH_URL']}" in out
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {
                        "name": sim_env["OS_USERNAME"],
                        "password": sim_env["OS_PASSWORD"],
                        "domain": {"name": sim_env["OS_USER_DOMAIN_NAME"]},
                    }
                },
            },
            "scope": {
                "project": {
                    "name": sim_env["OS_PROJECT_NAME"],
                    "domain": {"name": sim_env["OS_PROJECT_DOMAIN_NAME"]},
                }
            },
        }
    }
    resp = requests.post(f"{sim_env['OS_AUTH_URL']}/auth/tokens", json=body)
    assert resp.status_code == 201


def test_glance_sorting(api, sim):
    url = f"{sim.url}/image/v2/images"
    by_name = api.http.get(url, params={"sort_key": "name", "sort_dir": "asc"}).json()
    assert by_name["images"][0]["name"] == "Fedora 38"
    newest = api.http.get(url).json()["images"][0]
    assert newest["created_at"] == max(i["created_at"] for i in by_name["images"])
