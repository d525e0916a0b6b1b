"""The spec schema's rules, one snippet each, and how their messages read."""

from __future__ import annotations

import pytest
import yaml
from jsonschema import Draft202012Validator

from stackplan.kinds.registry import KINDS
from stackplan.schemas import load_schema
from stackplan.spec.load import load_yaml
from stackplan.spec.schema import spec_schema
from stackplan.spec.validate import schema_problems
from stackplan.suggest import did_you_mean

SERVER = "servers:\n  web:\n    image: cirros\n    flavor: m1.tiny\n"


def _problems(text: str) -> list[str]:
    return [p.render() for p in schema_problems(load_yaml(text, "s.yaml"), KINDS.values())]


def test_the_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(load_schema("stackplan"))


def test_the_schema_of_the_registered_kinds_is_a_valid_2020_12_schema() -> None:
    # What validation uses, composed from the kinds: not checked at run time.
    Draft202012Validator.check_schema(spec_schema(KINDS.values()))


def test_a_complete_spec_passes() -> None:
    text = (
        "stack: web\nvariables: {n: 2, m: null, t: {default: a, type: string}}\n"
        "keypairs: {k: {name: kk, public_key_file: k.pub}}\n" + SERVER + "    count: ${var.n}\n"
        "    key_pair: k\n    security_groups: [default]\n    metadata: {a: b, n: 1, t: true}\n"
        "    user_data: x\n    availability_zone: nova\n    image_update: rebuild\n"
        "    depends_on: [keypair.k, 'server.db[0]']\n    name: w\n"
        "    lifecycle: {prevent_destroy: true, create_before_destroy: false,"
        " ignore_changes: [metadata]}\n"
        "outputs: {a: '${server.web[*].id}', b: {value: x, description: d}}\n"
    )
    assert _problems(text) == []


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ("    count: -1\n", "s.yaml:5:12: servers.web.count: must be at least 0"),
        ("    count: 1.5\n", "servers.web.count: must be a whole number >= 0 or ${var.NAME}"),
        ("    count: true\n", "servers.web.count: must be a whole number >= 0 or ${var.NAME}"),
        ("    count: x${var.n}\n", "servers.web.count: must be a whole number >= 0 or exactly"),
        ("    image_update: keep\n", "servers.web.image_update: must be one of: replace, rebuild"),
        (
            "    flavour: x\n",
            "s.yaml:5:5: servers.web.flavour: unknown key (did you mean 'flavor'?)",
        ),
        ("    user_data: a\n    user_data_file: b\n", "servers.web: give user_data or"),
        ("    depends_on: [web]\n", "servers.web.depends_on[0]: is not a resource address"),
        ("    depends_on: [bucket.x]\n", "servers.web.depends_on[0]: is not a resource address"),
        ("    depends_on: server.db\n", "servers.web.depends_on: must be a list"),
        ("    security_groups: default\n", "servers.web.security_groups: must be a list"),
        ("    metadata: {'': x}\n", "a metadata key must not be empty"),
        ("    metadata: {a: [x]}\n", "metadata.a: must be a string, a number or a boolean"),
        ("    lifecycle: {prevent_destroy: maybe}\n", "prevent_destroy: must be true or false"),
        ("    lifecycle: {ignore_changes: [count]}\n", "ignore_changes[0]: must be one of"),
        ("    lifecycle: {replace: true}\n", "servers.web.lifecycle.replace: unknown key"),
        ("    key_pair: ''\n", "servers.web.key_pair: must not be empty"),
        ("    name: ''\n", "servers.web.name: must not be empty"),
    ],
)
def test_server_rules(extra: str, expected: str) -> None:
    problems = _problems(SERVER + extra)
    assert len(problems) == 1, problems
    assert expected in problems[0]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ("42", "must be an image name, {id: ...} or {name: ..., most_recent: true}"),
        ("''", "servers.web.image: must not be empty"),
        ("{id: a, name: b}", "give exactly one of id or name"),
        ("{most_recent: true}", "give exactly one of id or name"),
        ("{id: a, most_recent: true}", "most_recent goes with name, not id"),
        ("{name: a, most_recent: yes please}", "most_recent: must be true or false"),
        ("{nmae: a}", "servers.web.image.nmae: unknown key (did you mean 'name'?)"),
    ],
)
def test_image_forms(image: str, expected: str) -> None:
    problems = _problems(f"servers:\n  web:\n    image: {image}\n    flavor: f\n")
    assert any(expected in p for p in problems), problems


@pytest.mark.parametrize(
    "image", ["cirros", "{id: abc}", "{name: u}", "{name: u, most_recent: true}"]
)
def test_image_forms_accepted(image: str) -> None:
    assert _problems(f"servers:\n  web:\n    image: {image}\n    flavor: f\n") == []


@pytest.mark.parametrize(
    ("flavor", "ok"), [("m1.tiny", True), ("{id: '1'}", True), ("{name: x}", False), ("3", False)]
)
def test_flavor_forms(flavor: str, ok: bool) -> None:
    problems = _problems(f"servers:\n  web:\n    image: i\n    flavor: {flavor}\n")
    assert (problems == []) is ok, problems


def test_metadata_limits() -> None:
    items = {f"k{i}": "v" for i in range(129)}
    long_key = {"k" * 256: "v"}
    long_value = {"k": "v" * 256}
    for metadata, expected in [
        (items, "has 129 items; at most 128 are allowed"),
        (long_key, "a metadata key is at most 255 characters long"),
        (long_value, "is 256 characters long; at most 255 are allowed"),
    ]:
        text = SERVER + "    metadata: " + yaml.safe_dump(metadata, default_flow_style=True)
        assert any(expected in p for p in _problems(text)), metadata
    edge = {"k" * 255: "v" * 255}
    assert (
        _problems(SERVER + "    metadata: " + yaml.safe_dump(edge, default_flow_style=True)) == []
    )


@pytest.mark.parametrize("name", ["web server", "web.1", "wéb", "a/b"])
def test_bad_resource_names(name: str) -> None:
    (problem,) = _problems(f"servers:\n  '{name}': {{image: i, flavor: f}}\n")
    assert problem.startswith("s.yaml:2:3: ") and "may only hold letters, digits" in problem


def test_keypair_needs_exactly_one_key() -> None:
    assert "give exactly one of public_key" in _problems("keypairs: {k: {name: x}}\n")[0]
    both = "keypairs: {k: {public_key: a, public_key_file: b}}\n"
    assert "give exactly one of public_key" in _problems(both)[0]


def test_variable_declaration_forms() -> None:
    assert _problems("variables: {a: 1, b: null, c: [x], d: {default: 1, type: integer}}\n") == []
    (problem,) = _problems("variables: {d: {default: 1, typ: integer}}\n")
    assert "variables.d.typ: unknown key (did you mean 'type'?)" in problem
    (problem,) = _problems("variables: {d: {type: int}}\n")
    assert "variables.d.type: must be one of: string, number" in problem


def test_outputs_forms() -> None:
    assert _problems("outputs: {a: x, b: {value: y}}\n") == []
    assert "must be an expression string" in _problems("outputs: {a: 1}\n")[0]
    assert "missing required key 'value'" in _problems("outputs: {a: {description: d}}\n")[0]


def test_top_level() -> None:
    (problem,) = _problems("- a\n")
    assert problem.startswith("s.yaml:1:1: ") and "the spec must be a mapping" in problem
    (problem,) = _problems("stack: web\nserver: {}\n")
    assert problem == "s.yaml:2:1: server: unknown key (did you mean 'servers'?)"
    (problem,) = _problems("stack: 'my stack'\n")
    assert "a stack name may only hold" in problem


def test_every_problem_at_once_sorted_by_position() -> None:
    text = "servers:\n  b:\n    image: 1\n    flavor: f\n  a:\n    flavour: x\nsrvers: {}\n"
    lines = [int(p.split(":")[1]) for p in _problems(text)]
    assert lines == sorted(lines) and lines == [3, 5, 6, 7]


def test_did_you_mean() -> None:
    assert did_you_mean("flavour", ["image", "flavor"]) == " (did you mean 'flavor'?)"
    assert did_you_mean("desc", ["value", "description"]) == " (did you mean 'description'?)"
    assert did_you_mean("zzz", ["image", "flavor"]) == ""
