"""The chaos run, short: five SIGKILLs of `stackplan apply`, nothing orphaned or doubled.

The full run is `python tests/chaos/chaos.py --kills 50` (a few minutes).
"""

from __future__ import annotations

from dataclasses import replace

import pytest
from chaos import ChaosOptions, run_chaos
from resize_chaos import run_resize_chaos


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_five_kills_leave_no_orphan_no_duplicate_and_a_readable_state(tmp_path):
    options = ChaosOptions(kills=5, servers=10, build_seconds=1.0, seed=5, max_seconds=180)
    report = run_chaos(options, tmp_path)
    log = (tmp_path / "runs.log").read_text(encoding="utf-8")
    assert report.kills == 5, report.problems
    assert (report.orphans, report.duplicates, report.missing, report.unreadable) == (0, 0, 0, 0), (
        "\n".join(report.problems)
    )
    assert report.failed_runs == 0, "\n".join(report.problems)
    assert "Traceback" not in log


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_resizes_killed_at_random_moments_all_end_active_on_the_specs_flavor(tmp_path):
    # Issue 10, point 10: a killed resize is finished (or reverted) by the next apply.
    options = ChaosOptions(kills=5, servers=10, build_seconds=1.0, seed=7, max_seconds=240)
    report = run_resize_chaos(options, tmp_path)
    assert report.kills == 5, report.problems
    assert (report.stuck, report.missing, report.failed_runs) == (0, 0, 0), "\n".join(
        report.problems
    )


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_ten_kills_with_the_state_on_postgres_lose_nothing(tmp_path):
    # Issue 13: a killed runner's lock is free at once, what it made is adopted, and every
    # kept version of the state stays readable.
    options = ChaosOptions(kills=10, servers=20, build_seconds=1.0, seed=13, max_seconds=240)
    report = run_chaos(replace(options, postgres=True), tmp_path)
    assert report.kills == 10, report.problems
    assert (report.orphans, report.duplicates, report.missing, report.unreadable) == (0, 0, 0, 0), (
        "\n".join(report.problems)
    )
    assert report.failed_runs == 0 and report.takeovers > 0, "\n".join(report.problems)
