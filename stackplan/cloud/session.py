"""`Session`: authenticated requests — the token workflow of the classic API guide.

Sends `X-Auth-Token`, renews the token shortly before it expires, and on a 401 gets one
new token and retries once. Threads share one token and one renewal at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from typing import Any

from stackplan.cloud.auth import Authenticator, Token
from stackplan.cloud.config import CloudConfig
from stackplan.cloud.http import HttpClient, HttpResponse
from stackplan.errors import AuthError, CloudError


class Session:
    """Authenticated requests to the services of one cloud."""

    def __init__(self, config: CloudConfig, http: HttpClient, auth: Authenticator | None = None):
        self.config = config
        self.http = http
        self.auth = auth or Authenticator(config, http)
        self._token: Token | None = None
        self._lock = threading.Lock()
        self.renewals = 0  # tokens obtained after the first, for tests and --debug

    # -- token ---------------------------------------------------------------------------

    def token(self) -> Token:
        """A token that is not about to expire; renewed (by one thread) when it is."""
        current = self._token
        if current is not None and not current.needs_renewal():
            return current
        return self._renew(stale=current, only_if_due=True)

    def invalidate(self, stale: Token) -> Token:
        """The cloud refused `stale`: get a new token, unless another thread already did."""
        return self._renew(stale=stale, only_if_due=False)

    def _renew(self, stale: Token | None, only_if_due: bool) -> Token:
        with self._lock:
            current = self._token
            if current is not None and current is not stale:
                return current  # another thread renewed while we waited for the lock
            if current is not None and only_if_due and not current.needs_renewal():
                return current
            fresh = self.auth.authenticate()
            if self._token is not None:
                self.renewals += 1
            self._token = fresh
            return fresh

    # -- endpoints -----------------------------------------------------------------------

    def endpoint(self, service_type: str) -> str:
        """The URL of a service: the configured override, else the token's catalog."""
        override = self.config.endpoint_overrides.get(service_type)
        token = self.token()
        if override:
            return override.replace("%(project_id)s", token.project_id or "").replace(
                "%(user_id)s", token.user_id or ""
            )
        return token.catalog.endpoint(
            service_type, self.config.interface, self.config.region_name
        ).rstrip("/")

    # -- requests ------------------------------------------------------------------------

    def request(
        self,
        method: str,
        url: str,
        *,
        json_body: Any = None,
        params: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
        retry_safe: bool | None = None,
    ) -> HttpResponse:
        """Send with the current token; on a 401, one new token and one retry."""
        token = self.token()
        try:
            return self._send(token, method, url, json_body, params, headers, retry_safe)
        except CloudError as exc:
            if exc.status != 401:
                raise
        fresh = self.invalidate(token)
        try:
            return self._send(fresh, method, url, json_body, params, headers, retry_safe)
        except CloudError as exc:
            if exc.status != 401:
                raise
            raise AuthError(
                f"the cloud refused a freshly issued token for {method} {exc.path}",
                method=exc.method,
                path=exc.path,
                status=exc.status,
                request_id=exc.request_id,
                hint="the user may lack a role on the project, or the service does not "
                "trust this Keystone; check with `openstack token issue`",
            ) from exc

    def _send(self, token, method, url, json_body, params, headers, retry_safe) -> HttpResponse:
        merged = {**(headers or {}), "X-Auth-Token": token.value.reveal()}
        return self.http.request(
            method, url, json_body=json_body, params=params, headers=merged, retry_safe=retry_safe
        )
