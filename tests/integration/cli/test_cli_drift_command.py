"""`stackplan drift`: the cloud compared with the state alone, changes made with the
official client found (a server renamed, a rule added by hand, a server deleted), in text,
JSON and Markdown, exit 0 / 2; nothing written, and no lock taken: it runs while an
apply holds the lock."""

from __future__ import annotations

import hashlib
import json

from tests.integration.cli.conftest import Stack, server_spec

GROUP = """\
security_groups:
  web:
    rules:
      - {protocol: tcp, port: 443}
"""


def _digest(stack: Stack) -> str:
    return hashlib.sha256(stack.state.read_bytes()).hexdigest()


def test_drift_finds_what_changed_and_what_went_and_writes_nothing(stack: Stack) -> None:
    stack.write_spec(server_spec(count=2, outputs=False) + GROUP)
    stack.cli("apply", "--auto-approve")
    written = _digest(stack)

    none = stack.cli("drift")
    assert none.stdout.startswith("No drift: the cloud holds the 4 resources as the state says.")
    assert json.loads(stack.cli("drift", "--format", "json").stdout)["has_drift"] is False

    stack.openstack("server", "set", "--name", "renamed-outside", "web-0")
    stack.openstack(
        "security", "group", "rule", "create", "--protocol", "tcp", "--dst-port", "22", "web"
    )
    result = stack.cli("drift", rc=2)
    out = result.stdout
    assert out.startswith("Drift: 2 changed outside stackplan."), out
    assert "  ~ server.web[0] (changed outside stackplan)" in out
    assert '      ~ name: "web-0" → "renamed-outside"' in out
    assert "  ~ security_group.web (changed outside stackplan)" in out
    assert 'added ["ingress IPv4 tcp 22 from 0.0.0.0/0"]' in out, out
    assert "server.web[1]" not in out

    doc = json.loads(stack.cli("drift", "--format", "json", rc=2).stdout)
    assert sorted((r["address"], r["deleted"]) for r in doc["resources"]) == [
        ("security_group.web", False),
        ("server.web[0]", False),
    ]
    renamed = next(r for r in doc["resources"] if r["address"] == "server.web[0]")
    assert renamed["attributes"] == [
        {"name": "name", "recorded": "web-0", "now": "renamed-outside"}
    ]

    markdown = stack.cli("drift", "--format", "markdown", rc=2).stdout
    assert markdown.startswith("### stackplan drift: 2 changed outside stackplan")
    assert "| `server.web[0]` | changed: `name` |" in markdown

    stack.openstack("server", "delete", "--wait", "web-1")
    out = stack.cli("drift", rc=2).stdout
    assert out.startswith("Drift: 2 changed, 1 deleted outside stackplan."), out
    assert "  - server.web[1] (deleted outside stackplan)" in out
    assert _digest(stack) == written  # drift writes nothing


def test_drift_runs_while_an_apply_holds_the_lock(make_stack) -> None:
    stack = make_stack(build_seconds=3)
    stack.write_spec(server_spec(count=1, outputs=False))
    stack.cli("apply", "--auto-approve")
    stack.write_spec(server_spec(count=2, outputs=False))
    apply = stack.cli.popen("apply", "--auto-approve")
    try:
        assert apply.stdout is not None
        seen = []
        for line in apply.stdout:  # the apply holds the lock and is creating web-1
            seen.append(line)
            if "Creating..." in line:
                break
        assert any("Creating..." in line for line in seen), "".join(seen)
        assert stack.cli("plan", rc=1).stderr.count("the state is locked by") == 1

        result = stack.cli("drift")
        assert result.stdout.startswith("No drift"), result
        assert apply.poll() is None  # the apply went on, undisturbed
        rest = apply.communicate(timeout=60)[0]
    finally:
        if apply.poll() is None:
            apply.kill()
            apply.wait()
    assert apply.returncode == 0, "".join(seen) + rest


def test_drift_without_a_state_is_one_clear_error(stack: Stack) -> None:
    stack.write_spec(server_spec(count=1))
    result = stack.cli("drift", rc=1)
    assert "there is no state at" in result.stderr and "Traceback" not in result.output
