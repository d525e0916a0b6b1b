"""Neutron tests: a private simulator per test and a small client over real HTTP.

- `cloud`          a private simulator (Neutron's default quotas).
- `demo`, `admin`  `Neutron` clients (member of demo / admin of admin) of `cloud`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
import requests

from stackplan.sim.app import SimHandle, SimOptions

ADMIN_PROJECT = "a0000000000000000000000000000001"
DEMO_PROJECT = "d0000000000000000000000000000001"
DEVSTACK_PRIVATE_CIDR = SimOptions().private_cidr  # 10.0.0.0/26, as `sim serve` seeds it


def _password(user: str) -> dict[str, Any]:
    who = {"name": user, "domain": {"name": "Default"}, "password": "secret"}
    scope = {"project": {"name": user, "domain": {"id": "default"}}}
    return {
        "auth": {"identity": {"methods": ["password"], "password": {"user": who}}, "scope": scope}
    }


class Neutron:
    """requests against `/networking/v2.0` with a token of `user` (scoped to its project)."""

    def __init__(self, url: str, user: str = "demo"):
        self.url = url
        self.http = requests.Session()
        resp = self.http.post(f"{url}/identity/v3/auth/tokens", json=_password(user))
        assert resp.status_code == 201, resp.text
        self.project_id = resp.json()["token"]["project"]["id"]
        self.http.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.http.request(method, f"{self.url}/networking/v2.0{path}", **kwargs)

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.call("GET", path, params=params or None)

    def post(self, path: str, body: Any) -> requests.Response:
        return self.call("POST", path, json=body)

    def put(self, path: str, body: Any = None) -> requests.Response:
        return self.call("PUT", path, json=body)

    def delete(self, path: str) -> requests.Response:
        return self.call("DELETE", path)

    def create(self, kind: str, **body: Any) -> dict[str, Any]:
        """POST /<kind>s {<kind>: body}; the created resource (201 asserted)."""
        collection = "security-groups" if kind == "security_group" else f"{kind}s"
        if kind == "security_group_rule":
            collection = "security-group-rules"
        resp = self.post(f"/{collection}", {kind: body})
        assert resp.status_code == 201, resp.text
        return resp.json()[kind]

    def show(self, collection: str, resource_id: str) -> dict[str, Any]:
        resp = self.get(f"/{collection}/{resource_id}")
        assert resp.status_code == 200, resp.text
        (body,) = resp.json().values()
        return body

    def listing(self, collection: str, **params: Any) -> list[dict[str, Any]]:
        resp = self.get(f"/{collection}", **params)
        assert resp.status_code == 200, resp.text
        return resp.json()[collection.replace("-", "_")]

    def network_with_subnet(self, cidr: str = "10.9.0.0/24", **subnet: Any) -> tuple[dict, dict]:
        net = self.create("network", name=uniq("net"))
        sub = self.create(
            "subnet", network_id=net["id"], ip_version=4, cidr=cidr, name=uniq("sub"), **subnet
        )
        return net, sub


def uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def error(resp: requests.Response, status: int) -> tuple[str, str]:
    """Assert `status` and Neutron's error body; (type, message)."""
    assert resp.status_code == status, f"{resp.status_code} {resp.text}"
    body = resp.json()["NeutronError"]
    assert set(body) == {"type", "message", "detail"} and body["detail"] == ""
    return body["type"], body["message"]


@pytest.fixture
def cloud(make_sim: Callable[..., SimHandle]) -> SimHandle:
    # devstack's whole seed: `shared` too, and private-subnet its /26 (not the suite's
    # wider default)
    return make_sim(build_seconds=0.1, shared_network=True, private_cidr=DEVSTACK_PRIVATE_CIDR)


@pytest.fixture
def demo(cloud: SimHandle) -> Neutron:
    return Neutron(cloud.url, "demo")


@pytest.fixture
def admin(cloud: SimHandle) -> Neutron:
    return Neutron(cloud.url, "admin")


@pytest.fixture
def public(demo: Neutron) -> dict[str, Any]:
    (net,) = demo.listing("networks", name="public")
    return net
