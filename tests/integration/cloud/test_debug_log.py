"""--debug logging shows the traffic but never a password or a token the cloud issued."""

from __future__ import annotations

import logging
import time

from stackplan.cloud import ServerCreate
from stackplan.cloud.auth import Token
from tests.conftest import env_for

CIRROS = "5c1f3b8e-6b0a-4c5e-9d1f-0a2b3c4d5e01"


def record_tokens(cloud, issued: list[str]) -> None:
    """Keep every token the cloud issues to this session (observed, not replaced)."""
    authenticate = cloud.session.auth.authenticate

    def recording() -> Token:
        token = authenticate()
        issued.append(token.value.reveal())
        return token

    cloud.session.auth.authenticate = recording
    issued.append(cloud.session.token().value.reveal())


def test_debug_log_masks_passwords_and_tokens(make_sim, cloud_for, caplog):
    handle = make_sim(token_ttl=2, build_seconds=0)
    issued: list[str] = []
    with caplog.at_level(logging.DEBUG, logger="stackplan.http"):
        v3 = cloud_for(env_for(handle.url))
        record_tokens(v3, issued)
        server_id = v3.compute.create_server(ServerCreate("dbg", CIRROS, "1"))
        v3.compute.rebuild(server_id, CIRROS)
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # long enough for renewals
            v3.compute.get_server(server_id)
            time.sleep(0.1)
        v2 = cloud_for(env_for(handle.url, v2=True))
        record_tokens(v2, issued)
        v2.compute.list_flavors()
        by_token = cloud_for(
            {
                "OS_AUTH_URL": f"{handle.url}/identity/v3",
                "OS_TOKEN": issued[-1],
                "OS_PROJECT_ID": v3.session.token().project_id,
            }
        )
        record_tokens(by_token, issued)
        by_token.image.list_images()
    text = caplog.text
    assert len(set(issued)) >= 4
    assert "REQ POST" in text and "RESP GET" in text and "request_id=req-" in text
    assert "X-Auth-Token" in text and "{SHA256}" in text
    assert '"adminPass": "***"' in text
    assert '"password": "***"' in text
    assert "secret" not in text  # the sim's password
    for token in set(issued):
        assert token not in text
