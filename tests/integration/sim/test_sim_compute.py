"""Nova basics on the simulator: versions, microversions, flavors, image proxy, limits,
keypairs."""

from __future__ import annotations

import requests

from tests.integration.sim.conftest import CIRROS, Api

CLASSIC = ["m1.tiny", "m1.small", "m1.medium", "m1.large", "m1.nano", "m1.xlarge", "m1.micro"]


def test_version_documents_need_no_token(sim):
    root = requests.get(f"{sim.url}/compute")
    assert root.status_code == 200
    (entry,) = root.json()["versions"]
    assert (entry["min_version"], entry["version"]) == ("2.1", "2.64")
    v21 = requests.get(f"{sim.url}/compute/v2.1/").json()["version"]
    assert v21["links"][0]["href"] == f"{sim.url}/compute/v2.1/"


def test_the_unversioned_documents_of_nova_and_neutron_carry_no_request_id(sim):
    for path in ("/compute", "/networking"):
        resp = requests.get(f"{sim.url}{path}")
        assert resp.status_code == 200
        assert "x-openstack-request-id" not in resp.headers
        assert "x-compute-request-id" not in resp.headers
    v21 = requests.get(f"{sim.url}/compute/v2.1/")
    assert v21.headers["x-openstack-request-id"] == v21.headers["x-compute-request-id"]
    # Nova sends both names; Neutron and Keystone only the common one
    neutron = requests.get(f"{sim.url}/networking/v2.0/networks")
    assert neutron.status_code == 401 and "x-openstack-request-id" in neutron.headers
    assert "x-compute-request-id" not in neutron.headers
    keystone = requests.get(f"{sim.url}/identity/v3")
    assert "x-openstack-request-id" in keystone.headers
    assert "x-compute-request-id" not in keystone.headers


def test_a_request_without_a_token_is_refused_before_microversions(sim):
    """keystonemiddleware answers the 401 before Nova reads the microversion: no
    version headers, and a bad version does not turn it into a 400 or 406."""
    for version in ("compute 2.64", "compute 2.500", "compute x"):
        resp = requests.get(
            f"{sim.url}/compute/v2.1/flavors", headers={"OpenStack-API-Version": version}
        )
        assert resp.status_code == 401, version
        assert "OpenStack-API-Version" not in resp.headers
        assert "X-OpenStack-Nova-API-Version" not in resp.headers
        assert resp.headers["x-openstack-request-id"] == resp.headers["x-compute-request-id"]


def test_microversion_headers_and_rejections(sim):
    api = Api(sim.url)
    resp = api.compute("GET", "/flavors", headers={"OpenStack-API-Version": "compute 2.55"})
    assert resp.headers["OpenStack-API-Version"] == "compute 2.55"
    assert resp.headers["X-OpenStack-Nova-API-Version"] == "2.55"
    assert "description" in resp.json()["flavors"][0]
    legacy = api.compute("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "latest"})
    assert legacy.headers["X-OpenStack-Nova-API-Version"] == "2.64"
    too_new = api.compute("GET", "/flavors", headers={"OpenStack-API-Version": "compute 2.500"})
    assert too_new.status_code == 406
    assert "maximum is 2.64" in too_new.json()["computeFault"]["message"]
    bad = api.compute("GET", "/flavors", headers={"X-OpenStack-Nova-API-Version": "2.a"})
    assert bad.status_code == 400 and "badRequest" in bad.json()


def test_requests_need_a_project_token(sim):
    assert requests.get(f"{sim.url}/compute/v2.1/servers").status_code == 401
    bad = requests.get(f"{sim.url}/compute/v2.1/servers", headers={"X-Auth-Token": "nope"})
    assert bad.status_code == 401 and "error" in bad.json()
    api = Api(sim.url)
    other = api.compute("GET", "/a0000000000000000000000000000001/servers")
    assert other.status_code == 400


def test_flavors_list_detail_show_and_project_id_form(sim):
    api = Api(sim.url)
    names = [f["name"] for f in api.compute("GET", "/flavors").json()["flavors"]]
    assert names == CLASSIC
    detail = api.compute("GET", f"/{api.project_id}/flavors/detail").json()["flavors"]
    small = next(f for f in detail if f["id"] == "2")
    assert (small["ram"], small["vcpus"], small["disk"], small["swap"]) == (2048, 1, 20, "")
    assert f"/compute/v2.1/{api.project_id}/flavors/2" in small["links"][0]["href"]
    assert api.compute("GET", "/flavors/42").json()["flavor"]["name"] == "m1.nano"
    missing = api.compute("GET", "/flavors/m1.tiny")
    assert missing.status_code == 404
    assert missing.json() == {
        "itemNotFound": {"code": 404, "message": "Flavor m1.tiny could not be found."}
    }


def test_flavor_filters_and_paging(sim):
    api = Api(sim.url)
    big = api.compute("GET", "/flavors/detail", params={"minRam": 4096, "minDisk": 40})
    assert [f["name"] for f in big.json()["flavors"]] == ["m1.medium", "m1.large", "m1.xlarge"]
    page = api.compute("GET", "/flavors", params={"limit": 2}).json()
    assert [f["id"] for f in page["flavors"]] == ["1", "2"]
    next_href = page["flavors_links"][0]["href"]
    assert "marker=2" in next_href
    rest = api.http.get(next_href).json()["flavors"]
    assert rest[0]["id"] == "3"
    assert api.compute("GET", "/flavors", params={"marker": "zz"}).status_code == 400
    assert api.compute("GET", "/flavors", params={"minRam": "x"}).status_code == 400


def test_image_proxy_until_2_36(sim):
    api = Api(sim.url)
    names = [i["name"] for i in api.compute("GET", "/images").json()["images"]]
    assert "cirros-0.6.2-x86_64-disk" in names
    detail = api.compute("GET", f"/images/{CIRROS}").json()["image"]
    assert detail["status"] == "ACTIVE" and detail["progress"] == 100
    assert api.compute("GET", "/images/nope").status_code == 404
    gone = api.compute("GET", "/images", headers={"OpenStack-API-Version": "compute 2.36"})
    assert gone.status_code == 404 and "itemNotFound" in gone.json()


def test_the_image_proxy_shows_a_disk_config_for_images_that_set_one(make_sim):
    url = make_sim().url
    api = Api(url)
    images = {i["name"]: i for i in api.compute("GET", "/images/detail").json()["images"]}
    # Fedora 39 carries auto_disk_config=False; the others name none, so show none
    assert images["Fedora 39"]["OS-DCF:diskConfig"] == "MANUAL"
    assert images["Fedora 39"]["metadata"]["auto_disk_config"] == "False"
    assert "OS-DCF:diskConfig" not in images["cirros-0.6.2-x86_64-disk"]
    admin = Api(url, user="admin")
    made = admin.http.post(
        f"{url}/image/v2/images",
        json={"name": "auto-disk", "auto_disk_config": "true", "visibility": "public"},
    )
    assert made.status_code == 201, made.text
    shown = api.compute("GET", f"/images/{made.json()['id']}").json()["image"]
    assert shown["OS-DCF:diskConfig"] == "AUTO"


def test_limits_follow_quota_knobs(make_sim):
    api = Api(make_sim(quota_instances=3, quota_cores=4, quota_ram=4096).url, version="2.60")
    api.create_server(flavorRef="2")
    absolute = api.compute("GET", "/limits").json()["limits"]["absolute"]
    assert absolute["maxTotalInstances"] == 3 and absolute["totalInstancesUsed"] == 1
    assert absolute["totalCoresUsed"] == 1 and absolute["totalRAMUsed"] == 2048
    assert "maxPersonality" not in absolute
    old = api.compute("GET", "/limits", headers={"OpenStack-API-Version": "compute 2.1"})
    assert "maxSecurityGroups" in old.json()["limits"]["absolute"]


def test_keypairs_create_import_list_show_delete(sim):
    api = Api(sim.url, version="2.10")
    created = api.compute("POST", "/os-keypairs", json={"keypair": {"name": "kp-gen"}})
    assert created.status_code == 201
    assert created.json()["keypair"]["private_key"].startswith("-----BEGIN")
    public = created.json()["keypair"]["public_key"]
    imported = api.compute(
        "POST", "/os-keypairs", json={"keypair": {"name": "kp-imp", "public_key": public}}
    )
    assert imported.status_code == 201 and "private_key" not in imported.json()["keypair"]
    assert imported.json()["keypair"]["fingerprint"] == created.json()["keypair"]["fingerprint"]
    dup = api.compute(
        "POST", "/os-keypairs", json={"keypair": {"name": "kp-imp", "public_key": public}}
    )
    assert dup.status_code == 409 and "conflictingRequest" in dup.json()
    listed = api.compute("GET", "/os-keypairs").json()["keypairs"]
    assert {"kp-gen", "kp-imp"} <= {k["keypair"]["name"] for k in listed}
    shown = api.compute("GET", "/os-keypairs/kp-imp").json()["keypair"]
    assert shown["type"] == "ssh" and shown["deleted"] is False
    assert api.compute("DELETE", "/os-keypairs/kp-imp").status_code == 204
    assert api.compute("DELETE", "/os-keypairs/kp-gen").status_code == 204
    assert api.compute("GET", "/os-keypairs/kp-imp").status_code == 404
    bad = api.compute("POST", "/os-keypairs", json={"keypair": {"name": "x", "public_key": "no"}})
    assert bad.status_code == 400


def test_glance_list_filters_paging_and_show(make_sim):
    sim = make_sim()  # its own: other tests of the session upload images to the shared one
    api = Api(sim.url)
    url = f"{sim.url}/image/v2/images"
    assert requests.get(f"{sim.url}/image").status_code == 300
    ubuntu = api.http.get(url, params={"name": "Ubuntu 22.04"}).json()["images"]
    assert len(ubuntu) == 2 and len({i["created_at"] for i in ubuntu}) == 2
    active = api.http.get(url, params={"status": "active"}).json()["images"]
    assert all(i["status"] == "active" for i in active) and len(active) == 4
    assert len(api.http.get(url, params={"visibility": "public"}).json()["images"]) == 5
    first = api.http.get(url, params={"limit": 2}).json()
    assert len(first["images"]) == 2 and "marker=" in first["next"]
    second = api.http.get(f"{sim.url}/image{first['next']}").json()
    assert second["images"][0]["id"] not in {i["id"] for i in first["images"]}
    shown = api.http.get(f"{url}/{CIRROS}").json()
    assert shown["name"] == "cirros-0.6.2-x86_64-disk"
    assert api.http.get(f"{url}/cirros").status_code == 404


def test_the_fields_of_2_61_to_2_63_appear_from_their_version(fast_api):
    old, new = Api(fast_api.url, version="2.60"), Api(fast_api.url, version="2.63")
    assert "extra_specs" not in old.compute("GET", "/flavors/1").json()["flavor"]
    assert new.compute("GET", "/flavors/1").json()["flavor"]["extra_specs"] == {}
    server_id = new.create_server()
    assert new.server(server_id)["trusted_image_certificates"] is None
    assert "trusted_image_certificates" not in old.server(server_id)
    # the PUT answer has it too from 2.63, as Nova's update view does
    renamed = new.compute("PUT", f"/servers/{server_id}", json={"server": {"name": "r"}})
    assert renamed.json()["server"]["trusted_image_certificates"] is None
    before = old.compute("PUT", f"/servers/{server_id}", json={"server": {"name": "r2"}})
    assert "trusted_image_certificates" not in before.json()["server"]
