"""What the real-OpenStack tests share: the harness's addresses and users, its APIs over
plain `requests` (`Api`), and the stackplan CLI as a subprocess (`Stack`)."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[2]

HARNESS_HOME = Path(os.environ.get("HARNESS_HOME") or ROOT / ".openstack")
HOST = os.environ.get("HARNESS_HOST", "127.0.0.1")
AUTH_URL = f"http://{HOST}:{os.environ.get('KEYSTONE_PORT', '5000')}/v3"
DEMO = ("demo", os.environ.get("DEMO_PASSWORD", "demo-secret"), "demo")
ADMIN = ("admin", os.environ.get("ADMIN_PASSWORD", "admin-secret"), "admin")
REGION_ONE = os.environ.get("REGION", "RegionOne")
REGION_TWO = os.environ.get("REGION2", "RegionTwo")
CLOUDS_YAML = HARNESS_HOME / "run" / "clouds.yaml"
# The harness's fixture image (nova's GlanceFixture) and its network.
IMAGE = "fakeimage123456"
IMAGE_ID = "155d900f-4e14-4e4c-a73d-069cbf4541e6"
OPENSTACK = HARNESS_HOME / ".venv-clients" / "bin" / "openstack"
TIMED_OUT = -999  # Result.returncode of a command killed at its timeout
FLAKE_GRACE = 10.0  # seconds a command may go on after the harness's placement lost a write
PLACEMENT_LOG = HARNESS_HOME / "logs" / "placement-api.log"
_STATEFUL = {"plan", "apply", "destroy", "refresh", "show", "output", "import", "drift"}


class HarnessFlake(UserWarning):
    """A command run again because of the harness's own failure (see Stack.cli)."""


def placement_locks() -> int:
    """How many times Placement's SQLite said "database is locked" so far."""
    try:
        return PLACEMENT_LOG.read_text(errors="replace").count("database is locked")
    except FileNotFoundError:
        return 0


def password_auth(user: str, password: str, project: str) -> dict[str, Any]:
    return {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": user, "domain": {"name": "Default"}, "password": password}
                },
            },
            "scope": {"project": {"name": project, "domain": {"name": "Default"}}},
        }
    }


class Api:
    """One user's view of the harness over plain HTTP: a token, the catalog, requests."""

    def __init__(self, user: str, password: str, project: str, auth_url: str = AUTH_URL):
        self.auth_url = auth_url
        self.http = requests.Session()
        resp = self.http.post(
            f"{auth_url}/auth/tokens", json=password_auth(user, password, project), timeout=30
        )
        resp.raise_for_status()
        self.token = resp.headers["X-Subject-Token"]
        body = resp.json()["token"]
        self.http.headers["X-Auth-Token"] = self.token
        self.project_id = body["project"]["id"]
        self.user_id = body["user"]["id"]
        self.catalog = body["catalog"]

    def endpoint(self, service_type: str, region: str) -> str:
        for service in self.catalog:
            if service["type"] != service_type:
                continue
            for ep in service["endpoints"]:
                if ep["interface"] == "public" and ep.get("region_id", ep.get("region")) == region:
                    return ep["url"].rstrip("/")
        raise LookupError(f"no public {service_type} endpoint in {region}")

    def request(self, method: str, url: str, **kw: Any) -> requests.Response:
        kw.setdefault("timeout", 60)
        return self.http.request(method, url, **kw)

    def get(self, url: str, key: str | None = None, **kw: Any) -> Any:
        resp = self.request("GET", url, **kw)
        resp.raise_for_status()
        data = resp.json()
        return data[key] if key else data

    # -- the kinds stackplan makes, as the services list them --------------------------

    @property
    def nova(self) -> str:
        return self.endpoint("compute", REGION_ONE)

    @property
    def neutron(self) -> str:
        return self.endpoint("network", REGION_TWO) + "/v2.0"

    @property
    def cinder(self) -> str:
        return self.endpoint("block-storage", REGION_TWO)

    def servers(self, **params: str) -> list[dict[str, Any]]:
        return self.get(
            f"{self.nova}/servers/detail",
            "servers",
            params=params,
            headers={"OpenStack-API-Version": "compute 2.79"},
        )

    def neutron_list(self, collection: str, **params: str) -> list[dict[str, Any]]:
        return self.get(f"{self.neutron}/{collection}", collection.replace("-", "_"), params=params)

    def volumes(self) -> list[dict[str, Any]]:
        return self.get(f"{self.cinder}/volumes/detail", "volumes")

    def wait(self, what: Callable[[], bool], timeout: float = 90, every: float = 0.5) -> None:
        deadline = time.monotonic() + timeout
        while not what():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            time.sleep(every)


@dataclass
class Result:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str
    seconds: float
    flaked: bool = False  # the harness's placement lost a write while it ran

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def __str__(self) -> str:
        return (
            f"$ stackplan {' '.join(self.args)}  -> exit {self.returncode} "
            f"({self.seconds:.1f}s)\n--- stdout\n{self.stdout}--- stderr\n{self.stderr}"
        )


def demo_env(region: str, *, clouds_yaml: bool = False) -> dict[str, str]:
    """This process's environment without OS_*, plus the demo user's: the OS_* variables
    of an openrc, or OS_CLOUD in the harness's clouds.yaml."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    env["PYTHONUNBUFFERED"] = "1"
    if clouds_yaml:
        env.update(
            OS_CLIENT_CONFIG_FILE=str(CLOUDS_YAML), OS_CLOUD="harness-demo", OS_REGION_NAME=region
        )
        return env
    user, password, project = DEMO
    env.update(
        OS_AUTH_URL=AUTH_URL,
        OS_IDENTITY_API_VERSION="3",
        OS_USERNAME=user,
        OS_PASSWORD=password,
        OS_PROJECT_NAME=project,
        OS_USER_DOMAIN_NAME="Default",
        OS_PROJECT_DOMAIN_NAME="Default",
        OS_REGION_NAME=region,
        OS_INTERFACE="public",
    )
    return env


@dataclass
class Stack:
    """A spec in `cwd` and `stackplan` run there as a user runs it (a subprocess)."""

    cwd: Path
    env: dict[str, str]
    log: list[Result] = field(default_factory=list)

    @property
    def spec(self) -> Path:
        return self.cwd / "stackplan.yaml"

    @property
    def state(self) -> Path:
        return self.cwd / "state.json"

    def write(self, text: str) -> None:
        self.spec.write_text(text, encoding="utf-8")

    def command(self, *args: str) -> list[str]:
        verb = next((a for a in args if not a.startswith("-")), "")
        extra = ["--state", str(self.state)] if verb in _STATEFUL or verb == "state" else []
        return [sys.executable, "-m", "stackplan", *args, *extra]

    def cli(
        self,
        *args: str,
        rc: int | None = 0,
        timeout: float = 180,
        env: dict | None = None,
        harness_retry: bool = True,
    ) -> Result:
        """Run `stackplan ARGS` and assert its exit code (`rc=None`: any).

        HARNESS ALLOW-LIST, placement: the harness runs Placement on SQLite, where two
        allocation writes at once sometimes leave one waiting 30 s for the lock and failing
        ("database is locked" in logs/placement-api.log); Nova then answers "No valid host"
        for a boot, or drops a resize and puts the server back to ACTIVE on its old flavor
        (which stackplan then waits for forever: see test_real_compute.py's xfail). When
        that line appears while an apply or a destroy runs, the command is given
        `FLAKE_GRACE` seconds more, killed if still running, and run once more, with a
        HarnessFlake warning in pytest's summary; never for any other failure."""
        verb = next((a for a in args if not a.startswith("-")), "")
        in_nova = self.env.get("OS_REGION_NAME") == REGION_ONE  # RegionTwo has no placement
        watch = harness_retry and in_nova and verb in ("apply", "destroy")
        result = self._run(args, timeout, env, watch)
        if result.flaked and result.returncode != (0 if rc is None else rc):
            flake = HarnessFlake(f"placement lock during `{' '.join(args)}`: run again")
            warnings.warn(flake, stacklevel=2)
            result = self._run(args, timeout, env, watch=False)
        if rc is not None:
            assert result.returncode == rc, str(result)
        return result

    def _run(self, args: tuple[str, ...], timeout: float, env: dict | None, watch: bool) -> Result:
        started = time.monotonic()
        locks = placement_locks()
        flaked_at: float | None = None
        with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
            proc = subprocess.Popen(
                self.command(*args),
                cwd=self.cwd,
                env={**self.env, **(env or {})},
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=err,
                text=True,
            )
            note = ""
            while proc.poll() is None:
                now = time.monotonic()
                if watch and flaked_at is None and placement_locks() > locks:
                    flaked_at = now
                if flaked_at is not None and now - flaked_at > FLAKE_GRACE:
                    note = "\n(killed: the harness's placement lost a write meanwhile)"
                elif now - started > timeout:
                    note = f"\n(killed after {timeout:.0f}s)"
                if note:
                    proc.kill()
                    proc.wait()
                    break
                time.sleep(0.25)
            if watch and placement_locks() > locks:
                flaked_at = flaked_at or time.monotonic()
            out.seek(0)
            err.seek(0)
            code = TIMED_OUT if note else proc.returncode
            result = Result(
                tuple(args), code, out.read(), err.read() + note, time.monotonic() - started
            )
        result.flaked = flaked_at is not None
        self.log.append(result)
        return result

    def popen(self, *args: str, env: dict | None = None) -> subprocess.Popen[str]:
        return subprocess.Popen(
            self.command(*args),
            cwd=self.cwd,
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )


def openstack_client(region: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The harness's own openstack client (python-openstackclient in .venv-clients)."""
    command = str(OPENSTACK) if OPENSTACK.exists() else "openstack"
    env = demo_env(region, clouds_yaml=True)
    done = subprocess.run(
        [command, "--os-region-name", region, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"openstack {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done
