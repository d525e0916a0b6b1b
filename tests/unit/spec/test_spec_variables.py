"""Variables: defaults, environment, var-files and --var, in that order; types; errors."""

from __future__ import annotations

import pytest

from stackplan.errors import SpecError
from stackplan.spec.variables import parse_value

SPEC = """\
variables:
  web_count: 1
  flavor: m1.tiny
  tag: {default: "007", type: string}
  needed: null
servers:
  web:
    count: ${var.web_count}
    image: cirros
    flavor: ${var.flavor}
    metadata: {tag: "${var.tag}", n: "n=${var.web_count}", needed: "${var.needed}"}
"""


def _messages(info: pytest.ExceptionInfo[SpecError]) -> list[str]:
    return [p.render() for p in info.value.problems]


def test_defaults_apply(load) -> None:
    desired = load(SPEC, vars=("needed=x",))
    assert desired.variables["web_count"] == 1
    assert [str(r.address) for r in desired.resources] == ["server.web[0]"]


def test_precedence_default_env_file_cli(load, write) -> None:
    env = {
        "STACKPLAN_VAR_web_count": "2",
        "STACKPLAN_VAR_flavor": "env",
        "STACKPLAN_VAR_needed": "e",
    }
    first = write("one.yaml", "web_count: 3\nflavor: file\n")
    second = write("two.yaml", "web_count: 4\n")
    desired = load(SPEC, env=env, var_files=(first, second), vars=("web_count=5",))
    assert desired.variables["web_count"] == 5  # --var beats the files
    assert desired.variables["flavor"] == "file"  # a file beats the environment
    assert desired.variables["needed"] == "e"  # the environment beats no default
    assert load(SPEC, env=env, var_files=(first, second)).variables["web_count"] == 4
    assert load(SPEC, env=env).variables["web_count"] == 2


def test_cli_values_are_yaml_scalars(load) -> None:
    desired = load(SPEC, vars=("web_count=3", "needed=true"))
    assert desired.variables["web_count"] == 3
    assert len(desired.resources) == 3
    assert desired.resources[0].attrs["metadata"]["needed"] == "true"
    assert desired.resources[0].attrs["metadata"]["n"] == "n=3"


def test_a_string_typed_variable_keeps_the_text(load) -> None:
    desired = load(SPEC, vars=("tag=010", "needed=x"))
    assert desired.variables["tag"] == "010"
    assert desired.resources[0].attrs["metadata"]["tag"] == "010"


def test_a_whole_string_variable_keeps_its_type(load) -> None:
    desired = load(SPEC, vars=("needed=x", "web_count=2"))
    assert isinstance(desired.variables["web_count"], int)
    assert [r.attrs["name"] for r in desired.resources] == ["web-0", "web-1"]


def test_required_variable_without_value(load) -> None:
    with pytest.raises(SpecError) as info:
        load(SPEC)
    (message,) = _messages(info)
    assert message.startswith("spec.yaml:5:3: variables.needed: variable 'needed' has no value")
    assert "STACKPLAN_VAR_needed" in message


def test_undeclared_cli_variable_suggests_a_name(load) -> None:
    with pytest.raises(SpecError) as info:
        load(SPEC, vars=("needed=1", "web_cont=2", "nothing"))
    messages = _messages(info)
    assert any(
        "--var web_cont: no variable 'web_cont'" in m and "'web_count'" in m for m in messages
    )
    assert any("--var 'nothing' must look like NAME=VALUE" in m for m in messages)


def test_var_file_problems_are_at_its_own_lines(load, write) -> None:
    bad = write("vars.yaml", "needed: 1\nflavr: x\n")
    with pytest.raises(SpecError) as info:
        load(SPEC, var_files=(bad,))
    (message,) = _messages(info)
    assert message.startswith(f"{bad}:2:1: flavr: no variable 'flavr'")
    assert "did you mean 'flavor'" in message


def test_var_file_syntax_error_is_at_its_line(load, write) -> None:
    bad = write("vars.yaml", "needed: 1\n\tflavor: x\n")
    with pytest.raises(SpecError, match=r"vars.yaml:2:1: .*tab character"):
        load(SPEC, var_files=(bad,))


def test_undeclared_variable_in_the_spec(load) -> None:
    text = (
        "variables: {flavor: f}\nservers:\n"
        "  web: {image: '${var.imgae}', flavor: '${var.flavor}'}\n"
    )
    with pytest.raises(SpecError) as info:
        load(text)
    (message,) = _messages(info)
    assert message.startswith("spec.yaml:3:16: servers.web.image: undeclared variable 'imgae'")


def test_declared_type_is_checked(load) -> None:
    text = "variables: {n: {type: integer}}\n"
    with pytest.raises(SpecError, match="value 'many' is not a integer"):
        load(text, vars=("n=many",))
    assert load(text, vars=("n=4",)).variables["n"] == 4


def test_a_list_variable_cannot_be_part_of_a_string(load) -> None:
    text = "variables: {groups: [a]}\nservers:\n  w: {image: 'x-${var.groups}', flavor: f}\n"
    with pytest.raises(SpecError, match="only a whole-string"):
        load(text)


@pytest.mark.parametrize(
    ("text", "type_", "value"),
    [
        ("3", None, 3),
        ("3", "string", "3"),
        ("true", None, True),
        ("a b", None, "a b"),
        ("", None, ""),
        ("[a, b]", None, ["a", "b"]),
        ("2024-01-01", None, "2024-01-01"),
        ("a: b: c", None, "a: b: c"),
    ],
)
def test_parse_value(text: str, type_: str | None, value: object) -> None:
    assert parse_value(text, type_) == value
