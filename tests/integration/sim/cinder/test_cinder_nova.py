"""Nova's side of the volumes: os-volume_attachments, `volumes_attached` on server views,
`block_device_mapping_v2` at create (boot volumes from an image, a volume, blank ones)
and `delete_on_termination` at the server's delete."""

from __future__ import annotations

import time

from tests.integration.sim.cinder.conftest import (
    BUILD_SECONDS,
    CIRROS,
    UBUNTU,
    Cinder,
    fault,
    nova_fault,
)
from tests.integration.sim.conftest import Api


def _attach(nova: Api, server_id: str, volume_id: str, **more):
    body = {"volumeAttachment": {"volumeId": volume_id, **more}}
    return nova.compute("POST", f"/servers/{server_id}/os-volume_attachments", json=body)


def _bfv(nova: Api, bdm: list[dict], **fields):
    body = {
        "name": "bfv",
        "flavorRef": "1",
        "imageRef": "",
        "networks": "auto",
        "block_device_mapping_v2": bdm,
        **fields,
    }
    return nova.compute("POST", "/servers", json={"server": body})


def _image_bdm(size: int = 1, **more):
    return {"uuid": CIRROS, "source_type": "image", "destination_type": "volume",
            "boot_index": 0, "volume_size": size, **more}  # fmt: skip


def test_attach_makes_the_volume_in_use_and_detach_available(cinder, nova):
    server_id = nova.create_server()
    nova.wait(server_id, "ACTIVE")
    volume = cinder.made(1)
    attached = _attach(nova, server_id, volume["id"], device="/dev/vdq")
    assert attached.status_code == 200
    assert attached.json() == {
        "volumeAttachment": {
            "id": volume["id"],
            "serverId": server_id,
            "volumeId": volume["id"],
            "device": "/dev/vdb",  # libvirt ignores the device asked for
        }
    }
    shown = cinder.volume(volume["id"])
    assert shown["status"] == "in-use"
    (attachment,) = shown["attachments"]
    assert (attachment["server_id"], attachment["device"]) == (server_id, "/dev/vdb")
    assert attachment["volume_id"] == volume["id"] and attachment["attached_at"]
    assert attachment["host_name"] is None  # shown to the admin only
    listed = nova.compute("GET", f"/servers/{server_id}/os-volume_attachments").json()
    assert listed == {"volumeAttachments": [attached.json()["volumeAttachment"]]}
    one = nova.compute("GET", f"/servers/{server_id}/os-volume_attachments/{volume['id']}")
    assert one.json()["volumeAttachment"]["device"] == "/dev/vdb"
    server = nova.server(server_id)
    assert server["os-extended-volumes:volumes_attached"] == [
        {"id": volume["id"], "delete_on_termination": False}
    ]
    old = Api(nova.url, version="2.1").server(server_id)
    assert old["os-extended-volumes:volumes_attached"] == [{"id": volume["id"]}]
    # an attached volume cannot be deleted in Cinder
    refused = cinder.delete(f"/volumes/{volume['id']}")
    assert "must not be migrating, attached" in fault(refused, 400, "badRequest")
    detached = nova.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{volume['id']}")
    assert detached.status_code == 202
    after = cinder.volume(volume["id"])
    assert after["status"] == "available" and after["attachments"] == []
    assert nova.server(server_id)["os-extended-volumes:volumes_attached"] == []
    gone = nova.compute("GET", f"/servers/{server_id}/os-volume_attachments/{volume['id']}")
    assert nova_fault(gone, 404) == (
        f"Instance {server_id} is not attached to volume {volume['id']}"
    )


def test_attach_refusals_as_nova(cinder, nova):
    volume = cinder.made(1)
    server_id = nova.create_server()
    building = _attach(nova, server_id, volume["id"])
    assert nova_fault(building, 409) == (
        f"Cannot 'attach_volume' instance {server_id} while it is in vm_state building"
    )
    nova.wait(server_id, "ACTIVE")
    missing = "00000000-0000-0000-0000-000000000000"
    assert nova_fault(_attach(nova, server_id, missing), 404) == (
        f"Volume {missing} could not be found."
    )
    assert nova_fault(_attach(nova, server_id, "nope"), 400) == (
        "Invalid input for field/attribute volumeId. Value: nope. 'nope' is not a 'uuid'"
    )
    creating = cinder.create(1)
    not_ready = nova_fault(_attach(nova, server_id, creating["id"]), 400)
    assert not_ready.startswith(
        f"Invalid input received: Invalid volume: Volume {creating['id']} status must be "
        "available or downloading to reserve, but the current status is creating. (HTTP 400) "
        "(Request-ID: req-"
    )
    assert _attach(nova, server_id, volume["id"]).status_code == 200
    other = nova.create_server()
    nova.wait(other, "ACTIVE")
    assert nova_fault(_attach(nova, other, volume["id"]), 400) == (
        f"Invalid volume: volume {volume['id']} is already attached to instances: {server_id}"
    )
    not_attached = nova.compute("DELETE", f"/servers/{other}/os-volume_attachments/{volume['id']}")
    assert nova_fault(not_attached, 404) == (
        f"Instance {other} is not attached to volume {volume['id']}"
    )
    # Cinder's own attach bookkeeping says the same
    reserve = cinder.action(volume["id"], {"os-reserve": {}})
    assert fault(reserve, 400).startswith("Invalid volume: Volume status must be available")


def test_server_delete_detaches_its_volumes(make_sim):
    cloud = make_sim(build_seconds=BUILD_SECONDS, delete_seconds=0.3)
    cinder, nova = Cinder(cloud.url), Api(cloud.url, version="2.60")
    server_id = nova.create_server()
    nova.wait(server_id, "ACTIVE")
    volume = cinder.made(1)
    _attach(nova, server_id, volume["id"])
    assert nova.compute("DELETE", f"/servers/{server_id}").status_code == 204
    assert cinder.volume(volume["id"])["status"] == "in-use"  # until the delete is done
    time.sleep(0.4)
    after = cinder.volume(volume["id"])
    assert after["status"] == "available" and after["attachments"] == []


def test_boot_from_an_image_volume_deleted_with_the_server(cinder, nova):
    created = _bfv(nova, [_image_bdm(1, delete_on_termination=True)], config_drive=True)
    assert created.status_code == 202, created.text
    server_id = created.json()["server"]["id"]
    building = nova.server(server_id)
    assert building["image"] == "" and building["config_drive"] == "True"
    ((vol,),) = [building["os-extended-volumes:volumes_attached"]]
    assert vol["delete_on_termination"] is True
    assert cinder.volume(vol["id"])["status"] == "creating"
    server = nova.wait(server_id, "ACTIVE")
    assert server["image"] == ""
    volume = cinder.volume(vol["id"])
    assert volume["status"] == "in-use" and volume["bootable"] == "true"
    assert volume["name"] == "" and volume["size"] == 1
    assert volume["volume_image_metadata"]["image_id"] == CIRROS
    (attachment,) = volume["attachments"]
    assert (attachment["server_id"], attachment["device"]) == (server_id, "/dev/vda")
    listed = nova.compute("GET", f"/servers/{server_id}/os-volume_attachments").json()
    assert listed["volumeAttachments"][0]["device"] == "/dev/vda"
    root = nova.compute("DELETE", f"/servers/{server_id}/os-volume_attachments/{vol['id']}")
    assert nova_fault(root, 400) == "Cannot detach a root device volume"
    nova.compute("DELETE", f"/servers/{server_id}")
    assert cinder.get(f"/volumes/{vol['id']}").status_code == 404


def test_boot_volume_kept_without_delete_on_termination(cinder, nova):
    created = _bfv(nova, [_image_bdm(2, volume_type="ssd")])
    # volume_type in a mapping needs 2.67, which the simulator does not advertise
    assert nova_fault(created, 400) == (
        "Invalid input for field/attribute 0. Value: "
        f"{_image_bdm(2, volume_type='ssd')}. Additional properties are not allowed "
        "('volume_type' was unexpected)"
    )
    created = _bfv(nova, [_image_bdm(2)])
    server_id = created.json()["server"]["id"]
    server = nova.wait(server_id, "ACTIVE")
    assert server["config_drive"] == ""
    ((vol,),) = [server["os-extended-volumes:volumes_attached"]]
    assert vol["delete_on_termination"] is False
    assert cinder.volume(vol["id"])["size"] == 2
    nova.compute("DELETE", f"/servers/{server_id}")
    kept = cinder.volume(vol["id"])
    assert kept["status"] == "available" and kept["attachments"] == []
    assert kept["bootable"] == "true"
    # the kept volume boots another server (a volume source)
    again = _bfv(nova, [{"uuid": vol["id"], "source_type": "volume",
                         "destination_type": "volume", "boot_index": 0}])  # fmt: skip
    assert again.status_code == 202, again.text
    second = again.json()["server"]["id"]
    assert cinder.volume(vol["id"])["status"] == "reserved"
    nova.wait(second, "ACTIVE")
    assert cinder.volume(vol["id"])["status"] == "in-use"
    assert nova.server(second)["os-extended-volumes:volumes_attached"] == [
        {"id": vol["id"], "delete_on_termination": False}
    ]


def test_blank_and_image_backed_servers_with_extra_volumes(cinder, nova):
    blank = {"source_type": "blank", "destination_type": "volume", "volume_size": 3,
             "boot_index": -1, "delete_on_termination": True}  # fmt: skip
    local = {"uuid": CIRROS, "source_type": "image", "destination_type": "local",
             "boot_index": 0}  # fmt: skip
    server_id = nova.create_server(block_device_mapping_v2=[local, blank])
    server = nova.wait(server_id, "ACTIVE")
    assert server["image"]["id"] == CIRROS
    ((vol,),) = [server["os-extended-volumes:volumes_attached"]]
    volume = cinder.volume(vol["id"])
    assert volume["name"] == f"{server_id}-blank-vol" and volume["bootable"] == "false"
    assert volume["attachments"][0]["device"] == "/dev/vdb"
    nova.compute("DELETE", f"/servers/{server_id}")
    assert cinder.get(f"/volumes/{vol['id']}").status_code == 404


def test_bdm_refusals_as_nova(cinder, nova):
    assert nova_fault(_bfv(nova, [{"source_type": "image", "destination_type": "volume",
                                   "boot_index": 0, "volume_size": 1}]), 400) == (
        "Block Device Mapping is Invalid: Missing device UUID."
    )  # fmt: skip
    no_size = _image_bdm(None)
    del no_size["volume_size"]
    assert nova_fault(_bfv(nova, [no_size]), 400) == (
        "Images with destination_type 'volume' need to have a non-zero size specified"
    )
    not_boot = _image_bdm(1, boot_index=1)
    assert nova_fault(_bfv(nova, [not_boot]), 400) == (
        "Block Device Mapping is Invalid: Boot sequence for the instance and image/block "
        "device mapping combination is not valid."
    )
    local = {**_image_bdm(1), "destination_type": "local"}
    assert nova_fault(_bfv(nova, [local]), 400) == (
        "Block Device Mapping is Invalid: Mapping image to local is not supported."
    )
    small = {**_image_bdm(1), "uuid": UBUNTU}
    assert nova_fault(_bfv(nova, [small]), 400) == (
        "Volume is smaller than the minimum size specified in image metadata. Volume size "
        "is 1073741824 bytes, minimum size is 10737418240 bytes."
    )
    missing = "00000000-0000-0000-0000-000000000000"
    unknown = {"uuid": missing, "source_type": "volume", "destination_type": "volume",
               "boot_index": 0}  # fmt: skip
    assert nova_fault(_bfv(nova, [unknown]), 400) == (
        f"Block Device Mapping is Invalid: failed to get volume {missing}."
    )
    plain = cinder.made(1)
    not_bootable = {**unknown, "uuid": plain["id"]}
    assert nova_fault(_bfv(nova, [not_bootable]), 400) == (
        f"Block Device {plain['id']} is not bootable."
    )
    cinder.action(plain["id"], {"os-set_bootable": {"bootable": True}})
    twice = _bfv(nova, [not_bootable], max_count=2)
    assert nova_fault(twice, 400) == "Cannot attach one or more volumes to multiple instances"
    bad_source = {**_image_bdm(1), "source_type": "disk"}
    assert nova_fault(_bfv(nova, [bad_source]), 400) == (
        "Invalid input for field/attribute source_type. Value: disk. 'disk' is not one of "
        "['volume', 'image', 'snapshot', 'blank']"
    )
    no_image = nova.compute(
        "POST", "/servers", json={"server": {"name": "x", "flavorRef": "1", "networks": "auto"}}
    )
    assert nova_fault(no_image, 400) == "Missing imageRef attribute"


def test_a_boot_volume_over_cinder_quota_fails_the_build(make_sim):
    cloud = make_sim(build_seconds=BUILD_SECONDS, quota_volumes=0)
    nova = Api(cloud.url, version="2.60")
    server_id = _bfv(nova, [_image_bdm(1)]).json()["server"]["id"]
    server = nova.wait(server_id, "ERROR")
    assert server["fault"]["message"] == (
        f"Build of instance {server_id} aborted: VolumeLimitExceeded: Maximum number of "
        "volumes allowed (0) exceeded for quota 'volumes'."
    )
    assert server["os-extended-volumes:volumes_attached"] == []
