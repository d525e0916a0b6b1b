"""What keeps a team safe: stale plan files refused, one apply at a time, prevent_destroy,
and a server that goes ERROR reported, tainted and replaced by the next apply."""

from __future__ import annotations

import json

from tests.integration.cli.conftest import CIRROS, FEDORA, Stack, server_spec

NO_HOST = "No valid host was found"


def test_stale_plan_file_is_refused_saying_what_moved(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(server_spec(count=1))
    cli("apply", "--auto-approve")

    stack.write_spec(server_spec(count=2))
    result = cli("plan", "--out", "scale.plan")
    assert "Plan: 1 to add" in result.stdout
    serial = json.loads(stack.state.read_text())["serial"]
    cli("apply", "--auto-approve")  # someone else applies the same change first
    assert sorted(cloud.by_name()) == ["web-0", "web-1"]
    moved_to = json.loads(stack.state.read_text())["serial"]

    result = cli("apply", "scale.plan", rc=1)
    assert "the saved plan is stale" in result.stderr
    assert f"the state has moved on: serial {serial} → {moved_to}" in result.stderr
    assert "stackplan plan --out" in result.stderr  # what to do next
    assert sorted(cloud.by_name()) == ["web-0", "web-1"]  # nothing applied twice

    # a plan file made before the spec was edited is refused too
    cli("plan", "--out", "fresh.plan")
    stack.write_spec(server_spec(count=2, flavor="m1.small"))
    result = cli("apply", "fresh.plan", rc=1)
    assert "the spec changed since the plan was made" in result.stderr
    assert {s["flavor"]["id"] for s in cloud.servers()} == {"1"}


def test_second_apply_is_refused_by_the_lock_naming_the_holder(make_stack) -> None:
    stack = make_stack(build_seconds=3)
    stack.write_spec(server_spec(count=2))
    first = stack.cli.popen("apply", "--auto-approve")
    try:
        assert first.stdout is not None
        seen = []
        for line in first.stdout:  # wait until the first apply is creating servers
            seen.append(line)
            if "Creating..." in line:
                break
        assert any("Creating..." in line for line in seen), "".join(seen)

        result = stack.cli("apply", "--auto-approve", rc=1)
        assert "the state is locked by" in result.stderr
        assert f"(pid {first.pid}) running 'apply'" in result.stderr
        assert "lock ID" in result.stderr
        result = stack.cli("plan", rc=1)
        assert f"(pid {first.pid}) running 'apply'" in result.stderr

        rest = first.communicate(timeout=60)[0]
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    assert first.returncode == 0, "".join(seen) + rest
    assert "Apply complete! Resources: 3 added" in rest
    assert sorted(stack.cloud.by_name()) == ["web-0", "web-1"]  # created once, not twice
    stack.cli("plan", "--detailed-exitcode")


PROTECTED = """\
  db:
    image: {image}
    flavor: m1.small
    metadata: {{role: db}}
    lifecycle: {{prevent_destroy: true}}
"""


def test_prevent_destroy_stops_a_plan_that_would_replace_or_delete(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(server_spec(count=1, extra=PROTECTED.format(image=CIRROS)))
    cli("apply", "--auto-approve")
    db = cloud.by_name()["db"]["id"]

    stack.write_spec(server_spec(count=1, extra=PROTECTED.format(image=FEDORA)))
    result = cli("plan", rc=1)
    assert "lifecycle.prevent_destroy forbids this plan" in result.stderr
    assert "server.db: replace, because image_id changed" in result.stderr
    result = cli("destroy", "--auto-approve", rc=1)
    assert "server.db: delete" in result.stderr
    assert cloud.by_name()["db"]["id"] == db
    assert cloud.server(db)["image"]["id"].endswith("01")  # still cirros

    # a change that keeps the server is still allowed
    stack.write_spec(server_spec(count=2, extra=PROTECTED.format(image=CIRROS)))
    cli("apply", "--auto-approve")
    assert sorted(cloud.by_name()) == ["db", "web-0", "web-1"]


FAILING = """\
  bad:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    metadata: {{role: bad{fail}}}
  after_bad:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    depends_on: [server.bad]
"""


def test_server_in_error_is_reported_tainted_and_replaced_next_apply(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(server_spec(count=1, extra=FAILING.format(fail=', "sim:fail": build')))
    result = cli("apply", "--auto-approve", rc=1)
    out = result.stdout
    assert f"server.bad: went to ERROR: {NO_HOST}" in out
    assert "Apply finished with errors: 2 done, 1 failed, 1 skipped." in out
    assert "skipped (a dependency failed): server.after_bad" in out
    assert "kept as tainted and replaced by the next apply" in out
    servers = cloud.by_name()
    assert sorted(servers) == ["bad", "web-0"]  # independent work finished
    assert servers["bad"]["status"] == "ERROR"
    assert NO_HOST in servers["bad"]["fault"]["message"]
    assert servers["web-0"]["status"] == "ACTIVE"
    failed_id = servers["bad"]["id"]
    assert f"server.bad  {failed_id}  (tainted)" in cli("state", "list").stdout

    stack.write_spec(server_spec(count=1, extra=FAILING.format(fail="")))
    result = cli("plan", "--detailed-exitcode", rc=2)
    assert "-/+ server.bad" in result.stdout
    assert "tainted" in result.stdout
    assert "Plan: 1 to add, 0 to change, 1 to replace, 0 to destroy." in result.stdout
    cli("apply", "--auto-approve")
    servers = cloud.by_name()
    assert sorted(servers) == ["after_bad", "bad", "web-0"]
    assert servers["bad"]["id"] != failed_id
    assert {s["status"] for s in servers.values()} == {"ACTIVE"}
    assert failed_id not in {s["id"] for s in cloud.servers()}
    cli("plan", "--detailed-exitcode")
