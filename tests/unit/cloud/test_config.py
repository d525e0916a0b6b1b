"""Cloud configuration: OS_* variables, clouds.yaml + secure.yaml, OS_CLOUD / --cloud."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackplan.cloud.config import load_config
from stackplan.cloud.secret import Secret
from stackplan.errors import ConfigError

OPENRC = {
    "OS_AUTH_URL": "http://203.0.113.10:5000/v3",
    "OS_IDENTITY_API_VERSION": "3",
    "OS_USERNAME": "alice",
    "OS_PASSWORD": "s3cret",
    "OS_PROJECT_NAME": "webapps",
    "OS_USER_DOMAIN_NAME": "Default",
    "OS_PROJECT_DOMAIN_NAME": "Default",
    "OS_REGION_NAME": "RegionOne",
}

CLOUDS = """
clouds:
  sim:
    auth:
      auth_url: http://127.0.0.1:5555/identity
      username: demo
      project_name: demo
    region_name: RegionOne
    compute_endpoint_override: http://127.0.0.1:5555/compute/v2.1/%(project_id)s
  prod:
    auth_type: v2password
    auth:
      auth_url: http://prod.example:5000/v2.0
      username: ops
      password: from-clouds
      project_name: ops
"""
SECURE = """
clouds:
  sim:
    auth:
      password: from-secure
"""


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text)
    return path


def test_env_only_builds_the_envvars_cloud(tmp_path):
    config = load_config(env=OPENRC, search_dirs=[tmp_path])
    assert config.name == "envvars"
    assert config.auth_url == "http://203.0.113.10:5000/v3"
    assert config.username == "alice"
    assert config.password == Secret("s3cret")
    assert config.project_name == "webapps"
    assert config.user_domain_name == "Default"
    assert config.identity_api_version == "3"
    assert config.region_name == "RegionOne"
    assert config.interface == "public"


def test_password_is_a_secret_and_never_printed(tmp_path):
    config = load_config(env=OPENRC, search_dirs=[tmp_path])
    assert isinstance(config.password, Secret)
    assert "s3cret" not in repr(config)
    assert "s3cret" not in str(config.password) + f"{config.password}"
    assert config.password.reveal() == "s3cret"


def test_legacy_tenant_and_endpoint_type_spellings(tmp_path):
    env = {
        "OS_AUTH_URL": "http://h:5000/v2.0",
        "OS_USERNAME": "u",
        "OS_PASSWORD": "p",
        "OS_TENANT_NAME": "t",
        "OS_ENDPOINT_TYPE": "internalURL",
    }
    config = load_config(env=env, search_dirs=[tmp_path])
    assert config.project_name == "t"
    assert config.interface == "internal"


def test_clouds_yaml_merged_with_secure_yaml(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    write(tmp_path, "secure.yaml", SECURE)
    config = load_config("sim", env={}, search_dirs=[tmp_path])
    assert config.name == "sim"
    assert config.password.reveal() == "from-secure"
    assert config.username == "demo"
    assert config.endpoint_overrides["compute"].endswith("/%(project_id)s")
    assert "clouds.yaml" in config.source


def test_os_cloud_selects_the_cloud(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    config = load_config(env={"OS_CLOUD": "prod"}, search_dirs=[tmp_path])
    assert config.name == "prod"
    assert config.identity_api_version == "2.0"
    assert config.auth_type == "password"


def test_cloud_argument_wins_over_os_cloud(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    write(tmp_path, "secure.yaml", SECURE)
    config = load_config("sim", env={"OS_CLOUD": "prod"}, search_dirs=[tmp_path])
    assert config.name == "sim"


def test_exported_variables_override_the_clouds_yaml_entry(tmp_path):
    # python-openstackclient layers OS_* over the chosen cloud.
    write(tmp_path, "clouds.yaml", CLOUDS)
    env = {"OS_CLOUD": "prod", "OS_REGION_NAME": "RegionTwo", "OS_PASSWORD": "from-env"}
    config = load_config(env=env, search_dirs=[tmp_path])
    assert config.region_name == "RegionTwo"
    assert config.password.reveal() == "from-env"


def test_command_line_overrides_win_over_everything(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    env = {"OS_CLOUD": "prod", "OS_REGION_NAME": "RegionTwo"}
    config = load_config(env=env, search_dirs=[tmp_path], overrides={"region_name": "Three"})
    assert config.region_name == "Three"


def test_env_cloud_wins_over_a_clouds_yaml_when_no_cloud_is_named(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    config = load_config(env=OPENRC, search_dirs=[tmp_path])
    assert config.name == "envvars"


def test_the_only_cloud_is_used_when_none_is_named(tmp_path):
    write(
        tmp_path,
        "clouds.yaml",
        SECURE.replace(
            "password: from-secure", "password: p\n      auth_url: http://h/v3\n      username: u"
        ),
    )
    config = load_config(env={}, search_dirs=[tmp_path])
    assert config.name == "sim"


def test_os_client_config_file_is_searched_first(tmp_path):
    write(tmp_path / "first", "clouds.yaml", CLOUDS)
    explicit = write(tmp_path / "elsewhere", "mine.yaml", CLOUDS.replace("prod:", "mine:"))
    env = {"OS_CLIENT_CONFIG_FILE": str(explicit), "OS_CLOUD": "mine"}
    config = load_config(env=env, search_dirs=[tmp_path / "first"])
    assert config.name == "mine"


def test_first_directory_wins_without_merging(tmp_path):
    write(tmp_path / "a", "clouds.yaml", CLOUDS.replace("prod:", "onlyina:"))
    write(tmp_path / "b", "clouds.yaml", CLOUDS)
    with pytest.raises(ConfigError) as err:
        load_config("prod", env={}, search_dirs=[tmp_path / "a", tmp_path / "b"])
    assert "onlyina" in err.value.message


def test_nothing_configured_says_what_is_needed_and_how_to_try(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(env={"OS_REGION_NAME": "RegionOne"}, search_dirs=[tmp_path])
    text = err.value.render()
    assert "OS_AUTH_URL" in text and "OS_PASSWORD" in text and "clouds.yaml" in text
    assert "stackplan sim env" in text


def test_unknown_cloud_lists_the_clouds_there(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    with pytest.raises(ConfigError) as err:
        load_config("staging", env={}, search_dirs=[tmp_path])
    assert "'staging'" in err.value.message
    assert "prod, sim" in err.value.message


def test_named_cloud_without_any_clouds_yaml(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config("sim", env={}, search_dirs=[tmp_path])
    assert "no clouds.yaml" in err.value.message


def test_broken_yaml_names_file_and_line(tmp_path):
    path = write(tmp_path, "clouds.yaml", "clouds:\n  sim:\n    auth: [unclosed\n")
    with pytest.raises(ConfigError) as err:
        load_config("sim", env={}, search_dirs=[tmp_path])
    assert str(path) in err.value.where
    assert "not valid YAML" in err.value.message


def test_several_clouds_and_none_chosen(tmp_path):
    write(tmp_path, "clouds.yaml", CLOUDS)
    with pytest.raises(ConfigError) as err:
        load_config(env={}, search_dirs=[tmp_path])
    assert "prod, sim" in err.value.message
    assert "OS_CLOUD" in err.value.hint


def test_missing_password_is_named(tmp_path):
    env = {"OS_AUTH_URL": "http://h/v3", "OS_USERNAME": "u"}
    with pytest.raises(ConfigError) as err:
        load_config(env=env, search_dirs=[tmp_path])
    assert "password (OS_PASSWORD)" in err.value.message


def test_token_credentials(tmp_path):
    env = {"OS_AUTH_URL": "http://h/v3", "OS_TOKEN": "gAAAA-token", "OS_PROJECT_ID": "p1"}
    config = load_config(env=env, search_dirs=[tmp_path])
    assert config.auth_type == "token"
    assert isinstance(config.token, Secret)
    assert "gAAAA" not in repr(config)


def test_endpoint_override_from_env_and_tls_options(tmp_path):
    env = {
        **OPENRC,
        "OS_COMPUTE_ENDPOINT_OVERRIDE": "http://nova.example/v2.1",
        "OS_CACERT": "/etc/ssl/ca.pem",
    }
    config = load_config(env=env, search_dirs=[tmp_path])
    assert config.endpoint_overrides == {"compute": "http://nova.example/v2.1"}
    assert config.verify == "/etc/ssl/ca.pem"
    insecure = load_config(env={**env, "OS_INSECURE": "True"}, search_dirs=[tmp_path])
    assert insecure.verify is False


def test_region_must_be_one_of_the_listed_regions(tmp_path):
    text = CLOUDS.replace("region_name: RegionOne", "regions: [RegionOne, RegionTwo]")
    write(tmp_path, "clouds.yaml", text)
    write(tmp_path, "secure.yaml", SECURE)
    assert load_config("sim", env={}, search_dirs=[tmp_path]).region_name == "RegionOne"
    with pytest.raises(ConfigError):
        load_config("sim", env={"OS_REGION_NAME": "Nowhere"}, search_dirs=[tmp_path])


def test_unsupported_auth_type(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(env={**OPENRC, "OS_AUTH_TYPE": "v3totp"}, search_dirs=[tmp_path])
    assert "v3totp" in err.value.message


def test_config_is_frozen(tmp_path):
    config = load_config(env=OPENRC, search_dirs=[tmp_path])
    with pytest.raises(AttributeError):
        config.username = "mallory"  # type: ignore[misc]
