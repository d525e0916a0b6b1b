"""The official `openstack` client's network commands, unchanged, against the
simulator's Neutron (environment from the real `stackplan sim env`). Each client call
costs 1-2 s of start-up, so one test walks a whole topology up and down."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import run_stackplan

pytestmark = pytest.mark.compat

_BIN = Path(sys.executable).parent
OPENSTACK = shutil.which("openstack", path=str(_BIN)) or shutil.which("openstack")


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
    result = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, f"openstack {' '.join(args)}:\n{result.stderr}"
    return result


def _json(env: dict[str, str], *args: str) -> Any:
    return json.loads(_run(env, *args, "-f", "json").stdout)


def _fail(env: dict[str, str], *args: str) -> str:
    assert OPENSTACK, "python-openstackclient is not installed"
    result = subprocess.run([OPENSTACK, *args], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode != 0, f"openstack {' '.join(args)} succeeded:\n{result.stdout}"
    return result.stderr


@pytest.fixture(scope="module")
def env(devstack_sim) -> dict[str, str]:
    return _sim_env(devstack_sim.url)


def test_catalog_and_seeded_networks(env):
    assert "network" in {c["Type"] for c in _json(env, "catalog", "list")}
    names = {n["Name"] for n in _json(env, "network", "list")}
    assert {"public", "private", "shared"} <= names
    public = _json(env, "network", "show", "public")
    assert public["router:external"] is True and public["mtu"] == 1500


def test_network_subnet_router_port_floating_ip_walkthrough(env):
    tag = uuid.uuid4().hex[:6]
    net = f"compat-net-{tag}"
    created = _json(env, "network", "create", "--tag", tag, net)
    assert created["status"] == "ACTIVE" and created["tags"] == [tag]
    assert [n["Name"] for n in _json(env, "network", "list", "--tags", tag)] == [net]
    assert _json(env, "network", "show", net)["id"] == created["id"]
    subnet = _json(
        env,
        "subnet",
        "create",
        "--network",
        net,
        "--subnet-range",
        "10.1.0.0/24",
        "--allocation-pool",
        "start=10.1.0.10,end=10.1.0.100",
        f"compat-sub-{tag}",
    )
    assert subnet["gateway_ip"] == "10.1.0.1"
    assert subnet["allocation_pools"] == [{"start": "10.1.0.10", "end": "10.1.0.100"}]
    router = f"compat-router-{tag}"
    _json(env, "router", "create", router)
    _run(env, "router", "add", "subnet", router, subnet["id"])
    _run(env, "router", "set", "--external-gateway", "public", router)
    shown = _json(env, "router", "show", router)
    gateway = shown["external_gateway_info"]
    assert gateway["external_fixed_ips"][0]["ip_address"].startswith("172.24.4.")
    port = _json(env, "port", "create", "--network", net, f"compat-port-{tag}")
    (ip,) = port["fixed_ips"]
    assert ip["subnet_id"] == subnet["id"]
    group = _json(env, "security", "group", "create", f"compat-sg-{tag}")
    rule = _json(
        env,
        "security",
        "group",
        "rule",
        "create",
        "--protocol",
        "tcp",
        "--dst-port",
        "22",
        group["id"],
    )
    assert (rule["port_range_min"], rule["port_range_max"], rule["protocol"]) == (22, 22, "tcp")
    spare = _json(env, "floating", "ip", "create", "public")
    assert spare["status"] == "DOWN" and spare["port_id"] is None
    fip = _json(env, "floating", "ip", "create", "--port", port["id"], "public")
    assert fip["floating_ip_address"].startswith("172.24.4.") and fip["port_id"] == port["id"]
    # teardown in Neutron's order; the client reports the 409s on the way
    assert "409" in _fail(env, "router", "delete", router)
    assert "409" in _fail(env, "network", "delete", net)
    _run(env, "floating", "ip", "delete", fip["id"], spare["id"])
    _run(env, "port", "delete", port["id"])
    _run(env, "router", "remove", "subnet", router, subnet["id"])
    _run(env, "router", "delete", router)
    _run(env, "security", "group", "delete", group["id"])
    _run(env, "network", "delete", net)
    assert _json(env, "network", "list", "--tags", tag) == []


def _server_create(env: dict[str, str], name: str, *extra: str) -> dict[str, Any]:
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


def _addresses(shown: dict[str, Any], network: str) -> list[str]:
    """The client's `addresses` column: {network: [address, ...]}."""
    return list(shown["addresses"].get(network, []))


def test_server_on_private_with_a_floating_ip_and_a_port_of_its_own(env):
    tag = uuid.uuid4().hex[:6]
    name = f"compat-vm-{tag}"
    server = _server_create(env, name, "--network", "private")
    assert server["status"] == "ACTIVE"
    (fixed,) = _addresses(server, "private")
    (nova_port,) = _json(env, "port", "list", "--server", server["id"])
    assert nova_port["Fixed IP Addresses"][0]["ip_address"] == fixed
    fip = _json(env, "floating", "ip", "create", "public")
    _run(env, "server", "add", "floating", "ip", name, fip["floating_ip_address"])
    shown = _json(env, "floating", "ip", "show", fip["id"])
    assert shown["port_id"] == nova_port["ID"] and shown["fixed_ip_address"] == fixed
    assert _addresses(_json(env, "server", "show", name), "private") == [
        fixed,
        fip["floating_ip_address"],
    ]
    port = _json(env, "port", "create", "--network", "private", f"compat-vm-port-{tag}")
    _run(env, "server", "add", "port", name, port["id"])
    bound = _json(env, "port", "show", port["id"])
    assert bound["device_id"] == server["id"] and bound["device_owner"] == "compute:nova"
    assert len(_addresses(_json(env, "server", "show", name), "private")) == 3
    _run(env, "server", "remove", "port", name, port["id"])
    assert _json(env, "port", "show", port["id"])["device_id"] == ""
    _run(env, "server", "delete", "--wait", name)
    # Nova deleted the port it made; the floating IP is left unassociated
    shown = _json(env, "floating", "ip", "show", fip["id"])
    assert shown["port_id"] is None and shown["status"] == "DOWN"
    assert _json(env, "port", "list", "--device-id", server["id"]) == []
    assert "No Port found" in _fail(env, "port", "show", nova_port["ID"])
    _run(env, "floating", "ip", "delete", fip["id"])
    _run(env, "port", "delete", port["id"])


def test_sdk_create_server_auto_ip_gets_a_floating_ip(devstack_sim):
    openstack = pytest.importorskip("openstack")
    conn = openstack.connect(
        auth_url=f"{devstack_sim.url}/identity/v3",
        username="demo",
        password="secret",
        project_name="demo",
        user_domain_name="Default",
        project_domain_name="Default",
        region_name="RegionOne",
    )
    (public,) = [n for n in conn.network.networks(is_router_external=True)]
    assert public.name == "public"
    router = conn.network.find_router("router1")
    assert router.external_gateway_info["network_id"] == public.id
    name = f"compat-sdk-{uuid.uuid4().hex[:6]}"
    server = conn.create_server(
        name,
        image="cirros-0.6.2-x86_64-disk",
        flavor="m1.tiny",
        network="private",
        auto_ip=True,
        wait=True,
        timeout=60,
    )
    try:
        assert server.status == "ACTIVE"
        kinds = {a["OS-EXT-IPS:type"]: a["addr"] for a in server.addresses["private"]}
        assert set(kinds) == {"fixed", "floating"}
        (fip,) = conn.network.ips(floating_ip_address=kinds["floating"])
        assert fip.fixed_ip_address == kinds["fixed"] and fip.router_id == router.id
        shown = conn.get_server(server.id)  # what the SDK makes of the addresses
        assert (shown.public_v4, shown.private_v4) == (kinds["floating"], kinds["fixed"])
    finally:
        conn.delete_server(server.id, wait=True, delete_ips=True, timeout=60)
    assert list(conn.network.ips(floating_ip_address=kinds["floating"])) == []
