"""Glance v2 writes on the simulator: create (queued), JSON-patch updates, delete, the
data upload that makes an image active, and Nova booting only active images."""

from __future__ import annotations

import hashlib
import struct
import uuid

import pytest
import requests

from tests.integration.sim.conftest import CIRROS, Api

PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
PATCH_V20 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}


@pytest.fixture
def api(make_sim) -> Api:
    """A demo client of a private simulator: these tests fill Glance with images."""
    return Api(make_sim().url, version="2.60")


def _glance(api: Api, method: str, path: str = "", **kwargs) -> requests.Response:
    return api.http.request(method, f"{api.url}/image/v2/images{path}", **kwargs)


def _new(api: Api, **fields) -> dict:
    body = {"name": f"img-{uuid.uuid4().hex[:8]}", **fields}
    resp = _glance(api, "POST", json=body)
    assert resp.status_code == 201, resp.text
    return resp.json()


def test_create_gives_a_queued_image_with_its_properties(api):
    resp = _glance(
        api,
        "POST",
        json={
            "name": "queued-one",
            "disk_format": "qcow2",
            "container_format": "bare",
            "min_ram": 256,
            "tags": ["a", "a", "b"],
            "os_distro": "cirros",
            "hw_rng_model": "virtio",
        },
    )
    assert resp.status_code == 201
    image = resp.json()
    assert resp.headers["Location"] == f"{api.url}/image/v2/images/{image['id']}"
    assert image["status"] == "queued" and image["visibility"] == "shared"
    assert image["size"] is None and image["checksum"] is None and image["virtual_size"] is None
    assert image["owner"] == api.project_id and image["min_ram"] == 256
    assert image["tags"] == ["a", "b"] and image["os_distro"] == "cirros"
    assert image["hw_rng_model"] == "virtio"
    assert _glance(api, "GET", f"/{image['id']}").json() == image
    listed = _glance(api, "GET", params={"name": "queued-one"}).json()["images"]
    assert [i["id"] for i in listed] == [image["id"]]


def test_create_refusals(api):
    def post(body):
        return _glance(api, "POST", json=body)

    assert post({"status": "active"}).json()["message"] == "Attribute 'status' is read-only."
    assert post({"self": "/x"}).status_code == 403
    assert post({"visibility": "public"}).json()["message"] == (
        "You are not authorized to complete publicize_image action."
    )
    bad_format = post({"disk_format": "tiff"})
    assert bad_format.status_code == 400
    assert bad_format.json()["message"].startswith(
        "Provided object does not match schema 'image': 'tiff' is not one of"
    )
    assert post({"min_disk": "10"}).status_code == 400
    assert post({"min_disk": -1}).json()["message"] == (
        "Invalid value '-1' for parameter 'min_disk': Cannot be a negative value"
    )
    assert post({"custom": 5}).json()["message"] == (
        "Provided object does not match schema 'image': 5 is not of type 'string'"
    )
    assert post({"deleted": "x"}).json()["message"] == "Attribute 'deleted' is reserved."
    assert post({"id": "not-a-uuid"}).status_code == 400
    image_id = str(uuid.uuid4())
    assert post({"id": image_id, "name": "with-id"}).status_code == 201
    assert post({"id": image_id, "name": "with-id"}).status_code == 409
    assert post({"owner": "a0000000000000000000000000000001"}).status_code == 403


def test_patch_replace_add_remove(api):
    image = _new(api, os_distro="cirros")
    ops = [
        {"op": "replace", "path": "/name", "value": "patched"},
        {"op": "replace", "path": "/visibility", "value": "private"},
        {"op": "replace", "path": "/min_disk", "value": 3},
        {"op": "add", "path": "/min_ram", "value": 128},
        {"op": "add", "path": "/hw_disk_bus", "value": "scsi"},
        {"op": "replace", "path": "/os_distro", "value": "ubuntu"},
    ]
    resp = _glance(api, "PATCH", f"/{image['id']}", json=ops, headers=PATCH)
    assert resp.status_code == 200, resp.text
    patched = resp.json()
    assert (patched["name"], patched["visibility"]) == ("patched", "private")
    assert (patched["min_disk"], patched["min_ram"]) == (3, 128)
    assert patched["hw_disk_bus"] == "scsi" and patched["os_distro"] == "ubuntu"
    removed = _glance(
        api,
        "PATCH",
        f"/{image['id']}",
        json=[{"op": "remove", "path": "/hw_disk_bus"}],
        headers=PATCH,
    ).json()
    assert "hw_disk_bus" not in removed
    assert _glance(api, "GET", f"/{image['id']}").json()["name"] == "patched"


def test_patch_refusals(api):
    image = _new(api)
    url = f"/{image['id']}"

    def patch(ops, headers=PATCH):
        return _glance(api, "PATCH", url, json=ops, headers=headers)

    wrong_type = _glance(api, "PATCH", url, json=[], headers={"Content-Type": "application/json"})
    assert wrong_type.status_code == 415
    assert "openstack-images-v2.1-json-patch" in wrong_type.headers["Accept-Patch"]
    assert patch({"op": "replace"}).status_code == 400
    assert patch([{"op": "move", "path": "/name", "value": "x"}]).status_code == 400
    assert patch([{"op": "replace", "path": "/status", "value": "active"}]).status_code == 403
    missing = patch([{"op": "replace", "path": "/nope", "value": "x"}])
    assert missing.status_code == 409
    assert missing.json()["message"] == "Property nope does not exist."
    assert patch([{"op": "remove", "path": "/name"}]).json()["message"] == (
        "Property name may not be removed."
    )
    assert patch([{"op": "replace", "path": "/visibility", "value": "public"}]).status_code == 403
    assert patch([{"op": "replace", "path": "/a/b", "value": "x"}]).status_code == 400
    v20 = patch([{"add": "/name", "value": "x"}], headers=PATCH_V20)
    assert v20.status_code == 409  # draft 4 refuses to add what exists
    assert patch([{"replace": "/name", "value": "y"}], headers=PATCH_V20).status_code == 200
    seeded = _glance(
        api,
        "PATCH",
        f"/{CIRROS}",
        json=[{"op": "replace", "path": "/name", "value": "x"}],
        headers=PATCH,
    )
    assert seeded.status_code == 403
    assert seeded.json()["message"] == "You are not authorized to complete modify_image action."


def test_upload_activates_and_nova_boots_only_active_images(fast_api):
    api = fast_api
    image = _new(api, disk_format="raw", container_format="bare")

    def boot(image_id):
        body = {"name": "b", "imageRef": image_id, "flavorRef": "1", "networks": "auto"}
        return api.compute("POST", "/servers", json={"server": body})

    queued = boot(image["id"])
    assert queued.status_code == 400
    assert queued.json()["badRequest"]["message"] == f"Image {image['id']} is not active."
    data = b"a raw disk" * 100
    wrong = _glance(api, "PUT", f"/{image['id']}/file", data=data)
    assert wrong.status_code == 415
    resp = _glance(api, "PUT", f"/{image['id']}/file", data=data, headers=OCTETS)
    assert resp.status_code == 204 and resp.content == b""
    active = _glance(api, "GET", f"/{image['id']}").json()
    assert active["status"] == "active" and active["size"] == len(data)
    assert active["virtual_size"] == len(data)
    assert active["checksum"] == hashlib.md5(data).hexdigest()
    assert active["os_hash_algo"] == "sha512"
    assert active["os_hash_value"] == hashlib.sha512(data).hexdigest()
    again = _glance(api, "PUT", f"/{image['id']}/file", data=data, headers=OCTETS)
    assert again.status_code == 409
    assert again.json()["message"] == (
        "Image status transition from active to saving is not allowed"
    )
    server_id = boot(image["id"]).json()["server"]["id"]
    assert api.wait(server_id, "ACTIVE")["image"]["id"] == image["id"]
    proxy = api.compute(
        "GET", f"/images/{image['id']}", headers={"OpenStack-API-Version": "compute 2.35"}
    )
    assert proxy.json()["image"]["status"] == "ACTIVE"


def test_upload_checks_formats_and_chunked_bodies(api):
    bare = _new(api)
    unset = _glance(api, "PUT", f"/{bare['id']}/file", data=b"x", headers=OCTETS)
    assert unset.json()["message"] == (
        "Properties disk_format, container_format must be set prior to saving data."
    )
    qcow = _new(api, disk_format="qcow2", container_format="bare")
    mismatch = _glance(api, "PUT", f"/{qcow['id']}/file", data=b"plain bytes", headers=OCTETS)
    assert mismatch.status_code == 415
    assert mismatch.json()["message"] == "Image disk_format qcow2 does not match stream data raw"
    assert _glance(api, "GET", f"/{qcow['id']}").json()["status"] == "queued"
    header = b"QFI\xfb" + struct.pack(">I", 3) + bytes(16) + struct.pack(">Q", 1 << 30)
    chunks = iter([header, bytes(100)])  # a generator body goes out chunked
    resp = _glance(api, "PUT", f"/{qcow['id']}/file", data=chunks, headers=OCTETS)
    assert resp.status_code == 204
    shown = _glance(api, "GET", f"/{qcow['id']}").json()
    assert shown["size"] == len(header) + 100 and shown["virtual_size"] == 1 << 30


def test_delete_hides_the_image_and_frees_nothing_for_reuse(api):
    image = _new(api)
    assert _glance(api, "DELETE", f"/{image['id']}").status_code == 204
    assert _glance(api, "GET", f"/{image['id']}").status_code == 404
    assert _glance(api, "DELETE", f"/{image['id']}").status_code == 404
    assert _glance(api, "POST", json={"id": image["id"]}).status_code == 409
    protected = _new(api, protected=True)
    refused = _glance(api, "DELETE", f"/{protected['id']}")
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        f"Image {protected['id']} is protected and cannot be deleted."
    )
    assert _glance(api, "DELETE", f"/{CIRROS}").status_code == 403


def test_private_images_are_their_projects_own(make_sim):
    url = make_sim().url
    demo, admin = Api(url), Api(url, user="admin")
    mine = _new(demo, visibility="private")
    theirs = _new(admin, visibility="private")
    assert _glance(demo, "GET", f"/{theirs['id']}").status_code == 404
    demo_names = {i["id"] for i in _glance(demo, "GET").json()["images"]}
    assert mine["id"] in demo_names and theirs["id"] not in demo_names
    admin_names = {i["id"] for i in _glance(admin, "GET", params={"limit": 100}).json()["images"]}
    assert {mine["id"], theirs["id"]} <= admin_names
    boot = demo.compute(
        "POST",
        "/servers",
        json={"server": {"name": "n", "imageRef": theirs["id"], "flavorRef": "1"}},
    )
    assert boot.json()["badRequest"]["message"] == "Can not find requested image"


def test_admin_renames_a_seeded_image_and_everyone_sees_it(make_sim):
    url = make_sim(build_seconds=0.1).url
    demo, admin = Api(url, version="2.60"), Api(url, user="admin")
    ops = [{"op": "replace", "path": "/name", "value": "cirros-renamed"}]
    resp = _glance(admin, "PATCH", f"/{CIRROS}", json=ops, headers=PATCH)
    assert resp.status_code == 200 and resp.json()["name"] == "cirros-renamed"
    seen = _glance(demo, "GET", params={"name": "cirros-renamed"}).json()["images"]
    assert [i["id"] for i in seen] == [CIRROS]
    assert _glance(demo, "GET", params={"name": "cirros-0.6.2-x86_64-disk"}).json()["images"] == []
    assert demo.wait(demo.create_server(), "ACTIVE")["image"]["id"] == CIRROS
