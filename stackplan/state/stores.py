"""Where a stack's state is kept: `open_store(location, stack)` is the one place a store is
made.

A location is a path (the local file backend) or a PostgreSQL backend's URL; the callers
hold a `StateStore` and never know which backend is behind it.
"""

from __future__ import annotations

from pathlib import Path

from stackplan.state.local import LocalStateStore
from stackplan.state.pg_url import BackendUrl, is_postgres_url, parse_backend_url
from stackplan.state.store import StateStore

Location = Path | BackendUrl


def open_store(location: Location | str, stack: str) -> StateStore:
    """The store of `stack` at `location`: a state file, or a PostgreSQL database."""
    if isinstance(location, str):
        location = parse_backend_url(location) if is_postgres_url(location) else Path(location)
    if isinstance(location, BackendUrl):
        from stackplan.state.postgres import PostgresStateStore

        return PostgresStateStore(location, stack)
    return LocalStateStore(location)
