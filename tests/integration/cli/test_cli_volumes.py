"""Block storage through the CLI, checked in the cloud's own API (Cinder's volumes, Nova's
attachments): servers booted from volumes with a data volume each and a config drive, a
volume grown in place, attachments added and removed without touching the others, a
server replaced getting its volume back, teardown order, and the plan-time refusals."""

from __future__ import annotations

import json

from tests.integration.cli.conftest import CIRROS, Stack


def _data(stack: Stack) -> dict[str, dict]:
    return {v["name"]: v for v in stack.cloud.volumes() if v["name"].startswith("data-")}


def _boot_volumes(stack: Stack) -> list[dict]:
    return [v for v in stack.cloud.volumes() if v["bootable"] == "true" and not v["name"]]


def _no_change(stack: Stack) -> None:
    result = stack.cli("plan", "--detailed-exitcode")
    assert "No changes" in result.stdout, result


SPEC_A = """\
stack: storage
keypairs:
  ops: {{public_key_file: keys/deploy.pub, name: {key}}}
volumes:
  data:
    count: 3
    size: {size}
    metadata: {{role: data}}
{logs}servers:
  app:
    count: 3
    image: {image}
    flavor: m1.tiny
    key_pair: ops
    boot_volume: {{size: 1, delete_on_termination: true}}
    config_drive: true
    tags: [app]
    volumes:
      - volume: "data[${{count.index}}]"
{solo}"""

SOLO = """\
  solo:
    image: {image}
    flavor: m1.tiny
    volumes:
      - volume: solo
{second}"""


def spec(size: int = 10, key: str = "ops", second: bool = False, solo: bool = True) -> str:
    logs = "  solo: {size: 2}\n" + ("  logs: {size: 1}\n" if second else "")
    solo_text = SOLO.format(image=CIRROS, second="      - volume: logs\n" if second else "")
    return SPEC_A.format(
        key=key, size=size, image=CIRROS, logs=logs if solo else "", solo=solo_text if solo else ""
    )


def test_a_stack_on_volumes_lives_its_life_in_place(stack: Stack) -> None:
    stack.write_spec(spec())
    result = stack.cli("apply", "--auto-approve")
    assert "Apply complete! Resources: 9 added" in result.stdout, result
    servers = stack.cloud.by_name()
    data = _data(stack)
    boots = _boot_volumes(stack)
    assert len(boots) == 3 and {v["size"] for v in boots} == {1}
    for i in range(3):
        server = servers[f"app-{i}"]
        assert server["image"] == ""  # Nova's view of a server booted from a volume
        assert server["config_drive"] == "True"
        assert stack.cloud.server_tags(server["id"]) == ["app"]
        volume = data[f"data-{i}"]
        assert volume["status"] == "in-use" and volume["size"] == 10
        assert [a["server_id"] for a in volume["attachments"]] == [server["id"]]
        assert volume["metadata"]["role"] == "data"
        (boot,) = [v for v in boots if v["attachments"][0]["server_id"] == server["id"]]
        assert stack.cloud.attachments(server["id"]) == sorted([boot["id"], volume["id"]])
    _no_change(stack)  # servers booted from volumes are not replaced by themselves

    # Grown from 10 to 20 GiB: extended in place, attached all along.
    stack.write_spec(spec(size=20))
    result = stack.cli("apply", "--auto-approve")
    assert "0 added, 3 changed, 0 replaced, 0 destroyed" in result.stdout, result
    grown = _data(stack)
    assert {n: v["id"] for n, v in grown.items()} == {n: v["id"] for n, v in data.items()}
    assert {v["size"] for v in grown.values()} == {20}
    assert {v["status"] for v in grown.values()} == {"in-use"}
    _no_change(stack)

    # A second volume on one server leaves the first attached.
    solo = stack.cloud.by_name()["solo"]
    (first,) = stack.cloud.attachments(solo["id"])
    stack.write_spec(spec(size=20, second=True))
    stack.cli("apply", "--auto-approve")
    logs = next(v for v in stack.cloud.volumes() if v["name"] == "logs")
    assert stack.cloud.attachments(solo["id"]) == sorted([first, logs["id"]])
    assert stack.cloud.by_name()["solo"]["id"] == solo["id"]
    _no_change(stack)

    # Removed from the spec: detached and deleted; its server keeps running.
    stack.write_spec(spec(size=20))
    result = stack.cli("apply", "--auto-approve")
    assert "0 added, 1 changed, 0 replaced, 1 destroyed" in result.stdout, result
    assert "logs" not in {v["name"] for v in stack.cloud.volumes()}
    assert stack.cloud.attachments(solo["id"]) == [first]
    assert stack.cloud.server(solo["id"])["status"] == "ACTIVE"
    _no_change(stack)

    # A new key pair replaces the servers: their data volumes go to the new ones.
    before = {n: v["id"] for n, v in _data(stack).items()}
    old = {n: s["id"] for n, s in stack.cloud.by_name().items()}
    stack.write_spec(spec(size=20, key="ops2"))
    result = stack.cli("apply", "--auto-approve")
    assert "0 added, 0 changed, 4 replaced" in result.stdout, result  # the key pair too
    now = stack.cloud.by_name()
    for i in range(3):
        server = now[f"app-{i}"]
        assert server["id"] != old[f"app-{i}"]
        assert before[f"data-{i}"] in stack.cloud.attachments(server["id"])
    assert len(_boot_volumes(stack)) == 3  # the old boot volumes went with their servers
    assert {n: v["id"] for n, v in _data(stack).items()} == before
    _no_change(stack)

    # Destroy: attachments and servers first, then the volumes; nothing is left.
    result = stack.cli("destroy", "--auto-approve")
    lines = result.stdout.splitlines()
    done = [line.split(":")[0] for line in lines if "Destruction complete" in line]
    last_server = max(i for i, a in enumerate(done) if a.startswith("server."))
    first_volume = min(i for i, a in enumerate(done) if a.startswith("volume."))
    assert last_server < first_volume, result
    assert stack.cloud.servers() == []
    assert stack.cloud.volumes() == []


def test_a_shrink_is_a_replacement_that_says_the_data_is_lost(stack: Stack) -> None:
    stack.write_spec(spec(solo=False))
    stack.cli("apply", "--auto-approve")
    stack.write_spec(spec(size=5, solo=False))
    result = stack.cli("plan")
    assert (
        "volume.data[0] (replace: size forces replacement (volumes cannot shrink: data lost))"
        in (result.stdout)
    )
    assert "~ size: 10 → 5  # forces replacement" in result.stdout
    doc = json.loads(stack.cli("plan", "--format", "json").stdout)
    assert {
        c["address"] for c in doc["resource_changes"] if c["action"] == "delete-then-create"
    } >= {
        "volume.data[0]",
        "volume.data[1]",
        "volume.data[2]",
    }


def test_a_volume_in_use_by_a_server_outside_the_stack_is_refused_at_plan_time(
    stack: Stack,
) -> None:
    stack.openstack("volume", "create", "--size", "1", "shared-disk")
    stack.openstack("server", "create", "--image", CIRROS, "--flavor", "m1.tiny", "--wait", "other")
    stack.openstack("server", "add", "volume", "other", "shared-disk")
    other = stack.cloud.by_name()["other"]
    stack.write_spec(
        f"stack: borrow\nservers:\n  app:\n    image: {CIRROS}\n    flavor: m1.tiny\n"
        "    volumes:\n      - volume: shared-disk\n"
    )
    result = stack.cli("plan", rc=1)
    assert "servers.app.volumes[0].volume" in result.stderr
    assert f"is in use by server other ({other['id']}), which this stack does not manage" in (
        result.stderr
    )
    assert "Traceback" not in result.output
    assert [s["name"] for s in stack.cloud.servers()] == ["other"]


def test_volumes_and_gigabytes_count_against_cinders_quota_at_plan_time(make_stack) -> None:
    stack = make_stack(quota_volumes=10, quota_gigabytes=30)
    stack.write_spec(spec(solo=False))  # 3 data volumes of 10 GiB, 3 boot volumes of 1
    result = stack.cli("plan", rc=1)
    assert "+33 GiB volumes" in result.stdout, result
    assert "volume gigabytes" in result.stderr and "33 GiB" in result.stderr, result
    assert stack.cloud.volumes() == []
    stack.write_spec(spec(size=8, solo=False))  # 24 + 3 = 27 GiB: it fits
    stack.cli("plan")


def test_a_destroy_deletes_volumes_once_their_servers_are_gone_without_detaching_them(
    make_stack,
) -> None:
    # Nova lets go of a server's volumes as it deletes it: a volume's delete waits for its
    # server's, and then needs neither a look nor a detach (which Nova refuses, 409, while
    # the server is being deleted: the cloud here takes a second to delete one).
    stack = make_stack(delete_seconds=1.0)
    stack.write_spec(spec(solo=False))
    stack.cli("apply", "--auto-approve")
    stack.cloud.reset_stats()
    result = stack.cli("destroy", "--auto-approve")
    assert "0 replaced, 7 destroyed" in result.stdout, result  # the key pair too
    routes = stack.cloud.stats()["routes"]
    volume_routes = {r: n for r, n in routes.items() if "/volumes" in r or "attachments" in r}
    assert not [r for r in volume_routes if "attachments" in r], volume_routes
    assert not [r for r in volume_routes if r.startswith("GET") and "{volume_id}" in r]
    assert volume_routes["DELETE /volume/v3/{project_id}/volumes/{volume_id}"] == 3, routes
    assert stack.cloud.servers() == [] and stack.cloud.volumes() == []
