"""The official `openstack` client, unchanged, against the simulator.

The environment comes from running the real `stackplan sim env` command. Each client
call costs 1-2 s of start-up, so the calls are grouped into a few tests.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_stackplan

pytestmark = pytest.mark.compat

_BIN = Path(sys.executable).parent
OPENSTACK = shutil.which("openstack", path=str(_BIN)) or shutil.which("openstack")


def _sim_env(url: str, *flags: str) -> dict[str, str]:
    port = url.rsplit(":", 1)[-1]
    out = run_stackplan(["sim", "env", "--port", port, *flags]).stdout
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    for line in out.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        env[name] = shlex.split(value)[0]
    return env


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    assert OPENSTACK, "python-openstackclient is not installed"
    result = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return result


def _json(env: dict[str, str], *args: str) -> Any:
    return json.loads(_run(env, *args, "-f", "json").stdout)


@pytest.fixture(scope="module")
def compat_sim(sim):
    return sim


@pytest.mark.parametrize("flags", [(), ("--v2",)], ids=["v3", "v2"])
def test_token_issue_and_flavor_list(compat_sim, flags):
    env = _sim_env(compat_sim.url, *flags)
    token = _json(env, "token", "issue")
    assert token["project_id"] == "d0000000000000000000000000000001" and token["id"]
    flavors = _json(env, "flavor", "list")
    assert {f["Name"] for f in flavors} >= {"m1.tiny", "m1.small", "m1.nano", "m1.micro"}


def test_catalog_and_image_list(compat_sim):
    env = _sim_env(compat_sim.url)
    catalog = _json(env, "catalog", "list")
    assert {c["Type"] for c in catalog} == {"compute", "image", "identity"}
    images = _json(env, "image", "list")
    assert "cirros-0.6.2-x86_64-disk" in {i["Name"] for i in images}


def test_server_lifecycle(compat_sim):
    env = _sim_env(compat_sim.url)
    created = _json(
        env,
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        "--wait",
        "compat-web",
    )
    assert created["status"] == "ACTIVE"
    listed = _json(env, "server", "list", "--name", "^compat-web$")
    assert [s["ID"] for s in listed] == [created["id"]]
    shown = _json(env, "server", "show", "compat-web")
    assert shown["id"] == created["id"] and shown["flavor"]["original_name"] == "m1.tiny"
    _run(env, "server", "delete", "--wait", "compat-web")
    assert _json(env, "server", "list", "--name", "^compat-web$") == []


def test_keypair_create_list_delete(compat_sim):
    env = _sim_env(compat_sim.url)
    private = _run(env, "keypair", "create", "compat-key").stdout
    assert "PRIVATE KEY" in private
    assert "compat-key" in {k["Name"] for k in _json(env, "keypair", "list")}
    _run(env, "keypair", "delete", "compat-key")
    assert "compat-key" not in {k["Name"] for k in _json(env, "keypair", "list")}


def test_server_group_create_show_hint_and_delete(compat_sim):
    env = _sim_env(compat_sim.url)
    group = _json(env, "server", "group", "create", "--policy", "anti-affinity", "compat-group")
    assert group["policy"] == "anti-affinity" and group["members"] == []
    assert group["id"] in {g["ID"] for g in _json(env, "server", "group", "list")}
    assert _json(env, "server", "group", "show", group["id"])["name"] == "compat-group"
    server = _json(
        env,
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        "--hint",
        f"group={group['id']}",
        "--wait",
        "compat-grouped",
    )
    assert server["status"] == "ACTIVE"
    assert _json(env, "server", "group", "show", group["id"])["members"] == [server["id"]]
    _run(env, "server", "delete", "--wait", server["id"])
    assert _json(env, "server", "group", "show", group["id"])["members"] == []
    _run(env, "server", "group", "delete", group["id"])
    assert group["id"] not in {g["ID"] for g in _json(env, "server", "group", "list")}
