"""A fault storm: 10 % of requests fail (500/503), 20 requests/s, tokens live 5 s.

An apply of 30 servers still exits 0 with exactly 30 servers in the cloud, each recorded
in the state, none twice: a failed create is retried only after its tag shows the cloud
made nothing, the token is renewed mid-apply, and 429s are waited out.
"""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.conftest import env_for
from tests.integration.faults.faultkit import (
    cloud_servers,
    recorded_ids,
    servers_spec,
    sim_stats,
    stackplan,
)


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_apply_of_30_servers_survives_faults_rate_limit_and_token_expiry(make_sim, tmp_path):
    sim = make_sim(fault_rate=0.1, rate_limit=20, token_ttl=5, build_seconds=3, seed=1234)
    env = env_for(sim.url)
    spec = servers_spec(tmp_path, 30)
    state = tmp_path / "faults.json"

    done = stackplan(
        ["apply", "--auto-approve", "-f", str(spec), "--state", str(state)], env, debug=True
    )
    stats = sim_stats(sim.url)

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Apply complete! Resources: 30 added" in done.stdout
    assert "Traceback" not in done.stderr
    servers = cloud_servers(env)
    recorded = recorded_ids(state)
    assert len(servers) == 30
    assert sorted(s.id for s in servers) == sorted(recorded.values())
    assert len(recorded) == 30
    per_address = Counter(s.metadata["stackplan:address"] for s in servers)
    assert per_address == Counter({f"server.node[{i}]": 1 for i in range(30)})

    # The storm really blew: faults and 429s were answered, and tokens were renewed.
    statuses = stats["statuses"]
    faults = statuses.get("500", 0) + statuses.get("503", 0)
    assert faults > 0 and statuses.get("429", 0) >= 0
    assert stats["routes"]["POST /identity/v3/auth/tokens"] >= 2  # renewed mid-apply
    retries = len(re.findall(r"^DEBUG stackplan\.http: RETRY ", done.stderr, re.M))
    create_retries = (done.stdout + done.stderr).count("retrying (attempt")
    assert retries + create_retries > 0
    print(
        f"\nfault storm: {stats['total']} requests, statuses {statuses}, "
        f"{retries} HTTP retries, {create_retries} create retries after a tag check, "
        f"{stats['routes']['POST /identity/v3/auth/tokens']} tokens issued"
    )
