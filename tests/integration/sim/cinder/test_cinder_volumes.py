"""Cinder volumes over HTTP: discovery, the catalog, microversions, create (from a size,
an image, another volume), statuses over time, show, update, delete, and the errors."""

from __future__ import annotations

import time

import requests

from tests.integration.sim.cinder.conftest import (
    BUILD_SECONDS,
    CIRROS,
    DEMO_PROJECT,
    FEDORA_38_DEACTIVATED,
    UBUNTU,
    Cinder,
    fault,
)
from tests.integration.sim.conftest import v3_password


def test_version_documents_and_microversion_headers(cloud, cinder):
    root = requests.get(f"{cloud.url}/volume")
    assert root.status_code == 300
    (entry,) = root.json()["versions"]
    assert (entry["id"], entry["min_version"], entry["version"]) == ("v3.0", "3.0", "3.70")
    assert requests.get(f"{cloud.url}/volume/v3/").status_code == 401  # behind the token
    plain = cinder.get("/types")
    assert plain.headers["OpenStack-API-Version"] == "volume 3.0"
    latest = cinder.at("latest").get("/types")
    assert latest.headers["OpenStack-API-Version"] == "volume 3.70"
    too_new = cinder.at("3.99").get("/types")
    assert "maximum is 3.70" in fault(too_new, 406, "computeFault")


def test_catalog_has_block_storage_and_volumev3(cloud):
    resp = requests.post(f"{cloud.url}/identity/v3/auth/tokens", json=v3_password())
    catalog = {s["type"]: s for s in resp.json()["token"]["catalog"]}
    for kind, name in (("block-storage", "cinder"), ("volumev3", "cinderv3")):
        assert catalog[kind]["name"] == name
        urls = {e["interface"]: e["url"] for e in catalog[kind]["endpoints"]}
        assert urls["public"] == f"{cloud.url}/volume/v3/{DEMO_PROJECT}"


def test_create_from_size_is_creating_then_available(cinder):
    created = cinder.create(1, name="data", description="d", metadata={"k": "v"})
    assert created["status"] == "creating" and created["updated_at"] is None
    assert (created["size"], created["name"], created["description"]) == (1, "data", "d")
    assert created["volume_type"] == "__DEFAULT__" and created["bootable"] == "false"
    assert created["availability_zone"] == "nova" and created["attachments"] == []
    assert cinder.volume(created["id"])["status"] == "creating"
    time.sleep(BUILD_SECONDS + 0.1)
    shown = cinder.volume(created["id"])
    assert shown["status"] == "available" and shown["metadata"] == {"k": "v"}
    assert shown["os-vol-tenant-attr:tenant_id"] == DEMO_PROJECT
    assert "volume_image_metadata" not in shown


def test_create_from_image_is_bootable_with_image_metadata(cinder):
    volume = cinder.made(1, imageRef=CIRROS)
    assert volume["bootable"] == "true"
    meta = volume["volume_image_metadata"]
    assert meta["image_id"] == CIRROS and meta["image_name"] == "cirros-0.6.2-x86_64-disk"
    by_name = cinder.made(1, imageRef="cirros-0.6.2-x86_64-disk")
    assert by_name["volume_image_metadata"]["image_id"] == CIRROS
    # Cinder's own checks on the image
    too_small = cinder.post("/volumes", {"volume": {"size": 1, "imageRef": UBUNTU}})
    assert fault(too_small, 400, "badRequest") == (
        "Invalid input received: Volume size 1GB cannot be smaller than the image minDisk "
        "size 10GB."
    )
    inactive = cinder.post("/volumes", {"volume": {"size": 10, "imageRef": FEDORA_38_DEACTIVATED}})
    assert fault(inactive, 400) == (
        f"Invalid input received: Image {FEDORA_38_DEACTIVATED} is not active."
    )
    unknown = cinder.post("/volumes", {"volume": {"size": 1, "imageRef": "no-such-image"}})
    assert fault(unknown, 400) == "Invalid image identifier or unable to access requested image."


def test_create_from_another_volume_keeps_its_type_and_image_metadata(cinder):
    source = cinder.made(1, imageRef=CIRROS, volume_type="ssd")
    clone = cinder.create(source_volid=source["id"], size=None)
    assert clone["size"] == 1 and clone["source_volid"] == source["id"]
    clone = cinder.wait(clone["id"], "available")
    assert clone["volume_type"] == "ssd" and clone["bootable"] == "true"
    assert clone["volume_image_metadata"]["image_id"] == CIRROS
    smaller = cinder.post("/volumes", {"volume": {"size": 1, "source_volid": source["id"]}})
    assert smaller.status_code == 202
    bigger_source = cinder.made(2)
    shrink = cinder.post("/volumes", {"volume": {"size": 1, "source_volid": bigger_source["id"]}})
    assert "cannot be smaller than original volume size" in fault(shrink, 400)
    missing = "00000000-0000-0000-0000-000000000000"
    gone = cinder.post("/volumes", {"volume": {"size": 1, "source_volid": missing}})
    assert fault(gone, 404, "itemNotFound") == f"Volume {missing} could not be found."


def test_create_body_errors(cinder):
    assert "'volume' is a required property" in fault(cinder.post("/volumes", {}), 400)
    zero = cinder.post("/volumes", {"volume": {"size": 0}})
    assert fault(zero, 400) == (
        "Invalid input for field/attribute size. Value: 0. 0 is less than the minimum of 1"
    )
    bad_type = cinder.post("/volumes", {"volume": {"size": 1, "volume_type": "gold"}})
    assert fault(bad_type, 404) == "Volume type with name gold could not be found."
    zone = cinder.post("/volumes", {"volume": {"size": 1, "availability_zone": "mars"}})
    assert fault(zone, 400) == "Availability zone 'mars' is invalid."


def test_show_list_update_and_errors(cloud, cinder):
    volume = cinder.made(1, name="before")
    listed = cinder.get("/volumes").json()["volumes"]
    assert [v["id"] for v in listed] == [volume["id"]] and set(listed[0]) == {"id", "name", "links"}
    assert listed[0]["links"][0]["href"].endswith(
        f"/volume/v3/{DEMO_PROJECT}/volumes/{volume['id']}"
    )
    updated = cinder.put(f"/volumes/{volume['id']}", {"volume": {"name": "after"}})
    assert updated.status_code == 200 and updated.json()["volume"]["name"] == "after"
    assert cinder.volume(volume["id"])["name"] == "after"
    missing = cinder.get("/volumes/nope")
    assert missing.json() == {
        "itemNotFound": {"code": 404, "message": "Volume nope could not be found."}
    }
    # the project-less form routes too; a path no route knows is webob's own 404
    plain = requests.get(
        f"{cloud.url}/volume/v3/volumes/{volume['id']}", headers={"X-Auth-Token": cinder.token}
    )
    assert plain.status_code == 200
    unknown = cinder.get("/nowhere")
    assert unknown.status_code == 404 and unknown.json()["title"] == "Not Found"
    other = Cinder(cloud.url, "demo")
    wrong = requests.get(
        f"{cloud.url}/volume/v3/{'a' * 32}/volumes", headers={"X-Auth-Token": other.token}
    )
    assert fault(wrong, 400) == "Malformed request url"


def test_another_projects_volume_is_not_found_but_the_admin_sees_it(cloud, cinder):
    volume = cinder.made(1)
    admin = Cinder(cloud.url, "admin")
    resp = requests.get(
        f"{cloud.url}/volume/v3/{admin.project_id}/volumes/{volume['id']}",
        headers={"X-Auth-Token": admin.token},
    )
    shown = resp.json()["volume"]
    assert shown["os-vol-host-attr:host"] == "sim-storage@lvmdriver-1#lvmdriver-1"
    theirs = admin.made(1)
    assert fault(cinder.get(f"/volumes/{theirs['id']}"), 404).endswith("could not be found.")


def test_delete_takes_delete_seconds_then_the_volume_is_gone(make_sim):
    cinder = Cinder(make_sim(build_seconds=0, delete_seconds=0.3).url)
    volume = cinder.made(1)
    assert cinder.delete(f"/volumes/{volume['id']}").status_code == 202
    assert cinder.volume(volume["id"])["status"] == "deleting"
    again = cinder.delete(f"/volumes/{volume['id']}")
    assert "Volume status must be available or error" in fault(again, 400)
    time.sleep(0.4)
    assert cinder.get(f"/volumes/{volume['id']}").status_code == 404
    assert cinder.get("/volumes").json()["volumes"] == []


def test_a_creating_volume_cannot_be_deleted(cinder):
    volume = cinder.create(1)
    refused = cinder.delete(f"/volumes/{volume['id']}")
    assert fault(refused, 400, "badRequest").startswith(
        "Invalid volume: Volume status must be available or error or error_restoring"
    )
