"""stackplan against real OpenStack: the harness of ../shared/openstack (Keystone 30, Nova 34
with its fake virt driver in RegionOne; real Neutron 29 and Cinder 29 in RegionTwo).

Collected only with STACKPLAN_REAL=1 (what `make conformance` sets once the harness runs):
`make test` never needs the harness and never sees these tests.

- `real`        the harness's real APIs over plain `requests`, with tokens of its own (demo
                and admin), never through stackplan's client: a bug there cannot hide on
                both sides of a check.
- `make_stack`  a spec in a tmp dir and `stackplan ...` as a subprocess with the demo
                user's OS_* variables (a region, or clouds.yaml with OS_CLOUD).
- `run_id`      a suffix for names, so runs against one long-lived harness never collide.
- `own_project` a project of the test's own (demo is its member), for tests that count
                everything a project holds while other tests run beside them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests

from tests.real.harness import ADMIN, AUTH_URL, DEMO, REGION_ONE, ROOT, Api, Stack, demo_env

if os.environ.get("STACKPLAN_REAL") != "1":
    # Not `make conformance`: nothing here is collected (the conftest itself still loads).
    collect_ignore_glob = ["*"]


@pytest.fixture(scope="session")
def real() -> Api:
    """The demo user's API; fails (not skips) when the harness is not up: STACKPLAN_REAL=1
    says it should be."""
    try:
        return Api(*DEMO)
    except requests.RequestException as exc:
        pytest.fail(
            f"the harness's Keystone at {AUTH_URL} does not answer ({exc}); run it "
            "with `make conformance`, or start it with start-all.sh neutron cinder"
        )


@pytest.fixture(scope="session")
def admin() -> Api:
    return Api(*ADMIN)


@pytest.fixture(scope="session")
def run_id() -> str:
    return uuid.uuid4().hex[:6]


@pytest.fixture
def own_project(admin: Api, real: Api, run_id: str, request) -> Iterator[str]:
    """A new project in the Default domain with demo as its member; its name. At the end
    the group Neutron made for it on first use goes, then the project. Ask for it before
    `make_stack`, so that the stacks are destroyed before their project goes."""
    name = f"{request.node.name.split('[')[0][:40]}-{run_id}"
    base = AUTH_URL
    resp = admin.request(
        "POST", f"{base}/projects", json={"project": {"name": name, "domain_id": "default"}}
    )
    assert resp.status_code == 201, resp.text
    project_id = resp.json()["project"]["id"]
    (role,) = admin.get(f"{base}/roles", "roles", params={"name": "member"})
    resp = admin.request(
        "PUT", f"{base}/projects/{project_id}/users/{real.user_id}/roles/{role['id']}"
    )
    assert resp.status_code == 204, resp.text
    try:
        yield name
    finally:
        for group in admin.neutron_list("security-groups", project_id=project_id):
            admin.request("DELETE", f"{admin.neutron}/security-groups/{group['id']}")
        admin.request("DELETE", f"{base}/projects/{project_id}")


@pytest.fixture
def make_stack(tmp_path: Path) -> Iterator[Callable[..., Stack]]:
    """`make_stack(region, clouds_yaml=False)`: a Stack; whatever it still holds at the
    end of the test is destroyed (the test's own asserts check that destroy left nothing)."""
    made: list[Stack] = []

    def make(
        region: str = REGION_ONE, *, clouds_yaml: bool = False, name: str = "s", project: str = ""
    ) -> Stack:
        cwd = tmp_path / name
        cwd.mkdir()
        keys = cwd / "keys"
        keys.mkdir()
        (keys / "deploy.pub").write_text(
            (ROOT / "examples" / "web" / "keys" / "deploy.pub").read_text(encoding="utf-8")
        )
        stack = Stack(cwd, demo_env(region, clouds_yaml=clouds_yaml))
        if project:
            stack.env["OS_PROJECT_NAME"] = project
        made.append(stack)
        return stack

    yield make
    for stack in made:
        if stack.spec.exists() and stack.state.exists():
            stack.cli("destroy", "--auto-approve", rc=None)
