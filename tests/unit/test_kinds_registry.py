"""Every registered kind is accepted everywhere, with no per-kind code outside its rooms.

The list of kinds is the registry's: addresses, the spec schema (sections and address
pattern), the renderers and the CLI are checked against each entry of it, so a new kind
gets these checks without anybody editing this file.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from stackplan.addr import Address
from stackplan.errors import StackplanError
from stackplan.kinds.base import Observed
from stackplan.kinds.registry import KINDS, parse_address
from stackplan.plan.diff import DiffOptions, diff
from stackplan.plan.render import render_json, render_markdown, render_text
from stackplan.schemas import load_schema
from stackplan.spec.schema import spec_schema
from stackplan.state.file import dump_state
from stackplan.state.model import ResourceRecord, State
from stackplan.workflow import SpecInput, load
from stackplan.workflow.schemas import spec_schema_text
from tests.helpers import run_stackplan

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "stackplan"
KIND_ROOMS = ("kinds", "cloud", "sim")
NAMES = sorted(KINDS)


def _every_kind_spec(tmp_path: Path) -> Path:
    """A spec with one entry of each kind, each the kind's own smallest example."""
    doc = {"stack": "every"}
    for kind in KINDS.values():
        doc[kind.section] = {"x": dict(kind.example)}
    path = tmp_path / "every.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


def _stackplan(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return run_stackplan(args, cwd=cwd, env={"PATH": "/usr/bin:/bin"}, inherit_env=False)


@pytest.mark.parametrize("name", NAMES)
def test_addresses_of_every_kind_parse(name: str) -> None:
    for text in (f"{name}.x", f"{name}.x[3]"):
        assert str(parse_address(text)) == text
        assert str(Address.parse(text)) == text


def test_an_unregistered_kind_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(StackplanError) as err:
        parse_address("serverr.web")
    assert "no kind 'serverr'" in err.value.message and "did you mean 'server'" in err.value.message


def test_the_schema_has_a_section_and_an_address_form_for_every_kind() -> None:
    schema = spec_schema(KINDS.values())
    pattern = re.compile(schema["$defs"]["address"]["pattern"])
    for kind in KINDS.values():
        assert kind.section in schema["properties"]
        assert pattern.match(f"{kind.name}.x[0]")
        assert kind.name in schema["$defs"]
    assert not pattern.match("gizmo.x")


def test_the_published_schema_is_the_one_the_kinds_make() -> None:
    # `make schemas` rewrites it; a kind added without that fails here.
    published = (ROOT / "schemas" / "stackplan.schema.json").read_text(encoding="utf-8")
    assert published == spec_schema_text()


def test_the_renderers_show_a_plan_with_every_kind(tmp_path: Path) -> None:
    desired = load(SpecInput(_every_kind_spec(tmp_path), env={}))
    plan = diff(desired, None, Observed(), DiffOptions(lineage="l"))
    text, markdown, doc = render_text(plan), render_markdown(plan), json.loads(render_json(plan))
    for name in NAMES:
        assert f"{name}.x" in text and f"{name}.x" in markdown
    assert sorted(c["kind"] for c in doc["resource_changes"]) == NAMES
    errors = list(Draft202012Validator(load_schema("plan")).iter_errors(doc))
    assert not errors, [e.message for e in errors]


def test_the_cli_validates_graphs_and_shows_every_kind(tmp_path: Path) -> None:
    spec = _every_kind_spec(tmp_path)
    done = _stackplan("validate", "-f", spec.name, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    for kind in KINDS.values():
        assert kind.label in done.stdout
    graph = _stackplan("graph", "-f", spec.name, cwd=tmp_path)
    assert all(f'"{name}.x"' in graph.stdout for name in NAMES), graph.stdout
    recorded = State.new("every")
    for name in NAMES:
        recorded = recorded.with_record(ResourceRecord(Address(name, "x"), f"id-{name}"))
    state = tmp_path / "state.json"
    state.write_text(dump_state(recorded), encoding="utf-8")
    listed = _stackplan("state", "list", "-f", spec.name, "--state", str(state), cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    for name in NAMES:
        shown = _stackplan("state", "show", f"{name}.x", "--state", str(state), cwd=tmp_path)
        assert shown.returncode == 0 and f'"id-{name}"' in shown.stdout, shown.stderr
        assert f"{name}.x  id-{name}" in listed.stdout


def test_no_kind_is_named_outside_its_rooms() -> None:
    # The generic rooms ask the registry; a kind's name or words there would mean per-kind
    # code (the words are those DESIGN.md keeps in kinds/, cloud/ and sim/).
    words = [re.escape(f'"{name}"') for name in NAMES]
    words += ["VERIFY_RESIZE", re.escape('"ACTIVE"'), "image_id", "flavor_id", "key_name"]
    pattern = re.compile("|".join(words))
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        room = path.relative_to(PACKAGE).parts[0]
        if room in KIND_ROOMS:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                found.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not found, "\n".join(found)
