"""Concurrency shrinks while the cloud pushes back (429/503) and grows again when it stops.

The executor's width rule on a fake clock and a fake pressure source, then the real
thing: an apply against a rate-limited cloud, where the HTTP layer's Backpressure feeds
the executor and the narrowing shows as a notice.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan import workflow
from stackplan.apply import executor as executor_module
from stackplan.apply.events import Notice
from stackplan.apply.executor import CALM_SECONDS, ApplyOptions, Executor
from stackplan.spec.source import SpecInput
from tests.conftest import env_for
from tests.integration.faults.faultkit import cloud_servers, recorded_ids, servers_spec


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _executor(monkeypatch, pushes: list[int], parallelism: int = 8):
    clock = _Clock()
    monkeypatch.setattr(executor_module.time, "monotonic", clock)
    notices: list[str] = []

    def emit(event) -> None:
        if isinstance(event, Notice):
            notices.append(event.message)

    def pressure() -> int:
        return pushes.pop(0) if pushes else 0

    run = Executor(
        None, None, {}, None, emit, ApplyOptions(parallelism=parallelism), pressure=pressure
    )
    return run, clock, notices


def test_width_halves_on_each_pushback_and_floors_at_one(monkeypatch):
    run, _clock, notices = _executor(monkeypatch, [1, 3, 1, 1, 1])
    widths = []
    for _ in range(5):
        run._adapt_width()
        widths.append(run.width)
    assert widths == [4, 2, 1, 1, 1]
    assert notices == [
        "The cloud is pushing back (429/503): at most 4 operations at once for now.",
        "The cloud is pushing back (429/503): at most 2 operations at once for now.",
        "The cloud is pushing back (429/503): at most 1 operations at once for now.",
    ]


def test_width_grows_back_one_step_per_calm_interval_to_the_parallelism(monkeypatch):
    run, clock, notices = _executor(monkeypatch, [1, 1, 1])
    for _ in range(3):
        run._adapt_width()
    assert run.width == 1
    clock.now += CALM_SECONDS / 2
    run._adapt_width()
    assert run.width == 1  # not calm long enough yet
    widths = []
    for _ in range(9):
        clock.now += CALM_SECONDS + 0.1
        run._adapt_width()
        widths.append(run.width)
    assert widths == [2, 3, 4, 5, 6, 7, 8, 8, 8]  # one step per calm interval, never above 8
    assert notices[-1] == "The cloud is calm again: back to 8 operations at once."


def test_pushback_during_growth_halves_again(monkeypatch):
    run, clock, _ = _executor(monkeypatch, [1, 1, 1])
    for _ in range(3):
        run._adapt_width()
    for _ in range(4):
        clock.now += CALM_SECONDS + 0.1
        run._adapt_width()
    assert run.width == 5
    run.pressure = lambda: 2
    run._adapt_width()
    assert run.width == 2
    clock.now += CALM_SECONDS / 2
    run.pressure = lambda: 0
    run._adapt_width()
    assert run.width == 2  # the calm interval starts again at the last push-back


@pytest.mark.slow
@pytest.mark.timeout(120)
def test_a_rate_limited_cloud_narrows_the_apply_and_it_still_completes(make_sim, tmp_path: Path):
    sim = make_sim(rate_limit=4, build_seconds=0.5)
    env = env_for(sim.url)
    spec = servers_spec(tmp_path, 12)
    state = tmp_path / "faults.json"
    events = []
    run = workflow.RunOptions(
        SpecInput(spec, env=env), workflow.CloudInput(env=env), state_path=state, command="apply"
    )
    outcome = workflow.apply(
        run,
        workflow.PlanOptions(),
        workflow.ApplyOptions(parallelism=8, poll_interval=0.5),
        events.append,
        lambda plan: True,
    )
    assert outcome.result is not None and outcome.result.ok, outcome.result
    narrowed = [e.message for e in events if isinstance(e, Notice) and "pushing back" in e.message]
    assert narrowed, [e for e in events if isinstance(e, Notice)]
    assert len(cloud_servers(env)) == 12
    assert len(recorded_ids(state)) == 12
