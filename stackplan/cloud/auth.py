"""Keystone: credentials → `Token` (value, expiry, catalog), over v2.0 or v3.

Picks the identity version (configured, the URL's suffix, or discovery on an unversioned
URL), builds the token request, reads the answer. Knows nothing of renewal: that is the
`Session`'s job.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from stackplan.clock import utc_now
from stackplan.cloud.catalog import Catalog
from stackplan.cloud.config import CloudConfig
from stackplan.cloud.http import HttpClient
from stackplan.cloud.secret import Secret
from stackplan.errors import AuthError, CloudError, ConfigError

MIN_TOKEN_LIFE = 120.0  # seconds; keystoneauth's MIN_TOKEN_LIFE_SECONDS


@dataclass(frozen=True, slots=True)
class Token:
    """An issued token: its value, when it expires, and the catalog that came with it.

    `deadline` is on the `time.monotonic()` clock: the token's lifetime as the cloud
    stated it, counted from when we received it, so clock skew cannot fool us.
    """

    value: Secret
    expires_at: datetime
    catalog: Catalog
    deadline: float
    lifetime: float  # seconds from receipt to expiry
    version: str  # "3" or "2.0"
    project_id: str | None = None
    user_id: str | None = None

    def renew_margin(self) -> float:
        """Renew this long before expiry: 120 s, or half the lifetime of a short token."""
        return min(MIN_TOKEN_LIFE, self.lifetime / 2)

    def needs_renewal(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        return now >= self.deadline - self.renew_margin()


def parse_time(text: str) -> datetime:
    """Keystone's `2031-05-04T13:00:00.000000Z` (or without fraction, or with an offset)."""
    value = text.strip().replace("Z", "+00:00")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class Authenticator:
    """Obtains tokens for one `CloudConfig`; version discovery happens once and is kept."""

    def __init__(self, config: CloudConfig, http: HttpClient):
        self.config = config
        self.http = http
        self._version: tuple[str, str] | None = None  # (version, versioned root URL)
        self._lock = threading.Lock()
        for secret in (config.password, config.token):
            if secret:
                http.register_secret(secret.reveal())

    def authenticate(self) -> Token:
        """Ask Keystone for a new token with the configured credentials."""
        version, root = self.version_root()
        self._check_scope(version)
        if version == "3":
            return self._v3(root)
        return self._v2(root)

    # -- version -------------------------------------------------------------------------

    def version_root(self) -> tuple[str, str]:
        """("3" | "2.0", the versioned identity URL) — from the config, the URL or discovery."""
        with self._lock:
            if self._version is None:
                self._version = self._pick_version()
            return self._version

    def _pick_version(self) -> tuple[str, str]:
        url = self.config.auth_url.rstrip("/")
        wanted = self.config.identity_api_version
        last = urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]
        if last in ("v3", "v2.0"):
            suffix = last[1:]
            if wanted and wanted != suffix:
                raise ConfigError(
                    f"OS_IDENTITY_API_VERSION is {wanted} but OS_AUTH_URL {url} ends in /{last}",
                    hint="make them agree, or drop the version from the URL",
                )
            return (suffix, url)
        found = self._discover(url)
        if wanted:
            if wanted in found:
                return (wanted, found[wanted])
            return (wanted, f"{url}/{'v3' if wanted == '3' else 'v2.0'}")
        if not found:
            raise AuthError(
                f"could not find the identity API versions at {url}",
                hint="set OS_IDENTITY_API_VERSION=3 or end OS_AUTH_URL with /v3 or /v2.0",
            )
        # keystoneauth's generic plugins: oldest first, but v2.0 cannot carry domains.
        uses_domains = any(
            (
                self.config.user_domain_name,
                self.config.user_domain_id,
                self.config.project_domain_name,
                self.config.project_domain_id,
                self.config.domain_name,
                self.config.domain_id,
            )
        )
        order = ("3", "2.0") if uses_domains else ("2.0", "3")
        for version in order:
            if version in found:
                return (version, found[version])
        raise AuthError(f"the identity service at {url} offers neither v3 nor v2.0")

    def _discover(self, url: str) -> dict[str, str]:
        try:
            response = self.http.request("GET", url)
            data = response.json()
        except CloudError:
            return {}
        versions = data.get("versions") if isinstance(data, dict) else None
        if isinstance(versions, dict):
            entries = versions.get("values") or []
        elif isinstance(versions, list):
            entries = versions
        elif isinstance(data, dict) and isinstance(data.get("version"), dict):
            entries = [data["version"]]
        else:
            return {}
        found: dict[str, str] = {}
        for entry in entries:
            status = str(entry.get("status", "")).lower()
            if status not in ("stable", "current", "supported", "deprecated"):
                continue
            href = next(
                (
                    link.get("href")
                    for link in entry.get("links") or []
                    if link.get("rel") == "self"
                ),
                None,
            )
            ident = str(entry.get("id", ""))
            if not href:
                continue
            if ident.startswith("v3"):
                found.setdefault("3", href.rstrip("/"))
            elif ident.startswith("v2.0"):
                found.setdefault("2.0", href.rstrip("/"))
        return found

    # -- requests ------------------------------------------------------------------------

    def _check_scope(self, version: str) -> None:
        c = self.config
        if version == "2.0" and c.project_name and c.project_id:
            raise ConfigError(
                "both a project (tenant) name and a project ID are set; Keystone v2.0 "
                "accepts only one of tenantName and tenantId",
                hint="unset OS_PROJECT_NAME/OS_TENANT_NAME or OS_PROJECT_ID/OS_TENANT_ID",
            )

    def _v3(self, root: str) -> Token:
        c = self.config
        if c.auth_type == "token":
            identity: dict[str, Any] = {
                "methods": ["token"],
                "token": {"id": _reveal(c.token)},
            }
        else:
            user: dict[str, Any] = {"password": _reveal(c.password)}
            if c.user_id:
                user["id"] = c.user_id
            else:
                user["name"] = c.username
                user["domain"] = _domain(c.user_domain_id, c.user_domain_name, c.default_domain)
            identity = {"methods": ["password"], "password": {"user": user}}
        body: dict[str, Any] = {"auth": {"identity": identity}}
        scope = self._v3_scope()
        if scope is not None:
            body["auth"]["scope"] = scope
        url = f"{root}/auth/tokens"
        headers = {"X-Auth-Token": _reveal(c.token)} if c.auth_type == "token" else {}
        response = self._post(url, body, headers)
        value = response.headers.get("x-subject-token")
        data = response.json() or {}
        token = data.get("token") if isinstance(data, dict) else None
        if not value or not isinstance(token, dict) or "expires_at" not in token:
            raise AuthError(
                f"Keystone at {url} answered without a token (no X-Subject-Token or expires_at)",
                method="POST",
                path=urlsplit(url).path,
                status=response.status,
                request_id=response.request_id,
            )
        return self._token(
            value,
            token["expires_at"],
            token.get("issued_at"),
            Catalog.from_v3(token.get("catalog")),
            "3",
            (token.get("project") or {}).get("id"),
            (token.get("user") or {}).get("id"),
        )

    def _v3_scope(self) -> dict[str, Any] | None:
        c = self.config
        if c.project_id:
            return {"project": {"id": c.project_id}}
        if c.project_name:
            domain = _domain(c.project_domain_id, c.project_domain_name, c.default_domain)
            return {"project": {"name": c.project_name, "domain": domain}}
        if c.domain_id:
            return {"domain": {"id": c.domain_id}}
        if c.domain_name:
            return {"domain": {"name": c.domain_name}}
        return None

    def _v2(self, root: str) -> Token:
        c = self.config
        auth: dict[str, Any]
        headers: dict[str, str] = {}
        if c.auth_type == "token":
            auth = {"token": {"id": _reveal(c.token)}}
            headers["X-Auth-Token"] = _reveal(c.token)
        else:
            creds = {"password": _reveal(c.password)}
            if c.username:
                creds["username"] = c.username
            else:
                creds["userId"] = c.user_id or ""
            auth = {"passwordCredentials": creds}
        if c.project_id:
            auth["tenantId"] = c.project_id
        elif c.project_name:
            auth["tenantName"] = c.project_name
        url = f"{root}/tokens"
        response = self._post(url, {"auth": auth}, headers)
        data = response.json() or {}
        access = data.get("access") if isinstance(data, dict) else None
        token = (access or {}).get("token") or {}
        if not token.get("id") or not token.get("expires"):
            raise AuthError(
                f"Keystone at {url} answered without access.token (id and expires)",
                method="POST",
                path=urlsplit(url).path,
                status=response.status,
                request_id=response.request_id,
            )
        return self._token(
            token["id"],
            token["expires"],
            token.get("issued_at"),
            Catalog.from_v2(access.get("serviceCatalog")),
            "2.0",
            (token.get("tenant") or {}).get("id"),
            (access.get("user") or {}).get("id"),
        )

    def _post(self, url: str, body: dict[str, Any], headers: dict[str, str]):
        try:
            # Asking for a token twice is harmless, so a token POST may be retried.
            return self.http.request("POST", url, json_body=body, headers=headers, retry_safe=True)
        except AuthError:
            raise
        except CloudError as exc:
            if exc.status in (400, 401, 403, 404):
                raise self._refused(url, exc) from exc
            raise

    def _refused(self, url: str, exc: CloudError) -> AuthError:
        c = self.config
        # Keystone answers a wrong password 401; a 404 means no Keystone at that URL (for
        # token credentials it also means an unknown or expired token, handled below).
        if exc.status == 404 and c.auth_type != "token":
            message = f"No Keystone identity service answers at {url} (404)"
            hint = (
                f"check the auth URL (from {c.source}); it names the identity endpoint, "
                "e.g. https://keystone.example.com:5000/v3 or .../identity/v3"
            )
        elif c.auth_type == "token":
            message = f"The cloud refused the token at {url} ({exc.status})"
            hint = (
                "the token may have expired or been revoked; get a new one "
                "(`openstack token issue`) or use a password"
            )
        else:
            message = (
                f"The cloud refused the credentials for user {c.user_label} at {url} ({exc.status})"
            )
            hint = (
                "check the user name, password and project "
                f"(from {c.source}); the cloud said: {exc.message}"
            )
        return AuthError(
            message,
            method=exc.method,
            path=exc.path,
            status=exc.status,
            request_id=exc.request_id,
            hint=hint,
        )

    def _token(
        self,
        value: str,
        expires: str,
        issued: str | None,
        catalog: Catalog,
        version: str,
        project_id: str | None,
        user_id: str | None,
    ) -> Token:
        received = time.monotonic()
        expires_at = parse_time(expires)
        remaining = (expires_at - utc_now()).total_seconds()
        if issued:
            # The stated lifetime bounds what is left; when our clock runs ahead of the
            # cloud's (the token looks expired on arrival) it is all we can go by.
            stated = (expires_at - parse_time(issued)).total_seconds()
            remaining = min(remaining, stated) if remaining > 0 else stated
        lifetime = max(remaining, 0.0)
        self.http.register_secret(value)
        return Token(
            Secret(value),
            expires_at,
            catalog,
            received + lifetime,
            lifetime,
            version,
            project_id,
            user_id,
        )


def _domain(domain_id: str | None, domain_name: str | None, default: str) -> dict[str, str]:
    if domain_id:
        return {"id": domain_id}
    if domain_name:
        return {"name": domain_name}
    return {"id": default}


def _reveal(secret: Secret | None) -> str:
    return secret.reveal() if secret else ""
