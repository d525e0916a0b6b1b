"""Helpers for the simulator's own tests: an authenticated client over real HTTP."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from stackplan.sim.app import SimHandle

CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"
UBUNTU_OLD = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e02"
FEDORA_38_DEACTIVATED = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e05"


def v3_password(
    user: str = "demo", project: str | None = "demo", password: str = "secret"
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"name": "Default"}, "password": password}
                },
            }
        }
    }
    if project is not None:
        body["auth"]["scope"] = {"project": {"name": project, "domain": {"id": "default"}}}
    return body


class Api:
    """requests against one simulator with a demo token; `version` is the microversion."""

    def __init__(self, url: str, user: str = "demo", version: str | None = None):
        self.url = url
        self.http = requests.Session()
        resp = self.http.post(f"{url}/identity/v3/auth/tokens", json=v3_password(user, user))
        assert resp.status_code == 201, resp.text
        self.token = resp.headers["X-Subject-Token"]
        self.project_id = resp.json()["token"]["project"]["id"]
        self.http.headers["X-Auth-Token"] = self.token
        if version:
            self.http.headers["OpenStack-API-Version"] = f"compute {version}"

    def compute(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/compute/v2.1{path}", **kwargs)

    def network(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        """A Neutron request (`/networking/v2.0{path}`) with the same token."""
        return self.http.request(method, f"{self.url}/networking/v2.0{path}", **kwargs)

    def neutron_list(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        resp = self.network("GET", f"/{collection}", params=params)
        assert resp.status_code == 200, resp.text
        return resp.json()[collection.replace("-", "_")]

    def neutron_create(self, kind: str, **body: Any) -> dict[str, Any]:
        """POST a Neutron resource (`network`, `subnet`, `port`, `security_group`...)."""
        collection = {"security_group": "security-groups", "floatingip": "floatingips"}.get(
            kind, f"{kind}s"
        )
        resp = self.network("POST", f"/{collection}", json={kind: body})
        assert resp.status_code == 201, resp.text
        return resp.json()[kind]

    def network_id(self, name: str) -> str:
        (net,) = self.neutron_list("networks", name=name)
        return net["id"]

    def ports_of(self, server_id: str) -> list[dict[str, Any]]:
        return self.neutron_list("ports", device_id=server_id)

    def create_server(self, name: str | None = None, **fields: Any) -> str:
        body = {
            "name": name or f"t-{uuid.uuid4().hex[:8]}",
            "imageRef": CIRROS,
            "flavorRef": "1",
            "networks": "auto",
            **fields,
        }
        resp = self.compute("POST", "/servers", json={"server": body})
        assert resp.status_code == 202, resp.text
        return resp.json()["server"]["id"]

    def server(self, server_id: str) -> dict[str, Any]:
        resp = self.compute("GET", f"/servers/{server_id}")
        assert resp.status_code == 200, resp.text
        return resp.json()["server"]

    def wait(self, server_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            server = self.server(server_id)
            if server["status"] == status or time.monotonic() > deadline:
                assert server["status"] == status, server
                return server
            time.sleep(0.05)

    def action(self, server_id: str, body: dict[str, Any]) -> requests.Response:
        return self.compute("POST", f"/servers/{server_id}/action", json=body)


@pytest.fixture
def api(sim: SimHandle) -> Api:
    """A demo-token client of the session simulator at microversion 2.60."""
    return Api(sim.url, version="2.60")


@pytest.fixture
def fast_api(make_sim: Callable[..., SimHandle]) -> Api:
    """A client of a private simulator whose builds and actions take 0.1 s."""
    return Api(make_sim(build_seconds=0.1).url, version="2.60")
