"""Helpers for the cloud integration tests: connect to a simulator, read its counters.

The simulators themselves come from tests/conftest.py (`sim`, `sim_env`, `make_sim`).
`/_sim/stats` is read with urllib (tests/helpers.py) so that these tests do not lean on our
own HTTP layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from stackplan.cloud import Cloud, ConnectOptions, connect, load_config
from tests.helpers import SimStats


@pytest.fixture
def stats_of() -> Callable[[str], SimStats]:
    return SimStats


@pytest.fixture
def cloud_for() -> Any:
    """Factory: `cloud_for(env, **ConnectOptions)` connects with OS_* variables only."""
    clouds: list[Cloud] = []

    def factory(env: dict[str, str], **options: Any) -> Cloud:
        cloud = connect(load_config(env=env, search_dirs=[]), ConnectOptions(**options))
        clouds.append(cloud)
        return cloud

    yield factory
    for cloud in clouds:
        cloud.close()
