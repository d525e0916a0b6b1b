"""The compiled schema check of big specs never passes what the full one refuses, and the
libyaml parser reads a spec exactly as the pure-Python one does (values and positions)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from stackplan.errors import SpecError
from stackplan.kinds.registry import KINDS
from stackplan.spec import load as load_module
from stackplan.spec.load import load_yaml, read_yaml_file
from stackplan.spec.validate import BIG_SPEC, schema_problems

DATA = Path(__file__).resolve().parents[2] / "data"
EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
SPECS = sorted(
    [*(DATA / "specs").rglob("*.yaml"), *EXAMPLES.rglob("stackplan.yaml")],
    key=str,
)


def _kinds():
    from stackplan.spec.fast_schema import fast_check

    kinds = tuple(KINDS.values())
    return kinds, fast_check(kinds)


@pytest.mark.parametrize(
    "path", SPECS, ids=lambda p: p.name if p.parent.name != "invalid" else p.stem
)
def test_the_compiled_check_agrees_with_the_full_one(path: Path) -> None:
    try:
        doc, _ = read_yaml_file(path)
    except SpecError:
        return  # not YAML at all: no schema is asked
    kinds, fast = _kinds()
    full = schema_problems(doc, kinds)  # small: jsonschema's own answer
    assert fast(doc.data) == (not full), (path, full)


def test_a_big_spec_with_a_mistake_is_still_reported_at_its_line(tmp_path: Path) -> None:
    entries = [f"  s{i}:\n    image: cirros\n    flavor: m1.tiny\n" for i in range(BIG_SPEC + 10)]
    entries[BIG_SPEC // 2] = "  bad:\n    image: cirros\n    flavour: m1.tiny\n"
    text = "servers:\n" + "".join(entries)
    doc = load_yaml(text, "big.yaml")
    problems = schema_problems(doc, tuple(KINDS.values()))
    line = 2 + 3 * (BIG_SPEC // 2) + 2
    assert [(p.line, p.path, p.message) for p in problems] == [
        (line - 2, "servers.bad", "missing required key 'flavor'"),
        (line, "servers.bad.flavour", "unknown key (did you mean 'flavor'?)"),
    ]


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_libyaml_reads_a_spec_as_the_python_parser_does(path: Path, monkeypatch) -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("PyYAML without libyaml")
    text = path.read_text(encoding="utf-8")

    def loaded():
        try:
            doc = load_yaml(text, "spec.yaml")
        except SpecError as exc:
            return str(exc)
        return doc.data, dict(doc.values), dict(doc.keys)

    fast = loaded()
    monkeypatch.setattr(load_module, "_FAST_LOADER", None)
    assert loaded() == fast
