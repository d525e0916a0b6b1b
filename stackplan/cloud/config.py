"""Cloud configuration: `OS_*` variables and clouds.yaml/secure.yaml → one `CloudConfig`.

Follows python-openstackclient: the cloud is chosen by `--cloud`, then `OS_CLOUD`, then
the environment's own cloud, then the only cloud in clouds.yaml; exported `OS_*`
variables override the chosen clouds.yaml entry; `--cloud`-level overrides win over all.
Reads files and the environment only; it sends nothing.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from stackplan.cloud.secret import Secret
from stackplan.errors import ConfigError

CONFIG_NAMES = ("clouds.yaml", "clouds.yml", "clouds.json")
SECURE_NAMES = ("secure.yaml", "secure.yml", "secure.json")
# Variables that choose a cloud or a file but do not by themselves describe one (7.1).
SELECTORS = frozenset(
    {
        "OS_CLOUD",
        "OS_CLOUD_NAME",
        "OS_REGION_NAME",
        "OS_CLIENT_CONFIG_FILE",
        "OS_CLIENT_SECURE_FILE",
    }
)
SUPPORTED_AUTH_TYPES = frozenset(
    {"password", "token", "v2password", "v3password", "v2token", "v3token"}
)
_AUTH_KEYS = (
    "auth_url",
    "username",
    "user_id",
    "password",
    "token",
    "project_name",
    "project_id",
    "user_domain_name",
    "user_domain_id",
    "project_domain_name",
    "project_domain_id",
    "domain_name",
    "domain_id",
    "default_domain_id",
    "default_domain_name",
)
_TRY_IT = (
    "to try stackplan against the embedded cloud: `stackplan sim serve` then "
    "`eval $(stackplan sim env)`"
)


@dataclass(frozen=True, slots=True)
class CloudConfig:
    """Everything needed to reach one cloud. Password and token are `Secret`s."""

    auth_url: str
    name: str = "envvars"  # the clouds.yaml entry, or "envvars" for the OS_* variables
    source: str = "environment"  # where it came from, for messages
    auth_type: str = "password"  # "password" or "token" (the version is separate)
    username: str | None = None
    user_id: str | None = None
    password: Secret | None = None
    token: Secret | None = None
    project_name: str | None = None
    project_id: str | None = None
    user_domain_name: str | None = None
    user_domain_id: str | None = None
    project_domain_name: str | None = None
    project_domain_id: str | None = None
    domain_name: str | None = None  # domain scope when no project is given
    domain_id: str | None = None
    default_domain: str = "default"  # OSC fills missing v3 domains with this id
    identity_api_version: str | None = None  # "3", "2.0" or None (URL suffix / discovery)
    region_name: str | None = None
    interface: str = "public"
    endpoint_overrides: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    compute_api_version: str | None = None  # a cap on the negotiated microversion
    verify: bool | str = True  # False, True or a CA bundle path
    cert: str | tuple[str, str] | None = None
    connect_timeout: float = 10.0
    read_timeout: float = 60.0

    @property
    def user_label(self) -> str:
        return self.username or self.user_id or "(token)"


def load_config(
    cloud: str | None = None,
    *,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    search_dirs: Sequence[Path] | None = None,
) -> CloudConfig:
    """The configuration of the cloud to use: `cloud` (--cloud) or OS_CLOUD, or OS_*.

    `overrides` are command-line values (keys as in clouds.yaml, e.g. `region_name`);
    `env` defaults to `os.environ`, `search_dirs` to the usual places (7.3).
    """
    env = dict(os.environ if env is None else env)
    dirs = list(search_dirs) if search_dirs is not None else default_search_dirs(env)
    name = cloud or env.get("OS_CLOUD") or None
    env_values = env_settings(env)
    has_env_cloud = any(k.startswith("OS_") and k not in SELECTORS and v for k, v in env.items())
    clouds_path = _first_file(env.get("OS_CLIENT_CONFIG_FILE"), dirs, CONFIG_NAMES)
    secure_path = _first_file(env.get("OS_CLIENT_SECURE_FILE"), dirs, SECURE_NAMES)

    if name:
        entry, source = _cloud_entry(name, clouds_path, secure_path, dirs)
        layers = [_flatten(entry), env_values]
    elif has_env_cloud:
        name, source = env.get("OS_CLOUD_NAME") or "envvars", "the OS_* environment variables"
        layers = [env_values]
    else:
        clouds = _clouds(clouds_path, secure_path)
        if len(clouds) == 1:
            name = next(iter(clouds))
            entry, source = _cloud_entry(name, clouds_path, secure_path, dirs)
            layers = [_flatten(entry), env_values]
        elif clouds:
            listed = ", ".join(sorted(clouds))
            raise ConfigError(
                f"{clouds_path} defines several clouds ({listed}) and none was chosen",
                hint="choose one with --cloud NAME or OS_CLOUD=NAME",
            )
        else:
            raise ConfigError(_nothing_configured(dirs), hint=_TRY_IT)
    merged: dict[str, Any] = {}
    for layer in [*layers, dict(overrides or {})]:
        merged.update({k: v for k, v in layer.items() if v not in (None, "")})
    return _build(name, source, merged)


def default_search_dirs(env: Mapping[str, str]) -> list[Path]:
    """Where clouds.yaml is looked for, in order (current dir, user config, system)."""
    home = Path(env.get("HOME") or Path.home())
    dirs = [Path.cwd()]
    xdg_home = env.get("XDG_CONFIG_HOME")
    if xdg_home:
        dirs.append(Path(xdg_home) / "openstack")
    dirs.append(home / ".config" / "openstack")
    for xdg_dir in (env.get("XDG_CONFIG_DIRS") or "/etc/xdg").split(":"):
        if xdg_dir:
            dirs.append(Path(xdg_dir) / "openstack")
    dirs.append(Path("/etc/openstack"))
    unique: list[Path] = []
    for d in dirs:
        if d not in unique:
            unique.append(d)
    return unique


def env_settings(env: Mapping[str, str]) -> dict[str, Any]:
    """The `OS_*` variables as clouds.yaml keys (`OS_PROJECT_NAME` → `project_name`)."""
    values: dict[str, Any] = {}
    for key, value in env.items():
        if not key.startswith("OS_") or not value or key in SELECTORS - {"OS_REGION_NAME"}:
            continue
        if key.startswith(("OS_TEST", "OS_STD", "OS_LOG")):
            continue
        values[key[3:].lower()] = value
    # Legacy spellings: tenant → project (project_* wins), endpoint_type → interface.
    for old, new in (("tenant_name", "project_name"), ("tenant_id", "project_id")):
        if old in values:
            values.setdefault(new, values.pop(old))
    if "endpoint_type" in values:
        values.setdefault("interface", values.pop("endpoint_type"))
    if "auth_plugin" in values:
        values.setdefault("auth_type", values.pop("auth_plugin"))
    if "default_domain" in values:
        values.setdefault("default_domain_id", values.pop("default_domain"))
    return values


# -- files ---------------------------------------------------------------------------------


def _first_file(explicit: str | None, dirs: Sequence[Path], names: Sequence[str]) -> Path | None:
    if explicit and Path(explicit).expanduser().is_file():
        return Path(explicit).expanduser()
    for d in dirs:
        for n in names:
            candidate = d / n
            if candidate.is_file():
                return candidate
    return None


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(
            f"{path.name} is not valid YAML: {problem}",
            where=where,
            hint="fix the file, or point OS_CLIENT_CONFIG_FILE at another one",
        ) from exc
    if data is None:
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("clouds", {}), dict):
        raise ConfigError(
            f"{path.name} must be a mapping with a `clouds:` mapping at the top", where=str(path)
        )
    return data


def _clouds(clouds_path: Path | None, secure_path: Path | None) -> dict[str, Any]:
    clouds = dict(_read_yaml(clouds_path).get("clouds") or {}) if clouds_path else {}
    if secure_path:
        secure = _read_yaml(secure_path).get("clouds") or {}
        clouds = _deep_merge(clouds, secure)
    return clouds


def _cloud_entry(
    name: str, clouds_path: Path | None, secure_path: Path | None, dirs: Sequence[Path]
) -> tuple[dict[str, Any], str]:
    if clouds_path is None:
        raise ConfigError(
            f"cloud {name!r} was requested (--cloud or OS_CLOUD) but no clouds.yaml was found",
            hint="looked in "
            + ", ".join(str(d) for d in dirs)
            + " and OS_CLIENT_CONFIG_FILE; "
            + _TRY_IT,
        )
    clouds = _clouds(clouds_path, secure_path)
    if name not in clouds:
        known = ", ".join(sorted(clouds)) or "none"
        raise ConfigError(
            f"cloud {name!r} was not found in {clouds_path} (clouds there: {known})",
            hint="pick one of those with --cloud or OS_CLOUD",
        )
    entry = clouds[name]
    if not isinstance(entry, dict):
        raise ConfigError(f"cloud {name!r} in {clouds_path} must be a mapping")
    source = f"cloud {name!r} in {clouds_path}"
    if secure_path:
        source += f" (with {secure_path})"
    return entry, source


def _deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping):
            out[key] = _deep_merge(dict(out[key]), value)
        else:
            out[key] = value
    return out


def _flatten(entry: Mapping[str, Any]) -> dict[str, Any]:
    """A clouds.yaml entry as one flat mapping; top-level keys win over `auth` (osc-lib)."""
    flat = dict(entry.get("auth") or {})
    flat.update({k: v for k, v in entry.items() if k != "auth"})
    regions = flat.pop("regions", None)
    if regions:
        names = [r if isinstance(r, str) else (r or {}).get("name") for r in regions]
        flat["_regions"] = [n for n in names if n]
    return flat


# -- building ------------------------------------------------------------------------------


def _build(name: str, source: str, values: dict[str, Any]) -> CloudConfig:
    regions = values.pop("_regions", None)
    region = values.get("region_name")
    if regions:
        if region and region not in regions:
            raise ConfigError(
                f"region {region!r} is not one of the regions of {source}: {', '.join(regions)}",
                hint="set OS_REGION_NAME (or region_name) to one of them",
            )
        region = region or regions[0]
    auth_type = str(values.get("auth_type") or "").lower()
    version = _str(values.get("identity_api_version"))
    if auth_type and auth_type not in SUPPORTED_AUTH_TYPES:
        raise ConfigError(
            f"auth type {auth_type!r} ({source}) is not supported",
            hint="stackplan supports password and token authentication "
            "(auth_type password, token, v2password, v3password, v2token, v3token)",
        )
    if auth_type[:2] in ("v2", "v3"):
        version = version or ("2.0" if auth_type.startswith("v2") else "3")
        auth_type = auth_type[2:]
    password, token = values.get("password"), values.get("token") or values.get("auth_token")
    if not auth_type:
        auth_type = "token" if token and not password else "password"
    missing = _missing(values, auth_type, password, token)
    if missing:
        raise ConfigError(
            f"the configuration from {source} lacks {', '.join(missing)}",
            hint="set the OS_* variables of an openrc file or complete the clouds.yaml entry; "
            + _TRY_IT,
        )
    verify: bool | str = _bool(values.get("verify"), True)
    if _bool(values.get("insecure"), False):
        verify = False
    if verify and values.get("cacert"):
        verify = str(Path(str(values["cacert"])).expanduser())
    cert = values.get("cert")
    if cert and values.get("key"):
        cert = (str(cert), str(values["key"]))
    timeout = values.get("api_timeout") or values.get("timeout")
    return CloudConfig(
        auth_url=str(values["auth_url"]).rstrip("/"),
        name=name,
        source=source,
        auth_type=auth_type,
        username=_str(values.get("username")),
        user_id=_str(values.get("user_id")),
        password=Secret(str(password)) if password else None,
        token=Secret(str(token)) if token else None,
        project_name=_str(values.get("project_name") or values.get("tenant_name")),
        project_id=_str(values.get("project_id") or values.get("tenant_id")),
        user_domain_name=_str(
            values.get("user_domain_name") or _project_domain(values, "domain_name")
        ),
        user_domain_id=_str(values.get("user_domain_id") or _project_domain(values, "domain_id")),
        project_domain_name=_str(
            values.get("project_domain_name") or _project_domain(values, "domain_name")
        ),
        project_domain_id=_str(
            values.get("project_domain_id") or _project_domain(values, "domain_id")
        ),
        domain_name=_str(values.get("domain_name")) if not _has_project(values) else None,
        domain_id=_str(values.get("domain_id")) if not _has_project(values) else None,
        default_domain=_str(values.get("default_domain_id")) or "default",
        identity_api_version=_normalise_version(version),
        region_name=_str(region),
        interface=_interface(values.get("interface")),
        endpoint_overrides=MappingProxyType(_overrides(values)),
        compute_api_version=_str(values.get("compute_api_version")),
        verify=verify,
        cert=cert if cert else None,
        connect_timeout=float(values.get("connect_timeout") or 10.0),
        read_timeout=float(timeout or 60.0),
    )


def _missing(values: Mapping[str, Any], auth_type: str, password: Any, token: Any) -> list[str]:
    missing = []
    if not values.get("auth_url"):
        missing.append("auth_url (OS_AUTH_URL)")
    if auth_type == "token":
        if not token:
            missing.append("token (OS_TOKEN)")
    else:
        if not (values.get("username") or values.get("user_id")):
            missing.append("username (OS_USERNAME) or user_id (OS_USER_ID)")
        if not password:
            missing.append("password (OS_PASSWORD)")
    return missing


def _nothing_configured(dirs: Sequence[Path]) -> str:
    places = ", ".join(str(d / "clouds.yaml") for d in dirs)
    return (
        "no cloud is configured. stackplan needs either the OS_* variables of an openrc "
        "file (OS_AUTH_URL, OS_USERNAME, OS_PASSWORD, OS_PROJECT_NAME, and for Keystone v3 "
        "OS_USER_DOMAIN_NAME / OS_PROJECT_DOMAIN_NAME) or a clouds.yaml chosen with "
        f"--cloud or OS_CLOUD (looked in {places} and OS_CLIENT_CONFIG_FILE)"
    )


def _has_project(values: Mapping[str, Any]) -> bool:
    return bool(values.get("project_name") or values.get("project_id"))


def _project_domain(values: Mapping[str, Any], key: str) -> Any:
    """OS_DOMAIN_* fills the missing user and project domains when a project is set."""
    return values.get(key) if _has_project(values) else None


def _overrides(values: Mapping[str, Any]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in values.items():
        if not value or not isinstance(value, str):
            continue
        for suffix in ("_endpoint_override", "_endpoint"):
            if key.endswith(suffix) and key != suffix.lstrip("_"):
                service = key[: -len(suffix)].replace("_", "-")
                if service in ("volume", "volumev2", "volumev3", "block-store"):
                    service = "block-storage"
                if suffix == "_endpoint_override" or service not in out:
                    out[service] = value
    return out


def _interface(value: Any) -> str:
    text = str(value or "public").strip()
    if text.endswith("URL"):
        text = text[:-3]
    text = text.lower()
    if text not in ("public", "internal", "admin"):
        raise ConfigError(
            f"interface {value!r} is not one of public, internal, admin",
            hint="set OS_INTERFACE (or interface in clouds.yaml) to public, internal or admin",
        )
    return text


def _normalise_version(value: str | None) -> str | None:
    if not value:
        return None
    text = value.lower().lstrip("v")
    if text in ("3", "3.0") or text.startswith("3."):
        return "3"
    if text in ("2", "2.0"):
        return "2.0"
    raise ConfigError(
        f"identity API version {value!r} is not supported",
        hint="use OS_IDENTITY_API_VERSION=3 or 2.0",
    )


def _bool(value: Any, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _str(value: Any) -> str | None:
    return None if value is None or value == "" else str(value)
