"""Helpers for the cloud integration tests: connect to a simulator, read its counters.

The simulators themselves come from tests/conftest.py (`sim`, `sim_env`, `make_sim`).
`/_sim/stats` is read with urllib so that these tests do not lean on our own HTTP layer.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable
from typing import Any

import pytest

from stackplan.cloud import Cloud, ConnectOptions, connect, load_config


class Stats:
    """The simulator's request counters, read over plain urllib; deltas via `since`."""

    def __init__(self, url: str):
        self.url = f"{url}/_sim/stats"

    def read(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url, timeout=10) as response:
            return json.load(response)

    def reset(self) -> None:
        request = urllib.request.Request(self.url, method="DELETE")
        urllib.request.urlopen(request, timeout=10).close()

    def route(self, key: str) -> int:
        return self.read()["routes"].get(key, 0)

    def status(self, status: int) -> int:
        return self.read()["statuses"].get(str(status), 0)

    def token_posts(self) -> int:
        routes = self.read()["routes"]
        return routes.get("POST /identity/v3/auth/tokens", 0) + routes.get(
            "POST /identity/v2.0/tokens", 0
        )


@pytest.fixture
def stats_of() -> Callable[[str], Stats]:
    return Stats


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
