"""YAML loading: positions of every node, duplicates, tabs, one document, syntax errors."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from stackplan.errors import SpecError, StackplanError
from stackplan.spec.load import Position, load_yaml, read_yaml_file, render_path


def _load(text: str):
    return load_yaml(textwrap.dedent(text), "s.yaml")


def _problems(text: str) -> list[str]:
    with pytest.raises(SpecError) as info:
        _load(text)
    return [p.render() for p in info.value.problems]


def test_every_key_and_value_has_its_line_and_column() -> None:
    doc = _load(
        """\
        servers:
          web:
            image: cirros
            security_groups: [a, b]
        """
    )
    assert doc.keys[("servers", "web")] == (2, 3)
    assert doc.values[("servers", "web", "image")] == (3, 12)
    assert doc.values[("servers", "web", "security_groups", 1)] == (4, 26)
    assert doc.where(("servers", "web")) == "s.yaml:2:3"


def test_position_of_an_unwritten_path_is_its_nearest_ancestor() -> None:
    doc = _load("servers:\n  web:\n    image: x\n")
    assert doc.position(("servers", "web", "flavor"), prefer_key=True) == Position(2, 3)
    assert doc.position(()) == Position(1, 1)


def test_keys_keep_their_text_and_dates_stay_strings() -> None:
    doc = _load("yes: 2024-01-02\n1: on\n")
    assert doc.data == {"yes": "2024-01-02", "1": True}


def test_scalars_take_the_same_types_however_often_they_are_written() -> None:
    # The parser's tag of a plain scalar is worked out once per text: a quoted "1" after
    # a plain 1, or a plain one after a quoted, keeps its own type.
    text = """\
    a: [1, "1", 1, yes, 'yes', yes, null, ~, "null", 1.5, "1.5", 1.5, 2024-01-01]
    b: ["1", 1, 'yes', yes]
    """
    for _ in range(2):
        data = _load(text).data
        assert data["a"] == [1, "1", 1, True, "yes", True, None, None, "null", 1.5, "1.5", 1.5,
                             "2024-01-01"]  # fmt: skip
        assert data["b"] == ["1", 1, "yes", True]


def test_duplicate_key_is_an_error_at_the_second_one() -> None:
    problems = _problems("servers:\n  web: {}\n  db: {}\n  web: {}\n")
    assert problems == ["s.yaml:4:3: servers.web: duplicate key (first given at line 2)"]


def test_every_duplicate_is_reported() -> None:
    assert len(_problems("a: 1\na: 2\nb: {c: 1, c: 2}\n")) == 2


def test_tab_indentation_is_reported_at_its_line() -> None:
    (problem,) = _problems("servers:\n  web:\n\timage: x\n")
    assert problem.startswith("s.yaml:3:1: ") and "tab character" in problem


def test_a_second_document_is_an_error() -> None:
    (problem,) = _problems("a: 1\n---\nb: 2\n")
    assert problem.startswith("s.yaml:2:1: ") and "second YAML document" in problem


@pytest.mark.parametrize("text", ["", "# only a comment\n", "---\n"])
def test_empty_file_is_an_error(text: str) -> None:
    (problem,) = _problems(text)
    assert "s.yaml:1:1: the file is empty" in problem


def test_unclosed_quote_points_at_the_opening_quote() -> None:
    (problem,) = _problems('a: 1\nb: "abc\nc: 3\n')
    assert problem.startswith("s.yaml:2:4: ") and "never closed" in problem


def test_syntax_error_is_reported_at_its_line() -> None:
    (problem,) = _problems("a:\n  b: 1\n c: 2\n")
    assert problem.startswith("s.yaml:3:") and "YAML syntax error" in problem


def test_aliases_are_followed() -> None:
    assert _load("a: &x {b: 1}\nc: *x\n").data == {"a": {"b": 1}, "c": {"b": 1}}


def test_render_path() -> None:
    assert render_path(("servers", "web", "security_groups", 0)) == "servers.web.security_groups[0]"


def test_missing_file_names_it(tmp_path: Path) -> None:
    with pytest.raises(StackplanError, match=r"'nope\.yaml' does not exist"):
        read_yaml_file(Path("nope.yaml"))


def test_non_utf8_file_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "bin.yaml"
    path.write_bytes(b"a: \xff\xfe\n")
    with pytest.raises(SpecError, match="not UTF-8"):
        read_yaml_file(path)
