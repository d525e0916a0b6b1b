"""The official `openstack` client's volume commands, unchanged, against the simulator's
Cinder and Nova's volume features (environment from the real `stackplan sim env`).
Each client call costs 1-2 s of start-up, so the calls are grouped into a few tests."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from stackplan.sim.app import SimHandle, SimOptions, start
from tests.helpers import run_stackplan

pytestmark = pytest.mark.compat

_BIN = Path(sys.executable).parent
OPENSTACK = shutil.which("openstack", path=str(_BIN)) or shutil.which("openstack")
IMAGE = "cirros-0.6.2-x86_64-disk"


def _sim_env(url: str) -> dict[str, str]:
    port = url.rsplit(":", 1)[-1]
    out = run_stackplan(["sim", "env", "--port", port]).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert OPENSTACK, "python-openstackclient is not installed"
    result = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=90)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return result


def _json(env: dict[str, str], *args: str) -> Any:
    return json.loads(_run(env, *args, "-f", "json").stdout)


def _wait_volume(env: dict[str, str], name: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        volume = _json(env, "volume", "show", name)
        if volume["status"] == status or time.monotonic() > deadline:
            assert volume["status"] == status, volume
            return volume
        time.sleep(0.2)


@pytest.fixture(scope="module")
def volume_sim() -> Iterator[SimHandle]:
    """A simulator of its own: Cinder's default quotas (10 volumes, 1000 GiB), Nova's off,
    one network for the demo project."""
    handle = start(
        SimOptions(
            port=0,
            build_seconds=0.5,
            quota_instances=-1,
            quota_cores=-1,
            quota_ram=-1,
            shared_network=False,
        )
    )
    yield handle
    handle.stop()


@pytest.fixture(scope="module")
def env(volume_sim: SimHandle) -> dict[str, str]:
    return _sim_env(volume_sim.url)


def test_volume_create_list_show_extend_and_types(env):
    created = _json(env, "volume", "create", "--size", "1", "compat-vol")
    assert created["name"] == "compat-vol" and created["size"] == 1
    assert created["status"] == "creating"
    listed = _json(env, "volume", "list")
    assert "compat-vol" in {v["Name"] for v in listed}
    shown = _wait_volume(env, "compat-vol", "available")
    assert shown["id"] == created["id"] and shown["type"] == "__DEFAULT__"
    _run(env, "volume", "set", "--size", "2", "compat-vol")
    assert _wait_volume(env, "compat-vol", "available")["size"] == 2
    types = {t["Name"] for t in _json(env, "volume", "type", "list")}
    assert types == {"__DEFAULT__", "ssd", "hdd"}
    quota = {q["Resource"]: q["Limit"] for q in _json(env, "quota", "show")}
    assert (quota["volumes"], quota["gigabytes"]) == (10, 1000)


def test_server_add_and_remove_volume(env):
    _json(env, "volume", "create", "--size", "1", "compat-data")
    server = _json(
        env, "server", "create", "--image", IMAGE, "--flavor", "m1.tiny", "--wait", "compat-vm"
    )
    assert server["status"] == "ACTIVE"
    _wait_volume(env, "compat-data", "available")
    _run(env, "server", "add", "volume", "compat-vm", "compat-data")
    attached = _json(env, "volume", "show", "compat-data")
    assert attached["status"] == "in-use"
    assert attached["attachments"][0]["server_id"] == server["id"]
    shown = _json(env, "server", "show", "compat-vm")
    assert [v["id"] for v in shown["volumes_attached"]] == [attached["id"]]
    _run(env, "server", "remove", "volume", "compat-vm", "compat-data")
    assert _json(env, "volume", "show", "compat-data")["status"] == "available"
    _run(env, "volume", "delete", "compat-data")
    assert "compat-data" not in {v["Name"] for v in _json(env, "volume", "list")}
    _run(env, "server", "delete", "--wait", "compat-vm")


def test_server_create_boot_from_volume(env):
    server = _json(
        env,
        "server",
        "create",
        "--boot-from-volume",
        "1",
        "--image",
        IMAGE,
        "--flavor",
        "m1.tiny",
        "--wait",
        "compat-bfv",
    )
    assert server["status"] == "ACTIVE"
    ((attached,),) = [server["volumes_attached"]]
    volume = _json(env, "volume", "show", attached["id"])
    assert volume["status"] == "in-use" and volume["bootable"] is True  # the SDK parses it
    assert volume["volume_image_metadata"]["image_name"] == IMAGE
    _run(env, "server", "delete", "--wait", "compat-bfv")
    # not delete_on_termination (the client's default): the volume stays, detached
    kept = _json(env, "volume", "show", attached["id"])
    assert kept["status"] == "available" and kept["attachments"] == []
    _run(env, "volume", "delete", attached["id"])
