"""Request and response values passed between the HTTP server and the service handlers.

Handlers never touch sockets: they take a `Request` and return a `Response` or raise
`ApiError`, so routing, auth, stats and fault injection stay in one place (`app.py`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

# Nova names its error envelope after the status (compute-api.md 2.1).
_NOVA_NAMES = {
    400: "badRequest",
    401: "unauthorized",
    403: "forbidden",
    404: "itemNotFound",
    405: "badMethod",
    409: "conflictingRequest",
    413: "overLimit",
    415: "badMediaType",
    429: "overLimit",
    501: "notImplemented",
    503: "serviceUnavailable",
}
_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    406: "Not Acceptable",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


@dataclass(frozen=True, slots=True)
class Request:
    """One parsed HTTP request; `base` is the scheme://host:port clients reached us on."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]  # keys lower-cased
    body: bytes
    base: str
    params: dict[str, str] = field(default_factory=dict)  # from the route pattern
    root: str = ""  # the service root as the client spelled it (Nova links keep a project id)
    version: tuple[int, int] = (2, 1)  # the negotiated compute microversion
    token: Any = None  # the caller's `identity.Token`, set by the auth check
    request_id: str = ""  # `req-<uuid>`, sent back as x-openstack-request-id

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def arg(self, name: str) -> str | None:
        """The last value of a query parameter (Nova and Glance take the last one)."""
        values = self.query.get(name)
        return values[-1] if values else None

    def json(self) -> Any:
        if not self.body:
            return None
        try:
            return json.loads(self.body)
        except ValueError:
            raise ApiError(400, "Malformed request body") from None

    def url_with(self, path: str, **changes: str) -> str:
        """`path` on our base URL with the current query plus `changes` (for next links)."""
        query = {k: v[-1] for k, v in self.query.items()}
        query.update(changes)
        return f"{self.base}{path}?{urlencode(sorted(query.items()))}"


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    body: Any = None  # JSON-serialisable, or None for an empty body
    headers: dict[str, str] = field(default_factory=dict)


class ApiError(Exception):
    """An API error; `app.py` renders it in the envelope of the service it came from."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def nova_error_body(status: int, message: str, extra: dict[str, Any] | None = None) -> Any:
    inner: dict[str, Any] = {"code": status, "message": message, **(extra or {})}
    return {_NOVA_NAMES.get(status, "computeFault"): inner}


def keystone_error_body(status: int, message: str) -> Any:
    title = _TITLES.get(status, "Error")
    return {"error": {"code": status, "title": title, "message": message}}


def glance_error_body(status: int, message: str) -> Any:
    # Glance answers plain webob errors; this JSON form is what its JSON fault wrapper sends.
    title = _TITLES.get(status, "Error")
    return {"code": status, "title": title, "message": message}
