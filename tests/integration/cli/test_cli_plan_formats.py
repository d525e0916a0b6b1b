"""The plan as CI reads it: `--format json` valid against the public schema, `--format
markdown` for a pull-request comment, and the API requests a no-change plan costs."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from tests.integration.cli.conftest import FEDORA, ROOT, Stack, server_spec

BEFORE = """\
  db:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.small
  old:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
"""
AFTER = f"""\
  db:
    image: {FEDORA}
    flavor: m1.small
  cache:
    image: cirros-0.6.2-x86_64-disk
    flavor: m1.tiny
    metadata: {{db_id: "${{server.db.id}}"}}
"""


def _mixed_plan_stack(stack: Stack) -> None:
    """Applied: web[0..1], db, old. The spec now: resize web, add web[2] and cache (which
    needs db's new ID), replace db (new image), delete old."""
    stack.write_spec(server_spec(count=2, extra=BEFORE))
    stack.cli("apply", "--auto-approve")
    stack.write_spec(server_spec(count=3, flavor="m1.small", extra=AFTER))


def test_plan_formats_json_markdown_text_and_saved(stack: Stack) -> None:
    cli = stack.cli
    _mixed_plan_stack(stack)

    result = cli("plan", "--format", "json", "--detailed-exitcode", "--out", "mixed.plan", rc=2)
    doc = json.loads(result.stdout)  # stdout is the JSON alone; notices go to stderr
    schema = json.loads((ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8"))
    errors = [
        f"{list(e.absolute_path)}: {e.message}"
        for e in Draft202012Validator(schema).iter_errors(doc)
    ]
    assert errors == []
    actions = {c["address"]: c["action"] for c in doc["resource_changes"]}
    assert actions == {
        "keypair.deploy": "no-op",
        "server.cache": "create",
        "server.db": "delete-then-create",
        "server.old": "delete",
        "server.web[0]": "resize",
        "server.web[1]": "resize",
        "server.web[2]": "create",
    }
    assert doc["summary"] == {"add": 2, "change": 2, "replace": 1, "destroy": 1}
    cache = next(c for c in doc["resource_changes"] if c["address"] == "server.cache")
    assert any(path.startswith("metadata") for path in cache["after_unknown"])
    db = next(c for c in doc["resource_changes"] if c["address"] == "server.db")
    assert db["replace_paths"] == ["image_id"]

    markdown = cli("plan", "--format", "markdown").stdout
    assert "| Action | Resource | Why |" in markdown
    rows = [line for line in markdown.splitlines() if line.startswith("| ") and "`" in line]
    order = [
        next(
            a for a in ("old", "db", "web[0]", "web[1]", "web[2]", "cache") if f"server.{a}`" in row
        )
        for row in rows
    ]
    # destructive actions first: the delete and the replace before the others
    assert set(order[:2]) == {"old", "db"} and len(order) == 6, markdown
    assert "<details>" in markdown
    assert "1 to replace" in markdown

    text = cli("plan").stdout
    assert "-/+ server.db" in text and "- server.old" in text and "+ server.cache" in text
    assert "(known after apply)" in text
    assert "Plan: 2 to add, 2 to change, 1 to replace, 1 to destroy." in text

    # the saved plan shows the same as the plan did, in every format
    assert cli("show", "mixed.plan").stdout == text
    shown = json.loads(cli("show", "mixed.plan", "--format", "json").stdout)
    assert shown["resource_changes"] == doc["resource_changes"]


def test_no_change_plan_of_50_servers_takes_few_requests(make_stack) -> None:
    stack = make_stack(build_seconds=0)
    stack.write_spec(server_spec(count=50))
    stack.cli("apply", "--auto-approve", "--parallelism", "20")
    assert len(stack.cloud.servers()) == 50

    stack.cloud.reset_stats()
    result = stack.cli("plan", "--detailed-exitcode")
    assert "No changes" in result.stdout
    stats = stack.cloud.stats()
    assert stats["total"] < 10, stats
    assert stats["routes"].get("GET /compute/v2.1/servers/detail") == 1, stats
    assert not any("/servers/{" in route for route in stats["routes"]), stats
