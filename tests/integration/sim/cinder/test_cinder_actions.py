"""Volume actions (extend, retype, set_bootable, the admin's reset_status) and metadata."""

from __future__ import annotations

from tests.integration.sim.cinder.conftest import Cinder, fault


def test_extend_an_available_volume(cinder):
    volume = cinder.made(1)
    assert cinder.action(volume["id"], {"os-extend": {"new_size": 2}}).status_code == 202
    assert cinder.volume(volume["id"])["status"] == "extending"
    grown = cinder.wait(volume["id"], "available")
    assert grown["size"] == 2
    same = cinder.action(volume["id"], {"os-extend": {"new_size": 2}})
    assert fault(same, 400) == (
        "Invalid input received: New size for extend must be greater than current size. "
        "(current: 2, extended: 2)."
    )
    bad = cinder.action(volume["id"], {"os-extend": {"new_size": "x"}})
    assert fault(bad, 400).startswith("Invalid input for field/attribute new_size. Value: x.")


def test_extend_refuses_a_volume_not_available(cinder):
    creating = cinder.create(1)
    refused = cinder.action(creating["id"], {"os-extend": {"new_size": 2}})
    assert fault(refused, 400) == (
        f"Invalid volume: Volume {creating['id']} status must be '{{'status': 'available'}}' "
        "to extend, currently creating."
    )


def test_extend_in_use_needs_3_42(cloud, cinder, nova):
    server_id = nova.create_server()
    nova.wait(server_id, "ACTIVE")
    volume = cinder.made(1)
    attached = nova.compute(
        "POST", f"/servers/{server_id}/os-volume_attachments",
        json={"volumeAttachment": {"volumeId": volume["id"]}},
    )  # fmt: skip
    assert attached.status_code == 200
    old = cinder.at("3.41").action(volume["id"], {"os-extend": {"new_size": 2}})
    assert fault(old, 400).endswith("status must be '{'status': 'available'}' to extend, "
                                    "currently in-use.")  # fmt: skip
    new = cinder.at("3.42")
    assert new.action(volume["id"], {"os-extend": {"new_size": 2}}).status_code == 202
    assert new.wait(volume["id"], "in-use")["size"] == 2


def test_retype_to_another_type(cinder):
    volume = cinder.made(1)
    body = {"os-retype": {"new_type": "ssd", "migration_policy": "never"}}
    assert cinder.action(volume["id"], body).status_code == 202
    assert cinder.volume(volume["id"])["status"] == "retyping"
    retyped = cinder.wait(volume["id"], "available")
    assert retyped["volume_type"] == "ssd"
    again = cinder.action(volume["id"], {"os-retype": {"new_type": "ssd"}})
    assert fault(again, 400).startswith("Invalid volume: Retype needs volume to be in available")
    unknown = cinder.action(volume["id"], {"os-retype": {"new_type": "gold"}})
    assert fault(unknown, 404) == "Volume type with name gold could not be found."


def test_set_bootable_and_unknown_action(cinder):
    volume = cinder.made(1)
    body = {"os-set_bootable": {"bootable": True}}
    assert cinder.action(volume["id"], body).status_code == 200
    assert cinder.volume(volume["id"])["bootable"] == "true"
    nope = cinder.action(volume["id"], {"os-nope": {}})
    assert fault(nope, 400) == (
        "There is no such action: os-nope. Verify the request body and Content-Type header "
        "and try again."
    )


def test_reset_status_is_the_admins(cloud, cinder):
    volume = cinder.made(1)
    refused = cinder.action(volume["id"], {"os-reset_status": {"status": "error"}})
    assert fault(refused, 403, "forbidden") == (
        "Policy doesn't allow volume_extension:volume_admin_actions:reset_status to be performed."
    )
    admin = Cinder(cloud.url, "admin")
    reset = admin.http.post(
        f"{cloud.url}/volume/v3/{admin.project_id}/volumes/{volume['id']}/action",
        json={"os-reset_status": {"status": "error"}},
    )
    assert reset.status_code == 202
    assert cinder.volume(volume["id"])["status"] == "error"


def test_metadata_create_replace_show_delete(cinder):
    volume = cinder.made(1, metadata={"a": "1"})
    base = f"/volumes/{volume['id']}/metadata"
    merged = cinder.post(base, {"metadata": {"b": "2"}})
    assert merged.status_code == 200 and merged.json()["metadata"] == {"b": "2", "a": "1"}
    replaced = cinder.put(base, {"metadata": {"c": "3"}})
    assert replaced.json()["metadata"] == {"c": "3"}
    assert cinder.get(base).json() == {"metadata": {"c": "3"}}
    assert cinder.put(f"{base}/d", {"meta": {"d": "4"}}).json() == {"meta": {"d": "4"}}
    assert cinder.get(f"{base}/d").json() == {"meta": {"d": "4"}}
    mismatch = cinder.put(f"{base}/e", {"meta": {"x": "4"}})
    assert fault(mismatch, 400) == "Request body and URI mismatch"
    assert cinder.delete(f"{base}/d").status_code == 200
    gone = cinder.get(f"{base}/d")
    assert fault(gone, 404) == f"Volume {volume['id']} has no metadata with key d."
    # PUT /volumes/{id} with metadata replaces the user's metadata too
    cinder.put(f"/volumes/{volume['id']}", {"volume": {"metadata": {"z": "9"}}})
    assert cinder.volume(volume["id"])["metadata"] == {"z": "9"}


def test_sim_fail_extend_ends_in_error_extending(cinder):
    volume = cinder.made(1, metadata={"sim:fail": "extend"})
    cinder.action(volume["id"], {"os-extend": {"new_size": 3}})
    failed = cinder.wait(volume["id"], "error_extending")
    assert failed["size"] == 1
