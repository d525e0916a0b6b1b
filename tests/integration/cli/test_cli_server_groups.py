"""Server groups through the CLI, checked in the cloud's own API: placement by policy,
Nova's fault for an impossible one, teardown order, and never touching another's group."""

from __future__ import annotations

import json

from stackplan.addr import Address
from stackplan.state.file import dump_state
from stackplan.state.model import RecordStatus, ResourceRecord, State
from tests.integration.cli.conftest import CIRROS, Stack

GROUPED = """\
stack: spread
server_groups:
  spread: {{policy: {policy}}}
servers:
  web:
    count: {count}
    image: {image}
    flavor: m1.tiny
    server_group: spread
"""


def grouped(count: int = 3, policy: str = "anti-affinity") -> str:
    return GROUPED.format(count=count, policy=policy, image=CIRROS)


def _requests_of_a_no_change_plan(stack: Stack) -> int:
    stack.cloud.reset_stats()
    assert "No changes" in stack.cli("plan", "--detailed-exitcode").stdout
    return stack.cloud.stats()["total"]


def test_anti_affinity_spreads_its_servers_and_destroy_deletes_the_group_last(make_stack) -> None:
    stack = make_stack(hosts=3)
    stack.write_spec(grouped(3))
    result = stack.cli("apply", "--auto-approve")
    assert "Apply complete! Resources: 4 added" in result.stdout
    servers = stack.cloud.by_name()
    (group,) = stack.cloud.server_groups().values()
    assert group["name"] == "spread" and group["policy"] == "anti-affinity"
    assert sorted(group["members"]) == sorted(s["id"] for s in servers.values())
    assert len({s["hostId"] for s in servers.values()}) == 3  # each on another host
    with_group = _requests_of_a_no_change_plan(stack)

    # A fourth server has no host left: Nova's fault is shown, the apply fails.
    stack.write_spec(grouped(4))
    result = stack.cli("apply", "--auto-approve", rc=1)
    assert "server.web[3]: FAILED: went to ERROR: No valid host was found" in result.stdout
    assert stack.cloud.by_name()["web-3"]["status"] == "ERROR"
    stack.write_spec(grouped(3))
    stack.cli("apply", "--auto-approve")

    result = stack.cli("destroy", "--auto-approve")
    lines = result.stdout.splitlines()
    group_at = next(i for i, line in enumerate(lines) if line.startswith("server_group.spread: D"))
    servers_at = [
        i for i, line in enumerate(lines) if "server.web" in line and "Destruction" in line
    ]
    assert len(servers_at) == 3 and max(servers_at) < group_at
    assert stack.cloud.servers() == [] and stack.cloud.server_groups() == {}

    # The same servers without a group: the group costs one list call at most.
    stack.write_spec(grouped(3).replace("    server_group: spread\n", ""))
    stack.cli("apply", "--auto-approve")
    assert with_group <= _requests_of_a_no_change_plan(stack) + 1


def test_hard_anti_affinity_on_two_hosts_fails_the_third_server(make_stack) -> None:
    stack = make_stack(hosts=2)
    stack.write_spec(grouped(3))
    result = stack.cli("apply", "--auto-approve", rc=1)
    assert result.stdout.count("Creation complete") == 3  # the group and two servers
    assert "went to ERROR: No valid host was found. There are not enough hosts" in result.stdout
    statuses = sorted(s["status"] for s in stack.cloud.servers())
    assert statuses == ["ACTIVE", "ACTIVE", "ERROR"]


def test_a_namesake_group_made_by_hand_is_never_adopted_nor_deleted(make_stack) -> None:
    stack = make_stack(hosts=3)
    made = json.loads(
        stack.openstack("server", "group", "create", "--policy", "affinity", "spread", "-f", "json")
    )
    stack.write_spec(grouped(2))
    plan = stack.cli("plan")
    namesake = "already has a server group named 'spread' that this stack did not create"
    assert f"{namesake} ({made['id']})" in plan.stdout
    stack.cli("apply", "--auto-approve")
    groups = stack.cloud.server_groups()
    assert len(groups) == 2 and groups[made["id"]]["members"] == []
    stack.cli("destroy", "--auto-approve")
    assert list(stack.cloud.server_groups()) == [made["id"]]


def test_a_policy_change_replaces_the_group_and_the_servers_in_it(make_stack) -> None:
    stack = make_stack(hosts=3)
    stack.write_spec(grouped(2))
    stack.cli("apply", "--auto-approve")
    before = {s["id"] for s in stack.cloud.servers()}
    stack.write_spec(grouped(2, policy="soft-anti-affinity"))
    plan = stack.cli("plan", "--detailed-exitcode", rc=2)
    assert "server_group.spread (replace: policy forces replacement)" in plan.stdout
    assert plan.stdout.count("(replace: server_group_id forces replacement)") == 2
    stack.cli("apply", "--auto-approve")
    (group,) = stack.cloud.server_groups().values()
    assert group["policy"] == "soft-anti-affinity"
    assert sorted(group["members"]) == sorted(s["id"] for s in stack.cloud.servers())
    assert not before & {s["id"] for s in stack.cloud.servers()}


def test_a_server_joins_a_cloud_group_named_in_the_spec(make_stack) -> None:
    stack = make_stack(hosts=2)
    made = json.loads(
        stack.openstack("server", "group", "create", "--policy", "affinity", "shared", "-f", "json")
    )
    spec = (
        f"servers:\n  solo:\n    image: {CIRROS}\n    flavor: m1.tiny\n    server_group: shared\n"
    )
    stack.write_spec(spec)
    stack.cli("apply", "--auto-approve")
    assert stack.cloud.server_groups()[made["id"]]["members"] == [stack.cloud.servers()[0]["id"]]
    stack.write_spec(spec.replace("shared", "sharde"))
    result = stack.cli("plan", rc=1)
    assert "no server group named 'sharde' in the spec or the cloud" in result.stderr
    assert "did you mean 'shared'" in result.stderr
    stack.write_spec(spec)
    stack.cli("destroy", "--auto-approve")
    assert list(stack.cloud.server_groups()) == [made["id"]]  # not ours: left alone


def _killed_after_the_create(stack: Stack, namesakes: list[str]) -> None:
    """The state an apply leaves when killed after its group create reached the cloud and
    before the answer was recorded: the intent, and the namesakes it saw before."""
    intent = {"create_token": "t-1", "name": "spread", "namesakes": namesakes}
    record = ResourceRecord(
        Address("server_group", "spread"), None, intent, status=RecordStatus.PENDING_CREATE
    )
    stack.state.write_text(dump_state(State.new("spread").with_record(record)), encoding="utf-8")


def test_a_group_created_by_a_killed_apply_is_adopted_not_duplicated(make_stack) -> None:
    stack = make_stack(hosts=3)
    stack.write_spec(grouped(0))
    _killed_after_the_create(stack, namesakes=[])
    made = json.loads(
        stack.openstack(
            "server", "group", "create", "--policy", "anti-affinity", "spread", "-f", "json"
        )
    )
    plan = stack.cli("plan")
    assert "adopted: found by its stackplan tag, missing from the state" in plan.stdout
    stack.cli("apply", "--auto-approve")
    assert list(stack.cloud.server_groups()) == [made["id"]]
    assert "No changes" in stack.cli("plan", "--detailed-exitcode").stdout


def test_a_group_that_was_there_before_the_intent_is_not_taken_for_ours(make_stack) -> None:
    stack = make_stack(hosts=3)
    stack.write_spec(grouped(0))
    made = json.loads(
        stack.openstack(
            "server", "group", "create", "--policy", "anti-affinity", "spread", "-f", "json"
        )
    )
    _killed_after_the_create(stack, namesakes=[made["id"]])
    stack.cli("apply", "--auto-approve")
    groups = stack.cloud.server_groups()
    assert len(groups) == 2 and made["id"] in groups
    stack.cli("destroy", "--auto-approve")
    assert list(stack.cloud.server_groups()) == [made["id"]]
