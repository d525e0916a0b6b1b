"""Lists as Neutron serves them (filters, fields, sorting, pagination links) and tags."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from tests.integration.sim.neutron.conftest import error, uniq


def _names(demo, prefix, **params):
    return [n["name"] for n in demo.listing("networks", **params) if n["name"].startswith(prefix)]


def test_field_filters_and_repeated_ids(demo):
    prefix = uniq("f")
    nets = [demo.create("network", name=f"{prefix}-{i}", admin_state_up=i != 1) for i in range(3)]
    assert _names(demo, prefix, name=f"{prefix}-2") == [f"{prefix}-2"]
    assert _names(demo, prefix, admin_state_up="false") == [f"{prefix}-1"]
    ids = demo.listing("networks", id=[nets[0]["id"], nets[2]["id"]])
    assert {n["id"] for n in ids} == {nets[0]["id"], nets[2]["id"]}
    assert error(demo.get("/networks", colour="red"), 400) == (
        "HTTPBadRequest",
        "['colour'] is invalid attribute for filtering",
    )
    assert error(demo.get("/networks", shared="perhaps"), 400)[0] == "InvalidInput"
    net, sub = demo.network_with_subnet("10.100.0.0/24")
    port = demo.create("port", network_id=net["id"], device_id="vm-1")
    assert [p["id"] for p in demo.listing("ports", device_id="vm-1")] == [port["id"]]
    address = port["fixed_ips"][0]["ip_address"]
    by_ip = demo.listing("ports", fixed_ips=f"ip_address={address}")
    assert [p["id"] for p in by_ip] == [port["id"]]
    by_subnet = demo.listing("ports", fixed_ips=f"subnet_id={sub['id']}")
    assert [p["id"] for p in by_subnet] == [port["id"]]
    group = port["security_groups"][0]
    assert port["id"] in {p["id"] for p in demo.listing("ports", security_groups=group)}
    assert [s["id"] for s in demo.listing("subnets", network_id=net["id"], ip_version=4)] == [
        sub["id"]
    ]


def test_fields_selection(demo):
    net = demo.create("network", name=uniq("fields"))
    (shown,) = demo.listing("networks", id=net["id"], fields=["id", "name"])
    assert shown == {"id": net["id"], "name": net["name"]}
    resp = demo.get(f"/networks/{net['id']}", fields="status")
    assert resp.json() == {"network": {"status": "ACTIVE"}}


def test_pagination_links_as_neutron_renders_them(demo):
    prefix = uniq("page")
    made = sorted(demo.create("network", name=f"{prefix}-{i}")["id"] for i in range(5))
    first = demo.get("/networks", name=[f"{prefix}-{i}" for i in range(5)], limit=2)
    body = first.json()
    assert [n["id"] for n in body["networks"]] == made[:2]  # ordered by id
    links = {link["rel"]: link["href"] for link in body["networks_links"]}
    assert set(links) == {"next", "previous"}
    nxt = parse_qs(urlsplit(links["next"]).query)
    assert nxt["marker"] == [made[1]] and nxt["limit"] == ["2"] and "page_reverse" not in nxt
    assert urlsplit(links["next"]).path == "/networking/v2.0/networks"
    prev = parse_qs(urlsplit(links["previous"]).query)
    assert prev["marker"] == [made[0]] and prev["page_reverse"] == ["True"]
    second = demo.http.get(links["next"]).json()
    assert [n["id"] for n in second["networks"]] == made[2:4]
    third = demo.http.get(
        {link["rel"]: link["href"] for link in second["networks_links"]}["next"]
    ).json()
    assert [n["id"] for n in third["networks"]] == made[4:]
    assert [link["rel"] for link in third["networks_links"]] == ["previous"]
    back = demo.http.get(third["networks_links"][0]["href"]).json()
    assert [n["id"] for n in back["networks"]] == made[2:4]
    missing = "00000000-0000-4000-8000-000000000001"
    assert error(demo.get("/networks", limit=1, marker=missing), 404)[0] == "NetworkNotFound"
    assert error(demo.get("/networks", limit="x"), 400) == (
        "BadRequest",
        "Bad limit request: Limit must be an integer 0 or greater and not 'x'.",
    )


def test_sorting(demo):
    prefix = uniq("sort")
    for name in ("b", "c", "a"):
        demo.create("network", name=f"{prefix}-{name}")
    wanted = [f"{prefix}-{n}" for n in "abc"]
    assert _names(demo, prefix, sort_key="name", sort_dir="asc") == wanted
    assert _names(demo, prefix, sort_key="name", sort_dir="desc") == wanted[::-1]
    assert error(demo.get("/networks", sort_key="name"), 400)[1] == (
        "The number of sort_keys and sort_dirs must be same"
    )
    assert error(demo.get("/networks", sort_key="colour", sort_dir="asc"), 400)[1] == (
        "['colour'] is invalid attribute for sort_keys"
    )


def test_tag_endpoints(demo, cloud):
    net = demo.create("network", name=uniq("tagged"))
    base = f"/networks/{net['id']}/tags"
    assert demo.get(base).json() == {"tags": []}
    resp = demo.put(base, {"tags": ["red", "blue"]})
    assert resp.status_code == 200 and resp.json() == {"tags": ["red", "blue"]}
    assert demo.show("networks", net["id"])["tags"] == ["blue", "red"]
    assert demo.put(f"{base}/green").status_code == 201
    assert demo.get(f"{base}/green").status_code == 204
    assert error(demo.get(f"{base}/pink"), 404) == ("TagNotFound", "Tag pink could not be found.")
    assert demo.delete(f"{base}/red").status_code == 204
    assert error(demo.delete(f"{base}/red"), 404)[0] == "TagNotFound"
    replaced = demo.put(base, {"tags": ["only"]})
    assert replaced.json() == {"tags": ["only"]}
    assert demo.get(base).json() == {"tags": ["only"]}
    assert demo.delete(base).status_code == 204
    assert demo.get(base).json() == {"tags": []}
    assert error(demo.put(base, {"tags": ["a", "a"]}), 400)[1] == (
        "Invalid input for operation: Duplicate items in the list: 'a'."
    )
    assert (
        error(demo.put(base, {"labels": []}), 400)[1]
        == "Invalid input for operation: Invalid tags body."
    )
    too_many = {"tags": [f"t{i}" for i in range(51)]}
    assert error(demo.put(base, too_many), 400)[1] == (
        "Bad networks request: The number of tags exceed the per-resource limit of 50."
    )
    spaced = requests.put(
        f"{cloud.url}/networking/v2.0/networks/{net['id']}/tags/two%20words",
        headers=demo.http.headers,
    )
    assert spaced.status_code == 201 and demo.get(base).json() == {"tags": ["two words"]}
    assert net["revision_number"] < demo.show("networks", net["id"])["revision_number"]
    missing = "00000000-0000-4000-8000-000000000002"
    assert error(demo.get(f"/networks/{missing}/tags"), 404)[0] == "TagResourceNotFound"
    (public,) = demo.listing("networks", name="public")
    assert error(demo.put(f"/networks/{public['id']}/tags", {"tags": ["x"]}), 403)[1] == (
        "rule:update_network:tags is disallowed by policy"
    )


def test_every_taggable_collection(demo, public):
    net, sub = demo.network_with_subnet("10.101.0.0/24")
    port = demo.create("port", network_id=net["id"])
    router = demo.create("router")
    group = demo.create("security_group", name="t")
    fip = demo.create("floatingip", floating_network_id=public["id"])
    for collection, resource_id in (
        ("subnets", sub["id"]),
        ("ports", port["id"]),
        ("routers", router["id"]),
        ("security-groups", group["id"]),
        ("floatingips", fip["id"]),
    ):
        assert demo.put(f"/{collection}/{resource_id}/tags", {"tags": ["k"]}).status_code == 200
        assert demo.show(collection, resource_id)["tags"] == ["k"]
        assert [r["id"] for r in demo.listing(collection, tags="k")] == [resource_id]


def test_tag_filters(demo):
    prefix = uniq("tf")
    sets = {"a": ["red"], "b": ["red", "blue"], "c": ["blue"], "d": []}
    for name, tags in sets.items():
        net = demo.create("network", name=f"{prefix}-{name}")
        demo.put(f"/networks/{net['id']}/tags", {"tags": tags})

    def names(**params):
        return sorted(n.rsplit("-", 1)[1] for n in _names(demo, prefix, **params))

    assert names(tags="red") == ["a", "b"]
    assert names(tags="red,blue") == ["b"]
    assert names(tags=["red", "blue"]) == ["b"]
    assert names(**{"tags-any": "red,blue"}) == ["a", "b", "c"]
    assert names(**{"not-tags": "red,blue"}) == ["a", "c", "d"]
    assert names(**{"not-tags-any": "red,blue"}) == ["d"]
