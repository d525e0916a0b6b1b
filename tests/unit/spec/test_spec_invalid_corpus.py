"""Every malformed spec in tests/data/specs/invalid/ through the real CLI.

Each `<case>.yaml` has a `<case>.err` beside it:

    # a comment
    args: --var web_cnt=3                 (optional: more arguments for `stackplan validate`)
    LINE:COL: text                        (a problem in <case>.yaml at LINE:COL whose
    FILE:LINE:COL: text                    message holds `text`; or in FILE, relative to
                                           the case's folder)

The expected problems are listed in the order the CLI prints them (by file, line,
column), and the CLI must print exactly that many: no fewer, no extras.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.helpers import run_stackplan

CASES = Path(__file__).resolve().parents[2] / "data" / "specs" / "invalid"
_EXPECTED = re.compile(r"^(?:(?P<file>[^:\s]+):)?(?P<line>\d+):(?P<col>\d+): (?P<text>.+)$")
_PRINTED = re.compile(r"^(?:Error: )?(?P<file>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<text>.+)$")


@dataclass(frozen=True)
class Expected:
    file: str
    line: int
    column: int
    text: str


def _read_err(case: Path) -> tuple[list[str], list[Expected]]:
    args: list[str] = []
    expected = []
    for raw in case.with_suffix(".err").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("args:"):
            args += shlex.split(line.removeprefix("args:"))
            continue
        match = _EXPECTED.match(line)
        assert match, f"{case.name}.err: cannot read {line!r}"
        file = match["file"] or case.name
        expected.append(Expected(file, int(match["line"]), int(match["col"]), match["text"]))
    return args, expected


def _cases() -> list[Path]:
    return sorted(CASES.glob("*.yaml"))


def test_the_corpus_is_big_enough() -> None:
    assert len(_cases()) >= 25
    for case in _cases():
        assert case.with_suffix(".err").exists(), f"{case.name} has no .err file"


@pytest.mark.parametrize("case", _cases(), ids=lambda p: p.stem)
def test_invalid_spec_is_reported_at_its_line(case: Path) -> None:
    args, expected = _read_err(case)
    # No STACKPLAN_VAR_* from the developer's shell: the environment is PATH alone.
    result = run_stackplan(
        ["validate", "-f", case.name, *args], cwd=CASES, env={"PATH": "/usr/bin:/bin"},
        inherit_env=False, timeout=60,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 1, output
    assert "Traceback" not in output
    printed = [m for m in map(_PRINTED.match, result.stderr.splitlines()) if m]
    assert len(printed) == len(expected), output
    for want, got in zip(expected, printed, strict=True):
        assert (got["file"], int(got["line"]), int(got["col"])) == (
            want.file,
            want.line,
            want.column,
        ), output
        assert want.text in got["text"], output
