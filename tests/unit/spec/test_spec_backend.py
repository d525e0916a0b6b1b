"""The spec's `backend:` and where a run keeps its state: --state, then STACKPLAN_BACKEND,
then the spec, then the file beside it; a password never belongs in the spec."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan.errors import SpecError, StackplanError
from stackplan.spec.source import SpecInput
from stackplan.state.pg_url import BackendUrl
from stackplan.workflow.context import RunOptions, state_location

BACKEND = "backend:\n  postgresql: {url: 'postgresql://ci@db:5432/infra', schema: team}\n"


def test_a_password_in_the_backend_url_is_refused(load) -> None:
    with pytest.raises(SpecError) as err:
        load("backend:\n  postgresql: {url: 'postgresql://ci:hunter2@db/infra'}\n")
    assert "with no password" in str(err.value) and "PGPASSWORD" in str(err.value)


def test_one_backend_at_a_time(load) -> None:
    with pytest.raises(SpecError) as err:
        load("backend:\n  postgresql: {url: 'postgresql://ci@db/infra'}\n  local: {path: s.json}\n")
    assert "name one backend" in str(err.value)


def test_the_backend_is_kept_with_the_spec(load) -> None:
    desired = load(BACKEND)
    assert desired.backend["postgresql"]["schema"] == "team"


def _where(env: dict[str, str], state: Path | None = None, backend=None):
    run = RunOptions(SpecInput(Path("dir/stackplan.yaml"), env=env), state_path=state)
    return state_location(run, "web", backend or {})


def test_where_the_state_is_kept() -> None:
    spec = {"postgresql": {"url": "postgresql://ci@db:5432/infra", "schema": "team"}}
    assert _where({}) == Path("dir/state/web.json")
    assert _where({}, backend={"local": {"path": "s/web.json"}}) == Path("dir/s/web.json")
    found = _where({}, backend=spec)
    assert isinstance(found, BackendUrl) and found.schema == "team"
    env = {"STACKPLAN_BACKEND": "postgresql://runner@ci-db/infra?schema=ci"}
    over = _where(env, backend=spec)
    assert isinstance(over, BackendUrl) and over.schema == "ci" and "ci-db" in over.safe
    assert _where(env, state=Path("mine.json"), backend=spec) == Path("mine.json")
    with pytest.raises(StackplanError, match="must be a postgresql:// URL"):
        _where({"STACKPLAN_BACKEND": "/tmp/state.json"})
