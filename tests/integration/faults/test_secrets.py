"""Secrets never leak: the password, the tokens the cloud issued and the servers'
adminPass appear in no output (`--debug` included) and no file stackplan writes.

The tokens are read from the simulator's own SQLite database (every token it issued);
the adminPass values are caught where the simulator makes them up.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from pathlib import Path

import pytest

from stackplan.cloud import ServerCreate, connect, load_config
from stackplan.sim import servers as sim_servers
from tests.conftest import env_for
from tests.helpers import CIRROS
from tests.integration.faults.faultkit import stackplan

PASSWORD = "secret"  # the simulator's users' password


@pytest.fixture
def admin_passes(monkeypatch) -> list[str]:
    """Every adminPass the (in-process) simulator hands out from now on."""
    made: list[str] = []
    original = sim_servers.password

    def password() -> str:
        value = original()
        made.append(value)
        return value

    monkeypatch.setattr(sim_servers, "password", password)
    return made


def _issued_tokens(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT id FROM tokens")]


def _leaks(text: str, secrets: dict[str, list[str]]) -> list[str]:
    found = []
    for what, values in secrets.items():
        for value in values:
            pattern = rf"(?<![A-Za-z0-9_]){re.escape(value)}(?![A-Za-z0-9_])"
            if re.search(pattern, text):
                found.append(f"{what} {value[:6]}...")
    return found


@pytest.mark.timeout(120)
def test_plan_apply_destroy_with_debug_leak_no_password_token_or_admin_pass(
    make_sim, tmp_path, admin_passes
):
    db = tmp_path / "cloud" / "sim.sqlite"
    db.parent.mkdir()
    sim = make_sim(db=str(db), build_seconds=0.3)
    env = env_for(sim.url)
    work = tmp_path / "work"
    work.mkdir()
    (work / "stackplan.yaml").write_text(
        "stack: secrets\nservers:\n  app:\n    count: 3\n"
        f"    image: {CIRROS}\n    flavor: m1.tiny\n    metadata: {{role: app}}\n",
        encoding="utf-8",
    )
    commands = [
        ["plan", "--out", "plan.bin"],
        ["plan", "--format", "json"],
        ["plan", "--format", "markdown"],
        ["show", "plan.bin", "--format", "json"],
        ["apply", "--auto-approve"],
        ["output"],
        ["state", "pull"],
        ["destroy", "--auto-approve"],
    ]
    outputs = []
    for args in commands:
        done = stackplan(args, env, debug=True, cwd=work)
        assert done.returncode == 0, f"{args}: {done.stdout}{done.stderr}"
        outputs.append(f"$ {args}\n{done.stdout}\n{done.stderr}")
        # The JSON and Markdown plans are files too when a CI job saves them.
        if "--format" in args:
            (work / f"plan.{args[-1]}").write_text(done.stdout, encoding="utf-8")
    debug = "\n".join(outputs)
    assert "DEBUG stackplan.http: REQ POST" in debug  # --debug really logged the traffic
    assert "X-Auth-Token" in debug and "{SHA256}" in debug

    tokens = _issued_tokens(db)
    assert len(tokens) >= 5  # each plan, apply and destroy authenticated
    assert len(admin_passes) == 3  # one per server apply created
    secrets = {"password": [PASSWORD], "token": tokens, "adminPass": admin_passes}
    written = sorted(p for p in work.rglob("*") if p.is_file())
    names = {p.name for p in written}
    assert {
        "plan.bin",
        "plan.json",
        "plan.markdown",
        "secrets.json",
        "secrets.json.backup",
    } <= names, names
    problems = _leaks(debug, secrets)
    for path in written:
        problems += [
            f"{path.name}: {leak}"
            for leak in _leaks(path.read_bytes().decode("utf-8", "replace"), secrets)
        ]
    assert not problems, problems


def test_debug_log_of_a_create_masks_the_admin_pass_and_tokens(sim_env, caplog, admin_passes):
    caplog.set_level(logging.DEBUG, logger="stackplan.http")
    cloud = connect(load_config(env=sim_env))
    try:
        token = cloud.session.token().value.reveal()
        server_id = cloud.compute.create_server(
            ServerCreate(name="secrets-probe", image_id=_cirros_id(cloud), flavor_id="1")
        )
        cloud.compute.delete_server(server_id)
    finally:
        cloud.close()
    assert len(admin_passes) == 1
    log = caplog.text
    assert '"adminPass": "***"' in log  # the response body was logged, the value masked
    assert admin_passes[0] not in log
    assert token not in log
    assert PASSWORD not in re.findall(r"\w+", log)
    # The X-Subject-Token header is logged as a digest, never as the token itself.
    assert re.search(r"'x-subject-token': '\{SHA256\}[0-9a-f]{16}'", log)


def _cirros_id(cloud) -> str:
    return next(image.id for image in cloud.list_images() if image.name == CIRROS)
