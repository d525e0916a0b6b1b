"""Drift made with the official openstack client: a deleted server is planned again, a
renamed one is shown and put back."""

from __future__ import annotations

import pytest

from tests.integration.cli.conftest import Stack, server_spec

pytestmark = pytest.mark.compat


def test_drift_from_the_openstack_client_is_shown_and_put_back(stack: Stack) -> None:
    cli, cloud = stack.cli, stack.cloud
    stack.write_spec(server_spec(count=3))
    cli("apply", "--auto-approve")
    before = {n: s["id"] for n, s in cloud.by_name().items()}
    assert sorted(before) == ["web-0", "web-1", "web-2"]

    stack.openstack("server", "delete", "--wait", "web-0")
    stack.openstack("server", "set", "--name", "renamed-outside", "web-1")
    assert sorted(cloud.by_name()) == ["renamed-outside", "web-2"]

    result = cli("plan", "--detailed-exitcode", rc=2)
    out = result.stdout
    # the deleted server: created again, and said to be gone from the cloud
    web0 = _section(out, "server.web[0]")
    assert web0.startswith("  + server.web[0]"), out
    assert "(deleted outside stackplan: will be created again)" in web0, out
    # the renamed server: an in-place update from the outside name back to the spec's
    web1 = _section(out, "server.web[1]")
    assert web1.startswith("  ~ server.web[1]"), out
    assert '"renamed-outside" → "web-1"' in web1, out
    assert "# changed outside stackplan: name" in web1, out
    assert "server.web[2]" not in out
    assert "Plan: 1 to add, 1 to change, 0 to replace, 0 to destroy." in out

    cli("apply", "--auto-approve")
    after = {n: s["id"] for n, s in cloud.by_name().items()}
    assert sorted(after) == ["web-0", "web-1", "web-2"]
    assert after["web-0"] != before["web-0"]
    assert (after["web-1"], after["web-2"]) == (before["web-1"], before["web-2"])
    assert {s["status"] for s in cloud.servers()} == {"ACTIVE"}
    cli("plan", "--detailed-exitcode")


def _section(text: str, address: str) -> str:
    """The lines of the text plan about one resource, from its header to the blank line."""
    lines = text.splitlines()
    start = next(
        i
        for i, line in enumerate(lines)
        if line.lstrip()[:1] in "+~-" and line.split()[1:2] == [address]
    )
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return "\n".join(lines[start:end])
