"""Ansible's openstack.cloud collection (2.5, bundled by `ansible` 12.3) against the simulator:
the playbook in ansible/ runs twice, and the second run changes nothing.

Ansible lives in its own venv, `.venv-ansible` (`make ansible-venv`), because
openstack.cloud 2.5 wants openstacksdk < 4.15 and the project's python-openstackclient
pins a newer one. The server task names no security group, and openstack.cloud's server
module then takes the list as complete (`security_groups` defaults to []): on a second
run it would remove the `default` group Nova's port got. So the playbook's server goes
on a network without port security, as on a cloud where that is how the network is
made: `private` is switched to `port_security_enabled: false` through Neutron before
the play, and the port Nova makes there carries no group.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest
import requests

from tests.conftest import env_for

pytestmark = [pytest.mark.compat, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = Path(__file__).parent / "ansible" / "playbook.yml"
ANSIBLE_PLAYBOOK = ROOT / ".venv-ansible" / "bin" / "ansible-playbook"


def _port_security_off(url: str, network: str) -> None:
    """`openstack network set --disable-port-security NETWORK` as the demo user, over HTTP."""
    http = requests.Session()
    auth = {
        "auth": {
            "identity": {
                "methods": ["password"],
                "password": {
                    "user": {"name": "demo", "domain": {"id": "default"}, "password": "secret"}
                },
            },
            "scope": {"project": {"name": "demo", "domain": {"id": "default"}}},
        }
    }
    token = http.post(f"{url}/identity/v3/auth/tokens", json=auth, timeout=10)
    assert token.status_code == 201, token.text
    http.headers["X-Auth-Token"] = token.headers["X-Subject-Token"]
    found = http.get(f"{url}/networking/v2.0/networks", params={"name": network}, timeout=10)
    (net,) = found.json()["networks"]
    body = {"network": {"port_security_enabled": False}}
    done = http.put(f"{url}/networking/v2.0/networks/{net['id']}", json=body, timeout=10)
    assert done.status_code == 200 and not done.json()["network"]["port_security_enabled"]


def _play(env: dict[str, str], *extra: str) -> dict[str, int]:
    """Run the playbook; the PLAY RECAP counters of localhost."""
    result = subprocess.run(
        [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", str(PLAYBOOK), *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, f"ansible-playbook failed:\n{result.stdout}\n{result.stderr}"
    recap = re.search(r"^localhost\s*:\s*(.*)$", result.stdout, re.MULTILINE)
    assert recap, result.stdout
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", recap.group(1))}


@pytest.mark.skipif(
    not ANSIBLE_PLAYBOOK.exists(),
    reason="the Ansible venv is missing: `make ansible-venv` builds .venv-ansible "
    "(ansible 12.3 with openstack.cloud 2.5, openstacksdk<4.15)",
)
def test_playbook_is_idempotent(make_sim, tmp_path):
    sim = make_sim()
    _port_security_off(sim.url, "private")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OS_", "ANSIBLE_"))}
    env.update(env_for(sim.url))
    env.update(
        ANSIBLE_HOME=str(tmp_path / "ansible-home"),  # nothing written to ~/.ansible
        ANSIBLE_COLLECTIONS_PATH=str(tmp_path / "collections"),  # only the bundled ones
        ANSIBLE_LOCALHOST_WARNING="False",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="False",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="False",
    )
    first = _play(env)
    assert first["failed"] == 0 and first["changed"] == 2  # the keypair and the server
    second = _play(env)
    assert second["failed"] == 0 and second["changed"] == 0
    cleanup = _play(env, "-e", "web_state=absent")
    assert cleanup["changed"] == 1  # the server deleted; the keypair stays
