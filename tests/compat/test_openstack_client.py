"""The official `openstack` client, unchanged, against the simulator.

The environment comes from running the real `stackplan sim env` command. Each client
call costs 1-2 s of start-up, so the calls are grouped into a few tests per command.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
import uuid
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
    assert {c["Type"] for c in catalog} == {
        "compute", "image", "identity", "network", "block-storage", "volumev3"
    }  # fmt: skip
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


# -- the common paths of points 1-5 (flavors, quotas, servers, zones, images) ----------


def _fail(env: dict[str, str], *args: str) -> str:
    """Run a command that must fail; its stderr."""
    assert OPENSTACK, "python-openstackclient is not installed"
    result = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, f"openstack {' '.join(args)} succeeded:\n{result.stdout}"
    return result.stderr


def _uniq(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:6]}"


def _server(env: dict[str, str], name: str, *extra: str) -> dict[str, Any]:
    return _json(
        env,
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        *extra,
        "--wait",
        name,
    )


def _wait_status(env: dict[str, str], name: str, status: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        shown = _json(env, "server", "show", name)
        if shown["status"] == status or time.monotonic() > deadline:
            assert shown["status"] == status, shown
            return shown
        time.sleep(0.3)


def test_flavor_show(compat_sim):
    flavor = _json(_sim_env(compat_sim.url), "flavor", "show", "m1.tiny")
    assert (flavor["id"], flavor["ram"], flavor["vcpus"]) == ("1", 512, 1)
    assert flavor["properties"] == {}


def test_flavor_list_long(compat_sim):
    flavors = _json(_sim_env(compat_sim.url), "flavor", "list", "--long")
    by_name = {f["Name"]: f for f in flavors}
    assert by_name["m1.small"]["RAM"] == 2048 and by_name["m1.small"]["Properties"] == {}


def test_quota_show(compat_sim):
    demo = _sim_env(compat_sim.url)
    limits = {q["Resource"]: q["Limit"] for q in _json(demo, "quota", "show")}
    assert limits["instances"] == -1 and limits["key-pairs"] == 100
    assert limits["server-groups"] == 10
    # By name the client lists projects, which keystone lets only an admin do.
    assert "identity:list_projects" in _fail(demo, "quota", "show", "demo")
    admin = _sim_env(compat_sim.url, "--user", "admin")
    by_name = {q["Resource"]: q["Limit"] for q in _json(admin, "quota", "show", "demo")}
    assert by_name == limits


def test_sdk_get_compute_quotas(compat_sim):
    openstack = pytest.importorskip("openstack")
    env = _sim_env(compat_sim.url)
    conn = openstack.connect(
        auth_url=env["OS_AUTH_URL"],
        username="demo",
        password="secret",
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
    )
    quotas = conn.get_compute_quotas("d0000000000000000000000000000001")
    assert quotas.instances == -1 and quotas.key_pairs == 100


def test_server_create_min_max_names_each_server(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("multi")
    _server(env, name, "--min", "3", "--max", "3")
    listed = _json(env, "server", "list", "--name", f"^{name}-")
    assert sorted(s["Name"] for s in listed) == [f"{name}-1", f"{name}-2", f"{name}-3"]
    _run(env, "server", "delete", *(s["ID"] for s in listed))


def test_server_create_nic_none(compat_sim):
    env = _sim_env(compat_sim.url)
    server = _server(env, _uniq("nonet"), "--nic", "none")
    assert server["status"] == "ACTIVE" and server["addresses"] == {}
    _run(env, "server", "delete", server["id"])


def test_server_create_unknown_availability_zone_fails(compat_sim):
    env = _sim_env(compat_sim.url)
    stderr = _fail(
        env,
        "server",
        "create",
        "--image",
        "cirros-0.6.2-x86_64-disk",
        "--flavor",
        "m1.tiny",
        "--availability-zone",
        "nosuch",
        _uniq("nozone"),
    )
    assert "The requested availability zone is not available" in stderr


def test_server_list_all_projects(compat_sim):
    demo, admin = _sim_env(compat_sim.url), _sim_env(compat_sim.url, "--user", "admin")
    mine = _server(demo, _uniq("tenant-demo"))
    theirs = _server(admin, _uniq("tenant-admin"))
    assert "get_all_tenants" in _fail(demo, "server", "list", "--all-projects")
    every = {s["ID"] for s in _json(admin, "server", "list", "--all-projects")}
    assert {mine["id"], theirs["id"]} <= every
    _run(demo, "server", "delete", mine["id"])
    _run(admin, "server", "delete", theirs["id"])


def test_availability_zone_list(compat_sim):
    env = _sim_env(compat_sim.url)
    zones = _json(env, "availability", "zone", "list", "--compute")
    assert zones == [{"Zone Name": "nova", "Zone Status": "available"}]
    # without --compute the client lists every service's zones (Nova's, Cinder's): `nova`
    listed = _json(env, "availability", "zone", "list")
    assert {(z["Zone Name"], z["Zone Status"]) for z in listed} == {("nova", "available")}


def test_server_pause_unpause(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("pause")
    _server(env, name)
    _run(env, "server", "pause", name)
    assert _wait_status(env, name, "PAUSED")["OS-EXT-STS:power_state"] in (3, "Paused")
    assert "vm_state paused" in _fail(env, "server", "pause", name)
    _run(env, "server", "unpause", name)
    _wait_status(env, name, "ACTIVE")
    _run(env, "server", "delete", name)


def test_server_lock_unlock(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("lock")
    server = _server(env, name)
    _run(env, "server", "lock", name)
    assert _json(env, "server", "show", name)["locked"] is True
    assert f"Instance {server['id']} is locked" in _fail(env, "server", "stop", name)
    _run(env, "server", "unlock", name)
    assert _json(env, "server", "show", name)["locked"] is False
    _run(env, "server", "delete", name)


def test_server_suspend_resume(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("suspend")
    _server(env, name)
    _run(env, "server", "suspend", name)
    _wait_status(env, name, "SUSPENDED")
    assert "vm_state suspended" in _fail(env, "server", "suspend", name)
    _run(env, "server", "resume", name)
    _wait_status(env, name, "ACTIVE")
    _run(env, "server", "delete", name)


def test_console_log_show(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("console")
    _server(env, name)
    log = _run(env, "console", "log", "show", name).stdout
    assert "Linux version" in log and f"{name} login:" in log
    tail = _run(env, "console", "log", "show", "--lines", "2", name).stdout
    assert tail.strip().splitlines() == log.strip().splitlines()[-2:]
    _run(env, "server", "delete", name)


def _image_create(env: dict[str, str], *args: str) -> dict[str, Any]:
    """`openstack image create` at a terminal: without one the client takes stdin as data."""
    assert OPENSTACK, "python-openstackclient is not installed"
    controller, terminal = os.openpty()
    try:
        result = subprocess.run(
            [OPENSTACK, "image", "create", *args, "-f", "json"],
            env=env,
            stdin=terminal,
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        os.close(terminal)
        os.close(controller)
    assert result.returncode == 0, f"openstack image create {' '.join(args)}:\n{result.stderr}"
    return json.loads(result.stdout)


def test_image_create_with_property(compat_sim):
    env = _sim_env(compat_sim.url)
    name = _uniq("compat-img")
    image = _image_create(env, "--property", "os_distro=cirros", "--property", "tier=web", name)
    assert image["status"] == "queued" and image["name"] == name
    assert image["properties"]["os_distro"] == "cirros"
    assert image["properties"]["tier"] == "web"
    _run(env, "image", "delete", image["id"])


def test_image_create_with_file(compat_sim, tmp_path):
    env = _sim_env(compat_sim.url)
    data = tmp_path / "disk.raw"
    data.write_bytes(b"\0" * 4096)
    image = _image_create(env, "--file", str(data), "--disk-format", "raw", _uniq("compat-file"))
    assert image["status"] == "active" and image["size"] == 4096
    assert image["checksum"] == "620f0b67a91f7f74151bc5be745b7110"  # md5 of 4096 zero bytes
    server = _server(env, _uniq("from-upload"), "--image", image["id"])
    assert server["status"] == "ACTIVE"
    _run(env, "server", "delete", server["id"])
    # the session cloud is shared: leave its image list as seeded (test_sim_compute.py)
    _run(env, "image", "delete", image["id"])


def test_image_set_name(compat_sim):
    env = _sim_env(compat_sim.url)
    image = _image_create(env, _uniq("compat-old"))
    new_name = _uniq("compat-new")
    _run(env, "image", "set", "--name", new_name, image["id"])
    assert _json(env, "image", "show", new_name)["id"] == image["id"]
    # The seeded images belong to the admin project: a member may not rename them.
    assert "modify_image" in _fail(env, "image", "set", "--name", "x", "cirros-0.6.2-x86_64-disk")
    _run(env, "image", "delete", image["id"])


def test_image_delete(compat_sim):
    env = _sim_env(compat_sim.url)
    image = _image_create(env, _uniq("compat-gone"))
    _run(env, "image", "delete", image["id"])
    assert image["id"] not in {i["ID"] for i in _json(env, "image", "list")}
