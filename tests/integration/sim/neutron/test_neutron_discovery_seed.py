"""Neutron's version documents, extensions, catalog entry, auth, error body, and the
devstack topology the simulator starts with."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import requests

from tests.integration.sim.neutron.conftest import ADMIN_PROJECT, DEMO_PROJECT, Neutron, error


def test_version_document_and_resources(cloud, demo):
    resp = requests.get(f"{cloud.url}/networking/")
    assert resp.status_code == 200
    assert resp.json() == {
        "versions": [
            {
                "id": "v2.0",
                "status": "CURRENT",
                "links": [{"rel": "self", "href": f"{cloud.url}/networking/v2.0/"}],
            }
        ]
    }
    resources = demo.call("GET", "/").json()["resources"]
    assert {r["collection"] for r in resources} == {"networks", "subnets", "subnetpools", "ports"}
    # Neutron answers the version root only with its trailing slash
    error(demo.call("GET", ""), 404)


def test_extensions_list_and_show(demo):
    aliases = {e["alias"] for e in demo.listing("extensions")}
    assert {
        "external-net",
        "router",
        "ext-gw-mode",
        "security-group",
        "standard-attr-tag",
        "port-security",
        "allowed-address-pairs",
        "quotas",
        "quota_details",
        "pagination",
        "sorting",
        "filter-validation",
        "net-mtu",
        "project-id",
    } <= aliases
    assert "extra_dhcp_opt" not in aliases
    ext = demo.get("/extensions/router").json()["extension"]
    assert ext["name"] == "Neutron L3 Router" and ext["links"] == []
    assert error(demo.get("/extensions/nope"), 404) == (
        "HTTPNotFound",
        "Extension with alias nope does not exist",
    )


def test_catalog_lists_the_network_endpoint(cloud):
    body = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"name": "Default"}, "password": "secret"}
                },
            }
        }
    }
    token = requests.post(f"{cloud.url}/identity/v3/auth/tokens", json=body).json()["token"]
    network = next(s for s in token["catalog"] if s["type"] == "network")
    assert network["name"] == "neutron"
    assert {e["url"] for e in network["endpoints"]} == {f"{cloud.url}/networking"}
    v2 = requests.post(
        f"{cloud.url}/identity/v2.0/tokens",
        json={
            "auth": {
                "passwordCredentials": {"username": "demo", "password": "secret"},
                "tenantName": "demo",
            }
        },
    ).json()["access"]["serviceCatalog"]
    (entry,) = [s for s in v2 if s["type"] == "network"]
    assert entry["endpoints"][0]["publicURL"] == f"{cloud.url}/networking"


def test_stats_count_neutron_route_templates(cloud, demo):
    network = demo.listing("networks")[0]
    demo.get(f"/networks/{network['id']}")
    routes = requests.get(f"{cloud.url}/_sim/stats").json()["routes"]
    assert routes["GET /networking/v2.0/networks"] >= 1
    assert routes["GET /networking/v2.0/networks/{id}"] == 1


def test_token_required_and_error_bodies(cloud, demo):
    resp = requests.get(f"{cloud.url}/networking/v2.0/networks")
    assert resp.status_code == 401 and "error" in resp.json()  # keystonemiddleware's body
    assert error(demo.get("/nothing-here"), 404) == (
        "HTTPNotFound",
        "The resource could not be found.",
    )
    kind, message = error(demo.call("PATCH", "/networks"), 405)
    assert kind == "HTTPMethodNotAllowed"
    assert message == "The method specified is not allowed for this resource."
    assert error(demo.get(f"/networks/{'0' * 8}-0000-0000-0000-{'0' * 12}"), 404) == (
        "NetworkNotFound",
        "Network 00000000-0000-0000-0000-000000000000 could not be found.",
    )


def test_seed_is_devstacks_topology(demo, admin):
    nets = {n["name"]: n for n in admin.listing("networks")}
    public, private, shared = nets["public"], nets["private"], nets["shared"]
    assert public["router:external"] and not public["shared"]
    assert public["project_id"] == ADMIN_PROJECT and public["mtu"] == 1500
    assert shared["shared"] and not shared["router:external"]
    assert shared["project_id"] == ADMIN_PROJECT
    assert private["project_id"] == DEMO_PROJECT and private["mtu"] == 1450
    subnets = {s["name"]: s for s in admin.listing("subnets")}
    pub = subnets["public-subnet"]
    assert (pub["cidr"], pub["gateway_ip"], pub["enable_dhcp"]) == (
        "172.24.4.0/24",
        "172.24.4.1",
        False,
    )
    assert pub["allocation_pools"] == [{"start": "172.24.4.2", "end": "172.24.4.254"}]
    assert pub["router:external"] is True and pub["network_id"] == public["id"]
    priv = subnets["private-subnet"]
    assert (priv["cidr"], priv["gateway_ip"]) == ("10.0.0.0/26", "10.0.0.1")
    assert priv["allocation_pools"] == [{"start": "10.0.0.2", "end": "10.0.0.62"}]
    assert subnets["shared-subnet"]["cidr"] == "192.168.233.0/24"
    (router,) = demo.listing("routers", name="router1")
    gateway = router["external_gateway_info"]
    assert gateway["network_id"] == public["id"] and gateway["enable_snat"] is True
    (gw_ip,) = gateway["external_fixed_ips"]
    assert gw_ip["subnet_id"] == pub["id"] and gw_ip["ip_address"].startswith("172.24.4.")
    (interface,) = demo.listing("ports", device_id=router["id"])
    assert interface["device_owner"] == "network:router_interface"
    assert interface["fixed_ips"] == [{"subnet_id": priv["id"], "ip_address": "10.0.0.1"}]
    for client in (demo, admin):
        names = [g["name"] for g in client.listing("security-groups", project_id=client.project_id)]
        assert names == ["default"]


def test_members_see_shared_and_external_networks_only(demo, admin):
    assert {n["name"] for n in demo.listing("networks")} == {"public", "private", "shared"}
    hidden = admin.create("network", name="admin-only")
    assert hidden["id"] not in {n["id"] for n in demo.listing("networks")}
    error(demo.get(f"/networks/{hidden['id']}"), 404)
    # the router's gateway port has no project: only the admin sees it
    assert not demo.listing("ports", device_owner="network:router_gateway")
    assert len(admin.listing("ports", device_owner="network:router_gateway")) == 1
    assert {s["name"] for s in demo.listing("subnets")} == {
        "public-subnet",
        "private-subnet",
        "shared-subnet",
    }


def test_seed_survives_restarts_with_db(make_sim, tmp_path):
    db = str(tmp_path / "sim.db")
    first = Neutron(make_sim(db=db, shared_network=True).url)
    made = first.create("network", name="kept")
    seeded = {n["name"]: n["id"] for n in first.listing("networks")}
    second = Neutron(make_sim(db=db, shared_network=True).url)
    again = {n["name"]: n["id"] for n in second.listing("networks")}
    assert again == seeded and again["kept"] == made["id"]
    assert len(second.listing("routers", name="router1")) == 1
    assert len(second.listing("security-groups", name="default")) == 1


def _first_requests_at_once(url: str, token: str, count: int = 8) -> list[int]:
    """The status of `count` Neutron listings sent together to a cloud that has had none."""
    start = threading.Barrier(count, timeout=10)
    paths = ["networks", "subnets", "ports", "routers", "security-groups", "floatingips"]

    def first(i: int) -> int:
        start.wait()
        listing = f"{url}/networking/v2.0/{paths[i % len(paths)]}"
        return requests.get(listing, headers={"X-Auth-Token": token}, timeout=30).status_code

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(first, range(count)))


def test_the_first_requests_at_once_all_wait_for_the_tables_and_seed(make_sim):
    # A client reading kinds side by side sends its first Neutron requests together: the
    # ones that arrive while the first is making the tables wait for it (they once saw
    # "no such table" and answered 500).
    for _ in range(3):
        sim = make_sim(build_seconds=0)
        token = Neutron(sim.url, "demo").http.headers["X-Auth-Token"]
        assert _first_requests_at_once(sim.url, token) == [200] * 8
