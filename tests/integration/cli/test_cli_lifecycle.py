"""A stack's whole life through the CLI, with the cloud's real state checked at each step:
create, no changes, resize in place, image replace, rename, scale 3 → 5 → 2, a server
removed from the spec, destroy."""

from __future__ import annotations

from tests.helpers import CIRROS_ID
from tests.integration.cli.conftest import (
    FEDORA,
    FEDORA_ID,
    FLAVOR_IDS,
    Stack,
    server_spec,
)
from tests.integration.sim.conftest import Api

DB = """\
  db:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    key_pair: deploy
    metadata: {role: db}
"""


def _ids(stack: Stack) -> dict[str, str]:
    return {name: s["id"] for name, s in stack.cloud.by_name().items()}


def _no_changes(stack: Stack) -> None:
    result = stack.cli("plan", "--detailed-exitcode")
    assert "No changes" in result.stdout


def test_stack_lifecycle_through_the_cli(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud

    # create: 3 servers and 1 keypair (plus db, removed from the spec later)
    stack.write_spec(server_spec(extra=DB))
    result = cli("apply", "--auto-approve")
    assert "Plan: 5 to add, 0 to change, 0 to replace, 0 to destroy." in result.stdout
    assert "Apply complete! Resources: 5 added" in result.stdout
    servers = cloud.by_name()
    assert sorted(servers) == ["db", "web-0", "web-1", "web-2"]
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}
    assert {s["key_name"] for s in servers.values()} == {"deploy"}
    assert {s["flavor"]["id"] for s in servers.values()} == {FLAVOR_IDS["m1.tiny"]}
    assert cloud.keypairs() == ["deploy"]
    created = _ids(stack)

    # the cloud matches: exit 0 with --detailed-exitcode
    _no_changes(stack)

    # flavor change: resize in place, same IDs
    stack.write_spec(server_spec(flavor="m1.small", extra=DB))
    result = cli("plan", "--detailed-exitcode", rc=2)
    assert result.stdout.count("(resize: reboots, keeps its ID)") == 3
    assert "flavor: m1.tiny (1) → m1.small (2)" in result.stdout
    result = cli("apply", "--auto-approve")
    assert "0 to add, 3 to change, 0 to replace, 0 to destroy" in result.stdout
    assert "server.web[0]: Modifications complete" in result.stdout
    resized = _ids(stack)
    assert resized == created
    for name in ("web-0", "web-1", "web-2"):
        server = cloud.server(created[name])
        assert server["status"] == "ACTIVE"
        assert server["flavor"]["id"] == FLAVOR_IDS["m1.small"]
    assert cloud.server(created["db"])["flavor"]["id"] == FLAVOR_IDS["m1.tiny"]

    # image change: replace, new IDs, the old servers gone
    # (apply prints the plan it carries out: the checks read that rather than plan again)
    stack.write_spec(server_spec(flavor="m1.small", image=FEDORA, extra=DB))
    result = cli("apply", "--auto-approve")
    assert result.stdout.count("-/+ server.web[") == 3
    assert "(replace: image_id forces replacement)" in result.stdout
    assert "0 to add, 0 to change, 3 to replace, 0 to destroy" in result.stdout
    replaced = _ids(stack)
    assert sorted(replaced) == ["db", "web-0", "web-1", "web-2"]
    assert replaced["db"] == created["db"]
    for name in ("web-0", "web-1", "web-2"):
        assert replaced[name] != created[name]
        server = cloud.server(replaced[name])
        assert (server["status"], server["image"]["id"]) == ("ACTIVE", FEDORA_ID)
    assert cloud.server(created["db"])["image"]["id"] == CIRROS_ID

    # rename: update in place, same IDs
    stack.write_spec(server_spec(flavor="m1.small", image=FEDORA, name="front", extra=DB))
    result = cli("apply", "--auto-approve")
    assert 'name: "web-0" → "front-0"' in result.stdout
    assert result.stdout.count("(update in place)") == 3
    assert "0 to add, 3 to change, 0 to replace, 0 to destroy" in result.stdout
    renamed = _ids(stack)
    assert renamed == {
        "db": replaced["db"],
        "front-0": replaced["web-0"],
        "front-1": replaced["web-1"],
        "front-2": replaced["web-2"],
    }

    # scale 3 → 5: two new servers, the three others untouched
    stack.write_spec(server_spec(count=5, flavor="m1.small", image=FEDORA, name="front", extra=DB))
    result = cli("apply", "--auto-approve")
    assert "Plan: 2 to add, 0 to change, 0 to replace, 0 to destroy." in result.stdout
    scaled = _ids(stack)
    assert sorted(scaled) == ["db", *(f"front-{i}" for i in range(5))]
    assert {k: v for k, v in scaled.items() if k in renamed} == renamed
    assert {cloud.server(i)["status"] for i in scaled.values()} == {"ACTIVE"}
    assert {cloud.server(scaled[f"front-{i}"])["flavor"]["id"] for i in range(5)} == {
        FLAVOR_IDS["m1.small"]
    }

    # scale 5 → 2: the three highest indexes deleted
    stack.write_spec(server_spec(count=2, flavor="m1.small", image=FEDORA, name="front", extra=DB))
    result = cli("apply", "--auto-approve")
    assert "Plan: 0 to add, 0 to change, 0 to replace, 3 to destroy." in result.stdout
    assert _ids(stack) == {k: scaled[k] for k in ("db", "front-0", "front-1")}
    outputs = cli("output", "web_ids", "--json").stdout
    assert outputs.strip() == f'["{scaled["front-0"]}", "{scaled["front-1"]}"]'

    # a server removed from the spec is deleted
    stack.write_spec(server_spec(count=2, flavor="m1.small", image=FEDORA, name="front"))
    result = cli("apply", "--auto-approve")
    assert "- server.db (not in the spec)" in result.stdout
    assert "0 to add, 0 to change, 0 to replace, 1 to destroy" in result.stdout
    assert _ids(stack) == {k: scaled[k] for k in ("front-0", "front-1")}
    _no_changes(stack)
    listed = cli("state", "list").stdout
    assert "server.db" not in listed and "server.web[1]" in listed

    # destroy leaves the project empty
    result = cli("destroy", "--auto-approve")
    assert "0 to add, 0 to change, 0 to replace, 3 to destroy" in result.stdout
    assert cloud.servers() == []
    assert cloud.keypairs() == []
    assert "The state is empty." in cli("show").stdout


def test_a_resize_nova_cannot_place_fails_the_apply(make_stack) -> None:
    # Found against real Nova 34: the resize is taken (202), no host can take the flavor,
    # and the server goes back to ACTIVE on its old one with no fault. Waiting for
    # VERIFY_RESIZE would never end.
    stack = make_stack()
    admin = Api(stack.sim.url, user="admin", version="2.64")
    nowhere = {"extra_specs": {"trait:CUSTOM_STACKPLAN_NOWHERE": "required"}}
    resp = admin.compute("POST", f"/flavors/{FLAVOR_IDS['m1.medium']}/os-extra_specs", json=nowhere)
    assert resp.status_code == 200, resp.text
    stack.write_spec(server_spec(count=1))
    stack.cli("apply", "--auto-approve")
    stack.write_spec(server_spec(count=1, flavor="m1.medium"))
    result = stack.cli("apply", "--auto-approve", rc=1, timeout=60)
    assert "server.web[0]: FAILED: Nova did not resize it to m1.medium" in result.stdout
    server = stack.cloud.by_name()["web-0"]
    assert server["status"] == "ACTIVE" and server["flavor"]["id"] == FLAVOR_IDS["m1.tiny"]
    assert "resize" in stack.cli("plan").stdout  # planned again, as any failed change
    stack.write_spec(server_spec(count=1))
    stack.cli("destroy", "--auto-approve")
