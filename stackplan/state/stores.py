"""Where a stack's state is kept: `open_store(location)` is the one place a store is made.

A location is a path (the local file backend); the callers hold a `StateStore` and never
know which backend is behind it.
"""

from __future__ import annotations

from pathlib import Path

from stackplan.state.local import LocalStateStore
from stackplan.state.store import StateStore


def open_store(location: str | Path) -> StateStore:
    """The store at `location`: a state file path."""
    return LocalStateStore(Path(location))
