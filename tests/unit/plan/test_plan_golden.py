"""Golden plans: each tests/data/plans/<case>/ holds inputs and the expected renders.

Regenerate the expected files with `UPDATE_GOLDEN=1 pytest tests/unit/plan`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from plan_inputs import CASES, desired_from, observed_from, options_from, read_json, state_from

from stackplan.errors import PlanError
from stackplan.plan.diff import diff
from stackplan.plan.render import render_json, render_markdown, render_text
from stackplan.schemas import load_schema

UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
CASE_DIRS = sorted(p for p in CASES.iterdir() if (p / "desired.json").exists())


def _plan_or_error(case: Path):
    desired = desired_from(read_json(case / "desired.json"))
    state = state_from(read_json(case / "state.json"))
    observed = observed_from(read_json(case / "observed.json"))
    options = options_from(read_json(case / "options.json") or {})
    try:
        return diff(desired, state, observed, options), None
    except PlanError as exc:
        return None, exc.render() + "\n"


def _check(path: Path, actual: str) -> None:
    if UPDATE:
        path.write_text(actual, encoding="utf-8")
        return
    assert path.exists(), f"{path} is missing: run with UPDATE_GOLDEN=1 to create it"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_plan(case: Path) -> None:
    plan, error = _plan_or_error(case)
    if (case / "error.txt").exists() or (UPDATE and error is not None):
        assert error is not None, "the case expects an error, the diff made a plan"
        _check(case / "error.txt", error)
        return
    assert error is None, error
    _check(case / "plan.txt", render_text(plan, color=False))
    _check(case / "plan.md", render_markdown(plan))
    _check(case / "plan.json", render_json(plan))


@pytest.mark.parametrize("case", CASE_DIRS, ids=[p.name for p in CASE_DIRS])
def test_golden_json_plan_matches_schema(case: Path) -> None:
    plan, error = _plan_or_error(case)
    if error is not None:
        pytest.skip("an error case")
    validator = Draft202012Validator(load_schema("plan"))
    errors = sorted(validator.iter_errors(json.loads(render_json(plan))), key=str)
    assert not errors, "\n".join(e.message for e in errors)


def test_golden_cases_never_show_user_data_text() -> None:
    for case in CASE_DIRS:
        for name in ("plan.txt", "plan.md", "plan.json"):
            if (case / name).exists():
                assert "packages: [nginx]" not in (case / name).read_text(encoding="utf-8")
