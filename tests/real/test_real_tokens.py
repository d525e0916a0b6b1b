"""Tokens that stop working while `stackplan apply` runs, against the real Keystone and the
real keystonemiddleware in Nova.

- Expiring: a second Keystone process on the harness's own database and fernet keys, from
  a copy of its configuration with `[token] expiration` of a few seconds (the harness is
  not changed). Nova (keystonemiddleware) rejects such a token once it is past its
  `expires_at`, cached or not, so an apply longer than the lifetime must renew it.
- Revoked: the admin API's `DELETE /v3/auth/tokens` (X-Subject-Token). keystonemiddleware
  caches a validated token for 300 s in process, so a token Nova has already accepted
  stays good there after its revocation (that is Nova's behaviour, not the harness's);
  the revocation that Nova sees is of a token it has not validated yet. A loopback proxy
  in front of Keystone (OS_AUTH_URL points at it) revokes the first token it hands out,
  after Keystone issued it and before stackplan's first call to Nova with it.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.real.harness import (
    AUTH_URL,
    DEMO,
    HARNESS_HOME,
    IMAGE_ID,
    REGION_ONE,
    ROOT,
    Api,
    password_auth,
)
from tests.real.proxy import Proxy

HARNESS_DIR = Path(os.environ.get("HARNESS_DIR") or ROOT.parent / "shared" / "openstack")


class KeystoneProxy(Proxy):
    """A Proxy in front of a Keystone root: records the tokens it hands out and, with
    `revoke_first`, revokes the first one (admin API) before handing it out."""

    def __init__(self, upstream: str, admin: Api, revoke_first: bool = False):
        self.admin = admin
        self.revoke_first = revoke_first
        self.issued: list[str] = []
        self.revoked: list[str] = []
        super().__init__(upstream, after=self._issued)
        self.url = f"{self.url}/v3"

    def _issued(self, method: str, path: str, resp: requests.Response) -> None:
        token = resp.headers.get("X-Subject-Token")
        if method == "POST" and path.endswith("/auth/tokens") and token:
            self.issued.append(token)
            if self.revoke_first and len(self.issued) == 1:
                self.revoke(token)

    def revoke(self, token: str) -> None:
        resp = self.admin.request(
            "DELETE", f"{AUTH_URL}/auth/tokens", headers={"X-Subject-Token": token}
        )
        assert resp.status_code == 204, resp.text
        self.revoked.append(token)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def short_keystone(tmp_path: Path) -> Iterator[str]:
    """A second Keystone on the harness's database and keys whose tokens live 4 s."""
    lifetime = LIFETIME
    conf_dir = tmp_path / "keystone-short"
    conf_dir.mkdir()
    original = (HARNESS_HOME / "run" / "keystone" / "keystone.conf").read_text()
    assert "expiration = 14400" in original, "the harness's keystone.conf changed"
    text = original.replace("expiration = 14400", f"expiration = {lifetime}")
    (conf_dir / "keystone.conf").write_text(text)
    port = _free_port()
    gunicorn = HARNESS_HOME / ".venv-keystone" / "bin" / "gunicorn"
    log = (tmp_path / "keystone-short.log").open("w")
    proc = subprocess.Popen(
        [
            str(gunicorn),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--threads",
            "4",
            "--worker-class",
            "gthread",
            "--no-control-socket",
            "--pythonpath",
            str(HARNESS_DIR / "pylib"),
            "keystone_wsgi:application",
        ],
        env={
            **os.environ,
            "OS_KEYSTONE_CONFIG_DIR": str(conf_dir),
            "OS_KEYSTONE_CONFIG_FILES": "keystone.conf",
            "PYTHONWARNINGS": "ignore",
            "PYTHONDONTWRITEBYTECODE": "1",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{url}/v3", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                log.flush()
                pytest.fail(f"the short-token keystone did not start:\n{log.name}")
            time.sleep(0.3)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


LIFETIME = 4  # seconds: stackplan renews a token this short at half its life
SPEC = """\
stack: real-token-{rid}
servers:
  t:
    count: {count}
    name: tok-{rid}
    image: {{id: {image}}}
    flavor: {flavor}
    networks: none
"""


def _servers(real: Api, prefix: str) -> list[dict]:
    return [s for s in real.servers() if s["name"].startswith(prefix)]


def test_a_token_expiring_mid_apply_is_renewed(real, admin, make_stack, run_id, short_keystone):
    proxy = KeystoneProxy(short_keystone, admin)
    try:
        stack = make_stack(REGION_ONE)
        stack.env["OS_AUTH_URL"] = proxy.url
        rid = f"{run_id}e"
        token = requests.post(
            f"{proxy.url}/auth/tokens",
            json=password_auth(*DEMO),
            timeout=30,
        ).json()["token"]
        assert _lifetime(token) <= LIFETIME
        proxy.issued.clear()
        stack.write(SPEC.format(rid=rid, image=IMAGE_ID, flavor="m1.tiny", count=1))
        stack.cli("apply", "--auto-approve")
        stack.write(SPEC.format(rid=rid, image=IMAGE_ID, flavor="m1.small", count=1))
        started = time.monotonic()
        result = stack.cli("apply", "--auto-approve")  # resize + confirm: several lifetimes
        took = time.monotonic() - started
        assert took > LIFETIME / 2, f"the apply took {took:.1f}s: no renewal was due"
        assert len(proxy.issued) >= 2, (len(proxy.issued), took, str(result))
        servers = _servers(real, f"tok-{rid}-")
        assert {s["flavor"]["original_name"] for s in servers} == {"m1.small"}
        assert {s["status"] for s in servers} == {"ACTIVE"}
        stack.cli("destroy", "--auto-approve")
    finally:
        proxy.stop()
    real.wait(lambda: not _servers(real, f"tok-{rid}-"))


def _lifetime(token: dict) -> float:
    from datetime import datetime

    def parse(text: str) -> datetime:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))

    return (parse(token["expires_at"]) - parse(token["issued_at"])).total_seconds()


def test_a_token_revoked_before_nova_sees_it_is_replaced(real, admin, make_stack, run_id):
    proxy = KeystoneProxy(AUTH_URL.removesuffix("/v3"), admin, revoke_first=True)
    rid = f"{run_id}r"
    try:
        stack = make_stack(REGION_ONE)
        stack.env["OS_AUTH_URL"] = proxy.url
        stack.write(SPEC.format(rid=rid, image=IMAGE_ID, flavor="m1.tiny", count=2))
        stack.cli("apply", "--auto-approve")
        assert len(proxy.revoked) == 1 and len(proxy.issued) >= 2, proxy.issued
        check = admin.request(
            "GET", f"{AUTH_URL}/auth/tokens", headers={"X-Subject-Token": proxy.revoked[0]}
        )
        assert check.status_code == 404  # Keystone: the revoked token is not found
        assert len(_servers(real, f"tok-{rid}-")) == 2  # created once each
        stack.cli("destroy", "--auto-approve")
    finally:
        proxy.stop()
    real.wait(lambda: not _servers(real, f"tok-{rid}-"))


def test_a_revoked_token_credential_is_one_message(real, admin, make_stack):
    """OS_TOKEN credentials cannot be renewed: a revoked one is an error, not a traceback."""
    token = Api(*DEMO).token
    resp = admin.request("DELETE", f"{AUTH_URL}/auth/tokens", headers={"X-Subject-Token": token})
    assert resp.status_code == 204
    stack = make_stack(REGION_ONE)
    for name in ("OS_USERNAME", "OS_PASSWORD", "OS_USER_DOMAIN_NAME"):
        stack.env.pop(name)
    stack.env.update(OS_AUTH_TYPE="v3token", OS_TOKEN=token)
    stack.write("stack: real-revoked\nservers: {}\n")
    result = stack.cli("plan", rc=1)
    assert "Traceback" not in result.output
    assert "401" in result.output or "404" in result.output, str(result)
    assert token not in result.output
