"""Keystone over real HTTP: v2.0 and v3, password and token, renewal, 401, threads."""

from __future__ import annotations

import threading
import time

import pytest

from stackplan.cloud import ConnectOptions, connect, load_config
from stackplan.errors import AuthError, ConfigError
from tests.conftest import env_for


def test_v3_password(sim, sim_env, cloud_for):
    cloud = cloud_for(sim_env)
    token = cloud.session.token()
    assert token.version == "3"
    assert token.project_id
    assert cloud.compute.endpoint == f"{sim.url}/compute/v2.1"
    assert cloud.compute.list_flavors()


def test_v2_password_uses_the_classic_tokens_call(sim, cloud_for, stats_of):
    before = stats_of(sim.url).route("POST /identity/v2.0/tokens")
    cloud = cloud_for(env_for(sim.url, v2=True))
    token = cloud.session.token()
    assert token.version == "2.0"
    # v2 catalogs carry the project in the compute URL, as the classic guide shows.
    assert cloud.compute.endpoint.endswith(f"/compute/v2.1/{token.project_id}")
    assert {f.name for f in cloud.compute.list_flavors()} >= {"m1.tiny", "m1.small"}
    assert stats_of(sim.url).route("POST /identity/v2.0/tokens") == before + 1


def test_unversioned_url_is_discovered(sim, cloud_for):
    base = {
        "OS_AUTH_URL": f"{sim.url}/identity",
        "OS_USERNAME": "demo",
        "OS_PASSWORD": "secret",
        "OS_PROJECT_NAME": "demo",
    }
    # Like keystoneauth: oldest first without domain information ...
    assert cloud_for(base).session.token().version == "2.0"
    # ... v3 as soon as a domain is given, or when the version is set.
    with_domain = {**base, "OS_USER_DOMAIN_NAME": "Default"}
    assert cloud_for(with_domain).session.token().version == "3"
    assert cloud_for({**base, "OS_IDENTITY_API_VERSION": "3"}).session.token().version == "3"


@pytest.mark.parametrize("v2", [False, True])
def test_token_credentials(sim, cloud_for, v2):
    password_cloud = cloud_for(env_for(sim.url, v2=v2))
    issued = password_cloud.session.token().value.reveal()
    env = {
        "OS_AUTH_URL": env_for(sim.url, v2=v2)["OS_AUTH_URL"],
        "OS_TOKEN": issued,
        "OS_PROJECT_NAME": "demo",
        "OS_PROJECT_DOMAIN_NAME": "Default",
    }
    if v2:
        del env["OS_PROJECT_DOMAIN_NAME"]
    cloud = cloud_for(env)
    assert cloud.config.auth_type == "token"
    assert cloud.session.token().version == ("2.0" if v2 else "3")
    assert cloud.compute.get_limits().max_instances != 0


def test_wrong_password_is_refused_with_a_hint(sim, sim_env):
    env = {**sim_env, "OS_PASSWORD": "wrong"}
    with pytest.raises(AuthError) as err:
        connect(load_config(env=env, search_dirs=[]))
    text = err.value.render()
    assert (
        "The cloud refused the credentials for user demo at "
        f"{sim.url}/identity/v3/auth/tokens (401)"
    ) in text
    assert "hint:" in text
    assert "wrong" not in text


def test_tenant_name_and_id_together_are_refused_before_sending(sim, stats_of):
    env = {**env_for(sim.url, v2=True), "OS_TENANT_ID": "d0000000000000000000000000000001"}
    env.pop("OS_PROJECT_NAME")
    stats = stats_of(sim.url)
    before = stats.route("POST /identity/v2.0/tokens")
    with pytest.raises(ConfigError) as err:
        connect(load_config(env=env, search_dirs=[]))
    assert "tenantName and tenantId" in err.value.message
    assert stats.route("POST /identity/v2.0/tokens") == before


@pytest.mark.slow
def test_short_token_is_renewed_without_the_user_noticing(make_sim, cloud_for, stats_of):
    handle = make_sim(token_ttl=2)
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url))
    deadline = time.monotonic() + 5
    calls = 0
    while time.monotonic() < deadline:
        cloud.compute.get_limits()
        calls += 1
        time.sleep(0.05)
    posts = stats.token_posts()
    # Renewed (more than one token) but not on every request.
    assert 3 <= posts <= 12 < calls
    assert cloud.session.renewals == posts - 1
    assert stats.status(401) <= 1  # an expired token is sent at most once


def test_a_401_gets_one_new_token_and_one_retry(make_sim, cloud_for, stats_of):
    handle = make_sim()
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url))
    revoke(cloud)
    cloud.compute.list_flavors()
    assert stats.token_posts() == 2
    assert stats.status(401) == 1
    assert stats.route("GET /compute/v2.1/flavors/detail") == 2  # the refused one, the retry


def test_threads_share_one_renewal(make_sim, cloud_for, stats_of):
    handle = make_sim()
    stats = stats_of(handle.url)
    cloud = cloud_for(env_for(handle.url))
    cloud.compute.microversion  # noqa: B018 - negotiate before the threads start
    revoke(cloud)
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def work() -> None:
        try:
            barrier.wait()
            cloud.compute.get_limits()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert stats.token_posts() == 2  # the first token and exactly one renewal
    assert cloud.session.renewals == 1


def test_expired_token_credentials_fail_clearly(make_sim, cloud_for):
    handle = make_sim(token_ttl=1)
    issued = cloud_for(env_for(handle.url)).session.token().value.reveal()
    time.sleep(1.2)
    env = {
        "OS_AUTH_URL": f"{handle.url}/identity/v3",
        "OS_TOKEN": issued,
        "OS_PROJECT_NAME": "demo",
        "OS_PROJECT_DOMAIN_NAME": "Default",
    }
    with pytest.raises(AuthError) as err:
        connect(load_config(env=env, search_dirs=[]), ConnectOptions())
    assert "refused the token" in err.value.message
    assert "expired" in err.value.hint
    assert issued not in err.value.render()


def revoke(cloud) -> None:
    """Revoke the session's current token behind its back (DELETE /v3/auth/tokens)."""
    value = cloud.session.token().value.reveal()
    cloud.http.request(
        "DELETE",
        cloud.session.auth.version_root()[1] + "/auth/tokens",
        headers={"X-Auth-Token": value, "X-Subject-Token": value},
    )
