"""Where a PostgreSQL backend is: its URL as libpq takes it, the schema stackplan's tables
live in, and the URL as it may be shown (never with a password).

The spec names it (`backend: {postgresql: {url, schema}}`) or `STACKPLAN_BACKEND`
overrides it (`postgresql://user@host:5432/db?schema=infra`: `schema` is stackplan's,
the other parameters are libpq's). Passwords come from libpq (`PGPASSWORD`,
`~/.pgpass`); one written in the URL still works but is never shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from stackplan.errors import StackplanError

SCHEMES = ("postgresql", "postgres")
DEFAULT_SCHEMA = "stackplan"


@dataclass(frozen=True, slots=True)
class BackendUrl:
    dsn: str  # what libpq connects to (the password, if the URL had one, stays in here)
    safe: str  # the URL without its password, for messages and `describe`
    schema: str = DEFAULT_SCHEMA

    def __repr__(self) -> str:  # a traceback or a debug log never shows the password
        return f"BackendUrl({self.safe!r}, schema={self.schema!r})"


def is_postgres_url(text: str) -> bool:
    return urlsplit(text).scheme in SCHEMES


def parse_backend_url(text: str, schema: str | None = None) -> BackendUrl:
    """The backend at `text`; `schema` (the spec's) unless the URL's `schema=` says."""
    parts = urlsplit(text)
    if parts.scheme not in SCHEMES or (not parts.hostname and not parts.path.strip("/")):
        raise StackplanError(
            f"{_without_password(text)!r} is not a PostgreSQL URL",
            hint="write postgresql://USER@HOST:PORT/DATABASE (the password in PGPASSWORD "
            "or ~/.pgpass)",
        )
    query = parse_qsl(parts.query, keep_blank_values=True)
    chosen = [v for k, v in query if k == "schema"]
    rest = [(k, v) for k, v in query if k != "schema"]
    dsn = urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(rest), ""))
    name = (chosen[-1] if chosen else schema) or DEFAULT_SCHEMA
    return BackendUrl(dsn, _without_password(dsn), name)


def _without_password(text: str) -> str:
    parts = urlsplit(text)
    if parts.password is None:
        return text
    user = parts.username or ""
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{user}@{host}{port}" if user else f"{host}{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
