"""`stackplan validate --online` resolves names in the embedded cloud, over real HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import run_stackplan

VALID = Path(__file__).parents[2] / "data" / "specs" / "valid"
EXAMPLE = Path(__file__).parents[3] / "examples" / "web" / "stackplan.yaml"


def _validate(spec: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return run_stackplan(["validate", "-f", str(spec), *extra], env=env, inherit_env=False)


def test_online_validation_resolves_every_name(sim_env: dict[str, str]) -> None:
    done = _validate(EXAMPLE, {**sim_env, "PATH": "/usr/bin:/bin"}, "--online")
    assert done.returncode == 0, done.stderr
    assert "valid (names resolved in the cloud)" in done.stdout


def test_online_validation_reports_an_unknown_flavor(
    sim_env: dict[str, str], tmp_path: Path
) -> None:
    spec = tmp_path / "s.yaml"
    spec.write_text("servers:\n  a:\n    image: cirros-0.6.2-x86_64-disk\n    flavor: m1.tinny\n")
    done = _validate(spec, {**sim_env, "PATH": "/usr/bin:/bin"}, "--online")
    assert done.returncode == 1
    assert "m1.tinny" in done.stderr and "m1.tiny" in done.stderr  # did you mean
    assert "Traceback" not in done.stderr


def test_offline_validation_needs_no_cloud(tmp_path: Path) -> None:
    done = _validate(VALID / "web.yaml", {"PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr


def test_online_validation_without_a_cloud_says_what_is_needed() -> None:
    done = _validate(VALID / "web.yaml", {"PATH": "/usr/bin:/bin"}, "--online")
    assert done.returncode == 1
    assert "OS_AUTH_URL" in done.stderr and "stackplan sim env" in done.stderr
