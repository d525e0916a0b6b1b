"""Cinder tests: a private simulator per test and a small client over real HTTP.

- `cloud`          a private simulator: builds take 0.2 s, Cinder's default quotas
                   (10 volumes, 1000 GiB), Nova's quotas off.
- `cinder`         a `Cinder` client (user demo) of `cloud`, microversion 3.0.
- `nova`           the sim tests' `Api` (user demo, compute 2.60) of `cloud`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from stackplan.sim.app import SimHandle
from tests.integration.sim.conftest import Api, v3_password

ADMIN_PROJECT = "a0000000000000000000000000000001"
DEMO_PROJECT = "d0000000000000000000000000000001"
CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"
UBUNTU = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e02"  # min_disk 10, 632 MiB
FEDORA_38_DEACTIVATED = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e05"
BUILD_SECONDS = 0.2


class Cinder:
    """requests against `/volume/v3/{project_id}` with a token of `user`; `version` is the
    `OpenStack-API-Version: volume X` microversion sent with every call (none: 3.0)."""

    def __init__(self, url: str, user: str = "demo", version: str | None = None):
        self.url = url
        self.http = requests.Session()
        resp = self.http.post(f"{url}/identity/v3/auth/tokens", json=v3_password(user, user))
        assert resp.status_code == 201, resp.text
        self.token = resp.headers["X-Subject-Token"]
        self.project_id = resp.json()["token"]["project"]["id"]
        self.http.headers["X-Auth-Token"] = self.token
        if version:
            self.http.headers["OpenStack-API-Version"] = f"volume {version}"

    def at(self, version: str) -> Cinder:
        """The same user at another microversion (a fresh token)."""
        return Cinder(self.url, self._user(), version)

    def _user(self) -> str:
        return "admin" if self.project_id == ADMIN_PROJECT else "demo"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/volume/v3/{self.project_id}{path}", **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.call("POST", path, json=body)

    def put(self, path: str, body: Any) -> requests.Response:
        return self.call("PUT", path, json=body)

    def delete(self, path: str) -> requests.Response:
        return self.call("DELETE", path)

    def action(self, volume_id: str, body: Any) -> requests.Response:
        return self.post(f"/volumes/{volume_id}/action", body)

    def create(self, size: int = 1, **fields: Any) -> dict[str, Any]:
        """POST /volumes (202 asserted); the volume as the create answers it."""
        body = {"size": size, "name": fields.pop("name", f"v-{uuid.uuid4().hex[:8]}"), **fields}
        resp = self.post("/volumes", {"volume": body})
        assert resp.status_code == 202, resp.text
        return resp.json()["volume"]

    def volume(self, volume_id: str) -> dict[str, Any]:
        resp = self.get(f"/volumes/{volume_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()["volume"]

    def wait(self, volume_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            volume = self.volume(volume_id)
            if volume["status"] == status or time.monotonic() > deadline:
                assert volume["status"] == status, volume
                return volume
            time.sleep(0.05)

    def made(self, size: int = 1, **fields: Any) -> dict[str, Any]:
        """A new volume once it is `available`."""
        return self.wait(self.create(size, **fields)["id"], "available")


def fault(resp: requests.Response, status: int, name: str | None = None) -> str:
    """Assert `status` and Cinder's `{"<name>": {"code", "message"}}`; the message."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    ((key, inner),) = resp.json().items()
    if name is not None:
        assert key == name, resp.text
    assert inner["code"] == status, resp.text
    return inner["message"]


def nova_fault(resp: requests.Response, status: int) -> str:
    """Assert `status` and Nova's error body; its message."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    ((_, inner),) = resp.json().items()
    assert inner["code"] == status, resp.text
    return inner["message"]


@pytest.fixture
def cloud(make_sim: Callable[..., SimHandle]) -> SimHandle:
    # the session fixtures turn Cinder's quotas off; these tests want its defaults
    return make_sim(build_seconds=BUILD_SECONDS, quota_volumes=10, quota_gigabytes=1000)


@pytest.fixture
def cinder(cloud: SimHandle) -> Cinder:
    return Cinder(cloud.url)


@pytest.fixture
def nova(cloud: SimHandle) -> Api:
    return Api(cloud.url, version="2.60")
