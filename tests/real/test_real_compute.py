"""RegionOne (real Keystone 30 + Nova 34, fake virt driver) through the stackplan CLI,
checked in Nova's own API with a token of the test's own.

Servers here name `networks: none` where they resize: Nova's in-process NeutronFixture
(the harness's RegionOne network) cannot migrate a ported server, which is the harness's
limit, not Nova's. One server keeps Nova's default network to hold the plan to the
`security_groups: [] -> ["default"]` regression of issue 8.
"""

from __future__ import annotations

import json
import re

import pytest

from tests.real.harness import IMAGE_ID, REGION_ONE, REGION_TWO, Api, openstack_client

# Another bootable image of the harness (nova's GlanceFixture, fixed IDs): the replacement.
OTHER_IMAGE_ID = "a2459075-d96c-40d5-893e-577ff92e721c"


def _mine(real: Api, prefix: str) -> dict[str, dict]:
    servers = [s for s in real.servers() if s["name"].startswith(prefix)]
    names = [s["name"] for s in servers]
    assert len(names) == len(set(names)), f"two servers of one name: {names}"
    return {s["name"]: s for s in servers}


def _keypairs(real: Api) -> set[str]:
    return {k["keypair"]["name"] for k in real.get(f"{real.nova}/os-keypairs", "keypairs")}


def _no_change(stack) -> None:
    result = stack.cli("plan", "--detailed-exitcode", rc=None)
    assert result.returncode == 0 and "No changes" in result.stdout, str(result)


def _wait_active(real: Api, prefix: str, count: int) -> dict[str, dict]:
    def settled() -> bool:
        found = _mine(real, prefix)
        return len(found) == count and all(s["status"] == "ACTIVE" for s in found.values())

    real.wait(settled)
    return _mine(real, prefix)


LIFECYCLE = """\
stack: real-life-{rid}
keypairs:
  deploy:
    name: real-{rid}
    public_key_file: keys/deploy.pub
servers:
  web:
    count: 2
    name: {name}
    image: {{id: {image}}}
    flavor: {flavor}
    key_pair: deploy
    networks: none
    metadata: {{role: web}}
  plain:
    name: plain-{rid}
    image: {{id: {IMAGE_ID}}}
    flavor: m1.tiny
"""


def lifecycle(rid: str, *, name: str = "", flavor: str = "m1.tiny", image: str = IMAGE_ID) -> str:
    return LIFECYCLE.format(
        rid=rid, name=name or f"web-{rid}", flavor=flavor, image=image, IMAGE_ID=IMAGE_ID
    )


def test_lifecycle_create_resize_rename_replace_destroy(real: Api, make_stack, run_id):
    stack = make_stack(REGION_ONE)
    stack.write(lifecycle(run_id))
    result = stack.cli("apply", "--auto-approve")  # (run twice after a harness flake)
    assert "Apply complete!" in result.stdout, str(result)
    servers = _wait_active(real, f"web-{run_id}-", 2)
    assert f"real-{run_id}" in _keypairs(real)
    for server in servers.values():
        assert server["key_name"] == f"real-{run_id}"
        assert server["flavor"]["original_name"] == "m1.tiny"
        assert server["metadata"]["role"] == "web"
        assert server["metadata"]["stackplan:address"].startswith("server.web[")
    plain = _mine(real, f"plain-{run_id}")[f"plain-{run_id}"]
    assert plain["status"] == "ACTIVE"
    ids = {s["id"] for s in servers.values()}
    _no_change(stack)  # issue 8, point 18: no `security_groups: [] -> ["default"]`

    # resize in place: same IDs, the new flavor, confirmed (ACTIVE, not VERIFY_RESIZE)
    stack.write(lifecycle(run_id, flavor="m1.small"))
    plan = stack.cli("plan", "--detailed-exitcode", rc=2)
    assert "resize" in plan.stdout, str(plan)
    stack.cli("apply", "--auto-approve")
    servers = _wait_active(real, f"web-{run_id}-", 2)
    assert {s["id"] for s in servers.values()} == ids
    assert {s["flavor"]["original_name"] for s in servers.values()} == {"m1.small"}
    _no_change(stack)

    # rename in place
    stack.write(lifecycle(run_id, name=f"app-{run_id}", flavor="m1.small"))
    stack.cli("apply", "--auto-approve")
    servers = _wait_active(real, f"app-{run_id}-", 2)
    assert {s["id"] for s in servers.values()} == ids
    assert not _mine(real, f"web-{run_id}-")
    _no_change(stack)

    # a new image replaces (the default: image_update replace)
    stack.write(lifecycle(run_id, name=f"app-{run_id}", flavor="m1.small", image=OTHER_IMAGE_ID))
    plan = stack.cli("plan", "--detailed-exitcode", rc=2)
    assert "replace" in plan.stdout, str(plan)
    stack.cli("apply", "--auto-approve")
    servers = _wait_active(real, f"app-{run_id}-", 2)
    assert not ({s["id"] for s in servers.values()} & ids)
    assert {s["image"]["id"] for s in servers.values()} == {OTHER_IMAGE_ID}
    _no_change(stack)

    stack.cli("destroy", "--auto-approve")
    real.wait(lambda: not _mine(real, f"app-{run_id}-") and not _mine(real, f"plain-{run_id}"))
    assert f"real-{run_id}" not in _keypairs(real)


GROUPS = """\
stack: real-groups-{rid}
server_groups:
  g: {{name: g-{rid}, policy: anti-affinity}}
  s: {{name: s-{rid}, policy: soft-anti-affinity}}
servers:
  alone:
    name: alone-{rid}
    image: {{id: {image}}}
    flavor: m1.tiny
    networks: none
    server_group: g
  pair:
    count: 2
    name: pair-{rid}
    image: {{id: {image}}}
    flavor: m1.tiny
    networks: none
    server_group: s
"""


def test_server_groups(real: Api, make_stack, run_id):
    """Issue 7's groups: one anti-affinity group with its one server (the harness has one
    compute host), a soft-anti-affinity group holding two."""
    stack = make_stack(REGION_ONE)
    stack.write(GROUPS.format(rid=run_id, image=IMAGE_ID))
    stack.cli("apply", "--auto-approve")
    alone = _wait_active(real, f"alone-{run_id}", 1)
    pair = _wait_active(real, f"pair-{run_id}-", 2)
    groups = {
        g["name"]: g
        for g in real.get(
            f"{real.nova}/os-server-groups",
            "server_groups",
            headers={"OpenStack-API-Version": "compute 2.64"},
        )
    }
    g, s = groups[f"g-{run_id}"], groups[f"s-{run_id}"]
    assert g["policy"] == "anti-affinity" and s["policy"] == "soft-anti-affinity"
    assert set(g["members"]) == {v["id"] for v in alone.values()}
    assert set(s["members"]) == {v["id"] for v in pair.values()}
    _no_change(stack)
    stack.cli("destroy", "--auto-approve")
    real.wait(lambda: not _mine(real, f"pair-{run_id}-") and not _mine(real, f"alone-{run_id}"))
    left = {g["name"] for g in real.get(f"{real.nova}/os-server-groups", "server_groups")}
    assert not {f"g-{run_id}", f"s-{run_id}"} & left


DRIFT = """\
stack: real-drift-{rid}
servers:
  box:
    name: box-{rid}
    image: {{id: {image}}}
    flavor: m1.tiny
    networks: none
"""


def test_drift_made_with_the_openstack_client(real: Api, make_stack, run_id):
    stack = make_stack(REGION_ONE)
    stack.write(DRIFT.format(rid=run_id, image=IMAGE_ID))
    stack.cli("apply", "--auto-approve")
    (box,) = _wait_active(real, f"box-{run_id}", 1).values()
    stack.cli("drift", rc=0)

    openstack_client(REGION_ONE, "server", "set", "--name", f"moved-{run_id}", box["id"])
    drift = stack.cli("drift", rc=2)
    assert f"moved-{run_id}" in drift.stdout, str(drift)
    as_json = json.loads(stack.cli("drift", "--format", "json", rc=2).stdout)
    assert f"moved-{run_id}" in json.dumps(as_json)
    plan = stack.cli("plan", "--detailed-exitcode", rc=2)
    assert f"moved-{run_id}" in plan.stdout and f"box-{run_id}" in plan.stdout, str(plan)
    stack.cli("apply", "--auto-approve")
    (back,) = _mine(real, f"box-{run_id}").values()
    assert back["id"] == box["id"]
    stack.cli("drift", rc=0)
    _no_change(stack)
    stack.cli("destroy", "--auto-approve")


CLOUDS = """\
stack: real-clouds-{rid}
keypairs:
  k: {{name: clouds-{rid}, public_key_file: keys/deploy.pub}}
{body}"""


@pytest.mark.parametrize("region", [REGION_ONE, REGION_TWO])
def test_v3_through_clouds_yaml(real: Api, make_stack, run_id, region):
    """OS_CLOUD=harness-demo in the harness's own clouds.yaml (`regions: [RegionOne,
    RegionTwo]`), the region picked with OS_REGION_NAME."""
    stack = make_stack(region, clouds_yaml=True)
    rid = f"{run_id}{region[-3:].lower()}"
    if region == REGION_ONE:
        body = (
            f"servers:\n  one:\n    name: one-{rid}\n    image: {{id: {IMAGE_ID}}}\n"
            "    flavor: m1.tiny\n    key_pair: k\n    networks: none\n"
        )
        stack.write(CLOUDS.format(rid=rid, body=body))
        stack.cli("apply", "--auto-approve")
        _wait_active(real, f"one-{rid}", 1)
    else:
        text = f"stack: real-clouds-{rid}\nnetworks:\n  n: {{name: clouds-{rid}}}\n"
        stack.write(text)
        stack.cli("apply", "--auto-approve")
        assert [n["name"] for n in real.neutron_list("networks", name=f"clouds-{rid}")]
    _no_change(stack)
    stack.cli("destroy", "--auto-approve")
    if region == REGION_ONE:
        real.wait(lambda: not _mine(real, f"one-{rid}"))
        assert f"clouds-{rid}" not in _keypairs(real)
    else:
        assert not real.neutron_list("networks", name=f"clouds-{rid}")


def test_a_bad_password_is_one_message(make_stack):
    stack = make_stack(REGION_ONE)
    stack.write("stack: real-badpw\nservers: {}\n")
    result = stack.cli("plan", rc=1, env={"OS_PASSWORD": "wrong"})
    assert "Traceback" not in result.output
    assert re.search(r"refused the credentials for user demo .*\(401\)", result.output), str(result)


RESIZE_NOWHERE = """\
stack: real-nohost-{rid}
servers:
  r:
    name: nohost-{rid}
    image: {{id: {image}}}
    flavor: {flavor}
    networks: none
"""


def test_a_resize_nova_cannot_place_fails_the_apply(real, admin, make_stack, run_id):
    """A flavor whose extra spec asks for a trait no host has: Nova takes the resize and
    its scheduler finds no host, as on any cloud whose hosts are full."""
    flavor = admin.request(
        "POST",
        f"{admin.nova}/flavors",
        json={"flavor": {"name": f"nohost-{run_id}", "ram": 512, "vcpus": 1, "disk": 1}},
    )
    assert flavor.status_code == 200, flavor.text
    flavor_id = flavor.json()["flavor"]["id"]
    try:
        specs = {"extra_specs": {"trait:CUSTOM_STACKPLAN_NOWHERE": "required"}}
        resp = admin.request("POST", f"{admin.nova}/flavors/{flavor_id}/os-extra_specs", json=specs)
        assert resp.status_code == 200, resp.text
        stack = make_stack(REGION_ONE)
        stack.write(RESIZE_NOWHERE.format(rid=run_id, image=IMAGE_ID, flavor="m1.tiny"))
        stack.cli("apply", "--auto-approve")
        stack.write(RESIZE_NOWHERE.format(rid=run_id, image=IMAGE_ID, flavor=f"nohost-{run_id}"))
        result = stack.cli("apply", "--auto-approve", rc=None, timeout=25, harness_retry=False)
        (server,) = _mine(real, f"nohost-{run_id}").values()
        assert server["status"] == "ACTIVE" and server["flavor"]["original_name"] == "m1.tiny"
        assert result.returncode == 1, str(result)  # today: killed after 25 s of waiting
        assert "resize" in result.output.lower(), str(result)
        stack.cli("destroy", "--auto-approve")
        real.wait(lambda: not _mine(real, f"nohost-{run_id}"))
    finally:
        for server in _mine(real, f"nohost-{run_id}").values():
            real.request("DELETE", f"{real.nova}/servers/{server['id']}")
        real.wait(lambda: not _mine(real, f"nohost-{run_id}"))
        admin.request("DELETE", f"{admin.nova}/flavors/{flavor_id}")
