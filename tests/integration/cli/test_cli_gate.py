"""What keeps a CI gate honest (issue 10): a plan that apply would refuse fails the plan,
saved plans carry their variables, sensitive values never show, and the plan's words are
exact. Each test goes through the CLI against a private embedded cloud."""

from __future__ import annotations

import base64
import json

from stackplan.state.local import LocalStateStore
from tests.helpers import CIRROS
from tests.integration.cli.conftest import Stack

VARIABLE_SPEC = f"""\
stack: gate
variables:
  size: m1.tiny
servers:
  web:
    image: {CIRROS}
    flavor: ${{var.size}}
"""

SECRET = "s3cr3t-Pa55word"
SENSITIVE_SPEC = f"""\
stack: secret
variables:
  db_password: {{default: "{SECRET}", sensitive: true}}
servers:
  db:
    image: {CIRROS}
    flavor: m1.tiny
    metadata:
      role: db
      dsn: "postgres://app:${{var.db_password}}@db/app"
    user_data: "#cloud-config\\npassword: ${{var.db_password}}\\n"
outputs:
  dsn: "postgres://app:${{var.db_password}}@db/app"
  db_id: ${{server.db.id}}
"""


def test_a_plan_over_the_quota_is_shown_then_fails(make_stack) -> None:
    stack = make_stack(quota_instances=2)
    stack.write_spec(VARIABLE_SPEC.replace("  web:\n", "  web:\n    count: 3\n"))
    result = stack.cli("plan", "--detailed-exitcode", "--out", "p.plan", rc=1)
    assert "Plan: 3 to add" in result.stdout  # the plan is still shown
    assert "the plan needs more than the project's quota allows" in result.stderr
    assert "instances: the plan needs 3 more, the project has 2 of 2 left" in result.stderr
    assert not (stack.dir / "p.plan").exists()  # and not saved: apply would refuse it
    assert stack.cli("plan", "--format", "json", rc=1).stdout.startswith("{")


def test_a_saved_plan_carries_its_variables(stack: Stack) -> None:
    stack.write_spec(VARIABLE_SPEC)
    stack.cli("plan", "--var", "size=m1.small", "--out", "p.plan")
    result = stack.cli("apply", "p.plan")  # no --var: the plan knows size=m1.small
    assert "Apply complete! Resources: 1 added" in result.stdout
    assert stack.cloud.by_name()["web"]["flavor"]["id"] == "2"  # m1.small
    stack.cli("plan", "--var", "size=m1.medium", "--out", "q.plan")
    result = stack.cli("apply", "q.plan", "--var", "size=m1.large", rc=1)
    assert "a saved plan carries the variables it was made with" in result.stderr


def test_sensitive_values_never_show_nor_reach_the_state(stack: Stack) -> None:
    stack.write_spec(SENSITIVE_SPEC)
    for fmt in ("text", "json", "markdown"):
        shown = stack.cli("plan", "--format", fmt).stdout
        assert SECRET not in shown and "(sensitive)" in shown, fmt
    doc = json.loads(stack.cli("plan", "--format", "json").stdout)
    (db,) = doc["resource_changes"]
    assert db["after"]["metadata"] == {"role": "db", "dsn": "(sensitive)"}
    assert db["sensitive"] == ["metadata.dsn", "user_data"]
    assert doc["outputs"]["dsn"] == "(sensitive)"
    applied = stack.cli("--debug", "apply", "--auto-approve")
    assert SECRET not in applied.stdout + applied.stderr
    assert base64.b64encode(f"password: {SECRET}".encode()).decode()[:12] not in applied.stderr
    assert 'dsn = "(sensitive)"' in applied.stdout
    # The cloud has the value; the state only its digest, and plans stay empty.
    server = stack.cloud.by_name()["db"]
    assert SECRET in server["metadata"]["dsn"]
    text = stack.state.read_text(encoding="utf-8")
    assert SECRET not in text and "(sensitive) sha256:" in text
    assert "No changes" in stack.cli("plan", "--detailed-exitcode").stdout
    assert stack.cli("output").stdout.count("(sensitive)") == 1
    assert stack.cli("output", "dsn").stdout.strip() == "(sensitive)"  # not in the state


def test_a_sensitive_value_changed_in_the_cloud_is_drift_without_showing(stack: Stack) -> None:
    stack.write_spec(SENSITIVE_SPEC)
    stack.cli("apply", "--auto-approve")
    server_id = stack.cloud.by_name()["db"]["id"]
    stack.openstack("server", "set", "--property", "dsn=postgres://app:other@db/app", server_id)
    plan = stack.cli("plan", "--detailed-exitcode", rc=2)
    assert "metadata" in plan.stdout and "other" not in plan.stdout
    assert SECRET not in plan.stdout


def test_a_tainted_server_says_why_it_is_replaced(stack: Stack) -> None:
    stack.write_spec(
        VARIABLE_SPEC.replace("    flavor:", "    metadata: {sim:fail: build}\n    flavor:")
    )
    stack.cli("apply", "--auto-approve", rc=1)
    record = LocalStateStore(stack.state).read().records[0]
    assert record.fault and "No valid host was found" in record.fault
    plan = stack.cli("plan")
    assert "(replace: tainted (went to ERROR: No valid host was found." in plan.stdout


def test_refresh_reports_only_what_really_changed(stack: Stack) -> None:
    stack.write_spec(VARIABLE_SPEC)
    stack.cli("apply", "--auto-approve")
    assert "attributes updated" not in stack.cli("refresh").stdout
    server_id = stack.cloud.by_name()["web"]["id"]
    stack.openstack("server", "set", "--name", "renamed", server_id)
    assert "server.web: attributes updated from the cloud" in stack.cli("refresh").stdout


def test_known_metadata_keys_show_beside_one_known_after_apply(stack: Stack) -> None:
    spec = VARIABLE_SPEC + (
        f"  app:\n    image: {CIRROS}\n    flavor: m1.tiny\n"
        "    metadata: {role: app, web: '${server.web.id}'}\n"
    )
    stack.write_spec(spec)
    plan = stack.cli("plan").stdout
    assert 'metadata: {"role": "app", "web": (known after apply)}' in plan


def test_online_validation_points_at_the_field_like_offline_validation(stack: Stack) -> None:
    stack.write_spec(VARIABLE_SPEC.replace("${var.size}", "m1.smol"))
    result = stack.cli("validate", "--online", rc=1)
    assert "stackplan.yaml:7:13: servers.web.flavor: server.web: no flavor named 'm1.smol'" in (
        result.stderr
    )


def test_no_color_and_a_dumb_terminal_are_honoured(stack: Stack) -> None:
    # Through `script`, stdout is a terminal: colour unless NO_COLOR or TERM=dumb says no.
    import shutil
    import subprocess
    import sys

    script = shutil.which("script")
    stack.write_spec(VARIABLE_SPEC)
    base = {k: v for k, v in stack.cli.env.items() if k != "NO_COLOR"}
    command = f"{sys.executable} -m stackplan plan --state {stack.state}"
    outputs = {}
    for name, extra in {"color": {"TERM": "xterm"}, "no_color": {"NO_COLOR": "1"},
                        "dumb": {"TERM": "dumb"}}.items():  # fmt: skip
        done = subprocess.run(
            [script, "-qec", command, "/dev/null"],
            cwd=stack.dir,
            env={**base, "TERM": "xterm", **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        outputs[name] = done.stdout
    assert "\x1b[" in outputs["color"]
    assert "\x1b[" not in outputs["no_color"] and "\x1b[" not in outputs["dumb"]


def test_security_groups_nobody_wrote_are_not_enforced(stack: Stack) -> None:
    # A server whose cloud reports no group (no ports, or port security off) is no change.
    stack.write_spec(VARIABLE_SPEC)
    stack.cli("apply", "--auto-approve")
    server_id = stack.cloud.by_name()["web"]["id"]
    stack.cloud.action(server_id, {"removeSecurityGroup": {"name": "default"}})
    assert "security_groups" not in stack.cloud.server(server_id)
    assert "No changes" in stack.cli("plan", "--detailed-exitcode").stdout


def test_debug_logs_mask_user_data(stack: Stack) -> None:
    stack.write_spec(
        VARIABLE_SPEC.replace("    flavor:", "    user_data: 'hello-cloud-init'\n    flavor:")
    )
    result = stack.cli("--debug", "apply", "--auto-approve")
    encoded = base64.b64encode(b"hello-cloud-init").decode()
    assert encoded not in result.stderr and "user_data" in result.stderr


def _keypair_stack(stack: Stack, name: str, key: str) -> str:
    return f"stack: {name}\nkeypairs:\n  deploy:\n    public_key: {key}\n"


def test_a_keypair_another_stack_made_is_used_never_deleted(make_stack) -> None:
    first = make_stack()
    key = (first.dir / "keys" / "deploy.pub").read_text(encoding="utf-8").strip()
    first.write_spec(_keypair_stack(first, "first", key))
    first.cli("apply", "--auto-approve")
    # A second stack on the same cloud names the same keypair, with the same key.
    second = Stack(first.sim, first.dir / "second", first.cli, first.cloud, first.os_env)
    second.dir.mkdir()
    second.cli = type(first.cli)(second.dir, first.cli.env, second.dir / "state.json")
    second.write_spec(_keypair_stack(second, "second", key))
    plan = second.cli("plan")
    assert "made outside this stack: used as it is, never deleted" in plan.stdout
    second.cli("apply", "--auto-approve")
    destroyed = second.cli("destroy", "--auto-approve")
    assert "forgotten, left in the cloud" in destroyed.stdout
    assert first.cloud.keypairs() == ["deploy"]  # the first stack's keypair stays
    # With another key it cannot be used: the plan says so and stops.
    other = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBvj1N1A2zCzQYTlVsF2NXHtb4CkHF3cqnGdPGNk8RqS"
    second.write_spec(_keypair_stack(second, "second", other))
    result = second.cli("plan", rc=1)
    assert "already has a keypair named 'deploy', made outside this stack" in result.stderr
    first.cli("destroy", "--auto-approve")
    assert first.cloud.keypairs() == []


def test_an_unknown_key_pair_fails_online_validation_and_the_plan(stack: Stack) -> None:
    key = (stack.dir / "keys" / "deploy.pub").read_text(encoding="utf-8").strip()
    spec = f"stack: keys\nkeypairs:\n  deploy:\n    public_key: {key}\nservers:\n  web:\n"
    spec += f"    image: {CIRROS}\n    flavor: m1.tiny\n    key_pair: deplyo\n"
    stack.write_spec(spec)
    for command in (("validate", "--online"), ("plan",)):
        result = stack.cli(*command, rc=1)
        assert "servers.web.key_pair: server.web: no keypair named 'deplyo'" in result.stderr
        assert stack.cloud.servers() == []
