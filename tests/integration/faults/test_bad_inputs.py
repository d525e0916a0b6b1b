"""Bad input never costs data: every case of `tests/data/bad_inputs/` through the CLI.

A case is a directory:

    cmd          the arguments after `stackplan`, one line, shell-quoted
    expect.txt   lines that must each appear in stderr (the one clear message)
    env          optional: `NAME=VALUE` sets a variable, `-NAME` unsets it, `-OS_*` unsets
                 every OS_* variable; `{url}` is the embedded cloud's base URL
    sim          optional: `KNOB=VALUE` lines (`quota_instances=1`): the case runs on a
                 private cloud with those knobs instead of the session's
    other files  copied over `_common/` (a good spec, a real state and plan file) into a
                 fresh work directory, the command's cwd; `{url}` in a clouds.yaml is
                 replaced too

Each run must exit 1 with the expected message, print no traceback, and leave every file
of the work directory byte-identical (sha256), creating none (a state, a backup, a lock).
The cases run on the session cloud, a few at a time; failures are reported together.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import env_for
from tests.helpers import run_stackplan

CASES = Path(__file__).resolve().parents[2] / "data" / "bad_inputs"
COMMON = CASES / "_common"
_SPECIAL = {"cmd", "expect.txt", "env", "sim"}


@dataclass(frozen=True)
class Case:
    name: str
    path: Path

    @property
    def args(self) -> list[str]:
        return shlex.split((self.path / "cmd").read_text(encoding="utf-8"))

    @property
    def sim_knobs(self) -> dict[str, float]:
        path = self.path / "sim"
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        knobs = dict(line.split("=", 1) for line in lines if line.strip())
        return {k.strip(): float(v) for k, v in knobs.items()}

    @property
    def expected(self) -> list[str]:
        lines = (self.path / "expect.txt").read_text(encoding="utf-8").splitlines()
        return [line for line in lines if line.strip()]


def all_cases() -> list[Case]:
    return [
        Case(p.name, p)
        for p in sorted(CASES.iterdir())
        if p.is_dir() and not p.name.startswith("_")
    ]


def _environment(case: Case, url: str, home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("OS_") and k != "XDG_CONFIG_HOME"
    }
    env.update(env_for(url), HOME=str(home))
    env_file = case.path / "env"
    for line in env_file.read_text(encoding="utf-8").splitlines() if env_file.exists() else ():
        line = line.strip()
        if line == "-OS_*":
            env = {k: v for k, v in env.items() if not k.startswith("OS_")}
        elif line.startswith("-"):
            env.pop(line[1:], None)
        elif line:
            name, _, value = line.partition("=")
            env[name] = value.replace("{url}", url)
    return env


def _prepare(case: Case, work: Path, url: str) -> None:
    shutil.copytree(COMMON, work)
    for source in case.path.iterdir():
        if source.name in _SPECIAL:
            continue
        target = work / source.name
        shutil.copy(source, target)
        if source.name == "clouds.yaml":
            target.write_text(
                target.read_text(encoding="utf-8").replace("{url}", url), encoding="utf-8"
            )


def _fingerprint(work: Path) -> dict[str, str]:
    return {
        str(p.relative_to(work)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(work.rglob("*"))
        if p.is_file()
    }


def run_case(case: Case, tmp: Path, url: str) -> list[str]:
    """The problems with one case (an empty list when it behaves)."""
    work, home = tmp / case.name / "work", tmp / case.name / "home"
    home.mkdir(parents=True)
    _prepare(case, work, url)
    before = _fingerprint(work)
    done = run_stackplan(
        case.args, cwd=work, env=_environment(case, url, home), inherit_env=False, timeout=90
    )
    problems = []
    if done.returncode != 1:
        problems.append(f"exit {done.returncode}, not 1")
    if "Traceback" in done.stdout + done.stderr:
        problems.append("a traceback was printed")
    if "internal error" in done.stderr:
        problems.append("reported as an internal error")
    if done.stderr.count("Error:") != 1:
        problems.append(f"{done.stderr.count('Error:')} 'Error:' lines, not one message")
    problems += [
        f"missing from stderr: {text!r}" for text in case.expected if text not in done.stderr
    ]
    after = _fingerprint(work)
    if after != before:
        changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
        problems.append(f"files changed or created: {changed}")
    if problems:
        problems.append(
            f"$ stackplan {shlex.join(case.args)}\n--- stdout\n{done.stdout[-1500:]}"
            f"--- stderr\n{done.stderr[-1500:]}"
        )
    return problems


def test_the_corpus_has_at_least_40_cases_each_complete():
    cases = all_cases()
    assert len(cases) >= 40
    for case in cases:
        assert (case.path / "cmd").is_file() and case.expected, case.name


@pytest.mark.timeout(300)
def test_every_bad_input_fails_with_one_clear_message_and_leaves_the_state_untouched(
    sim, make_sim, tmp_path
):
    cases = all_cases()
    # Knobs of a case's own cloud are ints (quotas) or seconds; SimOptions takes both.
    urls = {
        c.name: make_sim(**{k: int(v) if v.is_integer() else v for k, v in c.sim_knobs.items()}).url
        if c.sim_knobs
        else sim.url
        for c in cases
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda c: (c, run_case(c, tmp_path, urls[c.name])), cases))
    failures = [f"== {case.name}\n" + "\n".join(problems) for case, problems in results if problems]
    assert not failures, f"{len(failures)} of {len(cases)} cases misbehave:\n\n" + "\n\n".join(
        failures
    )
