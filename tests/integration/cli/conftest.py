"""The `stackplan` command as a user runs it: a subprocess against the embedded cloud.

- `make_stack(**knobs)`  a private simulator (`make_sim` knobs; build 0.3 s by default)
                         and a `Stack` on it: `.cli` runs `python -m stackplan` in a
                         tmp dir holding the spec, `.cloud` reads the cloud's real state
                         over plain HTTP, `.openstack(...)` runs the official client.
- `stack`                `make_stack()` with the defaults.

The cloud is read with `requests` and a token of its own, not with stackplan's client,
so that a bug in the client cannot hide itself on both sides of a check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from stackplan.sim.app import SimHandle
from tests.conftest import env_for
from tests.helpers import CIRROS, SimStats, stackplan_command

ROOT = Path(__file__).resolve().parents[3]
DEPLOY_KEY = ROOT / "examples" / "web" / "keys" / "deploy.pub"
OPENSTACK = shutil.which("openstack", path=str(Path(sys.executable).parent)) or "openstack"

FEDORA = "Fedora 39"
FEDORA_ID = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e04"
FLAVOR_IDS = {"m1.tiny": "1", "m1.small": "2", "m1.medium": "3"}

# Commands that take `--state`: the helper adds it so every file stays in tmp_path.
_STATEFUL = {"plan", "apply", "destroy", "refresh", "show", "output", "import", "drift"}


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"$ stackplan {' '.join(self.args)}  -> exit {self.returncode}\n"
            f"--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


@dataclass
class Cli:
    """`stackplan ...` in `cwd` with the simulator's OS_* environment."""

    cwd: Path
    env: dict[str, str]
    state: Path

    def __call__(
        self, *args: str, rc: int | None = 0, stdin: str | None = "", timeout: float = 120
    ) -> Result:
        """Run and assert the exit code (`rc=None`: any); stdin is not a terminal."""
        done = subprocess.run(
            stackplan_command(*self._with_state(args)),
            cwd=self.cwd,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        result = Result(tuple(args), done.returncode, done.stdout, done.stderr)
        if rc is not None:
            assert done.returncode == rc, str(result)
        return result

    def popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            stackplan_command(*self._with_state(args)),
            cwd=self.cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )

    def _with_state(self, args: tuple[str, ...]) -> list[str]:
        command = next((a for a in args if not a.startswith("-")), "")  # after --debug
        stateful = command in _STATEFUL or command == "state"
        if stateful and "--state" not in args:
            return [*args, "--state", str(self.state)]
        return list(args)


class CloudView:
    """The cloud's real state, read over HTTP with a demo token of its own."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        body = {
            "auth": {
                "identity": {
                    "methods": ["password"],
                    "password": {
                        "user": {
                            "name": "demo",
                            "domain": {"name": "Default"},
                            "password": "secret",
                        }
                    },
                },
                "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
            }
        }
        resp = self.http.post(f"{url}/identity/v3/auth/tokens", json=body, timeout=10)
        resp.raise_for_status()
        self.http.headers["X-Auth-Token"] = resp.headers["X-Subject-Token"]
        self.project_id = resp.json()["token"]["project"]["id"]

    def _get(self, path: str) -> Any:
        resp = self.http.get(f"{self.url}/compute/v2.1{path}", timeout=10)
        resp.raise_for_status()
        return resp.json()

    def servers(self) -> list[dict[str, Any]]:
        """Every server of the project (not deleted), sorted by name."""
        return sorted(self._get("/servers/detail")["servers"], key=lambda s: s["name"])

    def by_name(self) -> dict[str, dict[str, Any]]:
        servers = self.servers()
        names = [s["name"] for s in servers]
        assert len(names) == len(set(names)), f"duplicate server names: {names}"
        return {s["name"]: s for s in servers}

    def server(self, server_id: str) -> dict[str, Any]:
        return self._get(f"/servers/{server_id}")["server"]

    def server_groups(self) -> dict[str, dict[str, Any]]:
        """Every server group of the project, by ID (the 2.64 shape: one `policy`)."""
        resp = self.http.get(
            f"{self.url}/compute/v2.1/os-server-groups",
            headers={"OpenStack-API-Version": "compute 2.64"},
            timeout=10,
        )
        resp.raise_for_status()
        return {g["id"]: g for g in resp.json()["server_groups"]}

    def action(self, server_id: str, body: dict[str, Any]) -> None:
        """A server action straight through Nova's API (`removeSecurityGroup`, ...)."""
        resp = self.http.post(
            f"{self.url}/compute/v2.1/servers/{server_id}/action", json=body, timeout=10
        )
        assert resp.status_code in (200, 202), resp.text

    def neutron(self, collection: str, **filters: str) -> list[dict[str, Any]]:
        """A Neutron listing (`networks`, `security-groups`, ...) with its filters."""
        resp = self.http.get(f"{self.url}/networking/v2.0/{collection}", params=filters, timeout=10)
        resp.raise_for_status()
        return resp.json()[collection.replace("-", "_")]

    def neutron_one(self, collection: str, resource_id: str) -> dict[str, Any]:
        resp = self.http.get(f"{self.url}/networking/v2.0/{collection}/{resource_id}", timeout=10)
        resp.raise_for_status()
        (value,) = resp.json().values()
        return value

    def volumes(self) -> list[dict[str, Any]]:
        """Every volume of the project (Cinder's detail listing), sorted by name."""
        resp = self.http.get(f"{self._cinder()}/volumes/detail", timeout=10)
        resp.raise_for_status()
        return sorted(resp.json()["volumes"], key=lambda v: (v["name"] or "", v["id"]))

    def volume(self, volume_id: str) -> dict[str, Any]:
        resp = self.http.get(f"{self._cinder()}/volumes/{volume_id}", timeout=10)
        resp.raise_for_status()
        return resp.json()["volume"]

    def server_tags(self, server_id: str) -> list[str]:
        resp = self.http.get(
            f"{self.url}/compute/v2.1/servers/{server_id}/tags",
            headers={"OpenStack-API-Version": "compute 2.26"},
            timeout=10,
        )
        resp.raise_for_status()
        return sorted(resp.json()["tags"])

    def attachments(self, server_id: str) -> list[str]:
        """The IDs of the volumes Nova lists as attached to the server."""
        found = self._get(f"/servers/{server_id}/os-volume_attachments")["volumeAttachments"]
        return sorted(a["volumeId"] for a in found)

    def _cinder(self) -> str:
        return f"{self.url}/volume/v3/{self.project_id}"

    def keypairs(self) -> list[str]:
        return sorted(k["keypair"]["name"] for k in self._get("/os-keypairs")["keypairs"])

    def reset_stats(self) -> None:
        SimStats(self.url).reset()

    def stats(self) -> dict[str, Any]:
        return SimStats(self.url).read()


@dataclass
class Stack:
    """One tmp dir with a spec, its state, a private cloud and views of it."""

    sim: SimHandle
    dir: Path
    cli: Cli
    cloud: CloudView
    os_env: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> Path:
        return self.cli.state

    def write_spec(self, text: str, name: str = "stackplan.yaml") -> Path:
        path = self.dir / name
        path.write_text(text, encoding="utf-8")
        return path

    def openstack(self, *args: str) -> str:
        """The official client, unchanged, with the environment `stackplan sim env` prints."""
        done = subprocess.run(
            [OPENSTACK, *args], env=self.os_env, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"openstack {' '.join(args)}: {done.stderr}"
        return done.stdout

    def wait_for(self, server_id: str, status: str, timeout: float = 10) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            server = self.cloud.server(server_id)
            if server["status"] == status or time.monotonic() > deadline:
                assert server["status"] == status, server
                return server
            time.sleep(0.05)


@pytest.fixture
def make_stack(tmp_path: Path, make_sim: Callable[..., SimHandle]) -> Callable[..., Stack]:
    count = 0

    def factory(**knobs: Any) -> Stack:
        nonlocal count
        count += 1
        handle = make_sim(**{"build_seconds": 0.3, **knobs})
        work = tmp_path / f"stack{count}"
        (work / "keys").mkdir(parents=True)
        shutil.copy(DEPLOY_KEY, work / "keys" / "deploy.pub")
        os_env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        os_env.update(env_for(handle.url))
        cli = Cli(work, {**os_env, "NO_COLOR": "1"}, work / "state.json")
        return Stack(handle, work, cli, CloudView(handle.url), os_env)

    return factory


@pytest.fixture
def stack(make_stack: Callable[..., Stack]) -> Stack:
    return make_stack()


def server_spec(
    *,
    stack: str = "web",
    count: int = 3,
    flavor: str = "m1.tiny",
    image: str = CIRROS,
    name: str | None = None,
    extra: str = "",
    web_extra: str = "",
    outputs: bool = True,
) -> str:
    """A web tier of `count` servers with one keypair, plus `extra` YAML under servers."""
    name_line = f"\n    name: {name}" if name else ""
    text = f"""\
stack: {stack}
keypairs:
  deploy:
    public_key_file: keys/deploy.pub
servers:
  web:
    count: {count}{name_line}
    image: {image}
    flavor: {flavor}
    key_pair: deploy
    metadata: {{role: web}}
{web_extra}{extra}"""
    if outputs:
        text += "outputs:\n  web_ids: ${server.web[*].id}\n"
    return text
