"""The one clock: ISO 8601 UTC timestamps as every file and API of stackplan writes them.

A leaf module. Pure code takes its time from the caller; this is where callers get it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """`2026-12-01T22:28:09Z`: seconds, UTC, as Nova's changes-since and our files take it."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso(*, minus_seconds: float = 0.0) -> str:
    """Now (or `minus_seconds` ago) in the form of `iso`."""
    return iso(utc_now() - timedelta(seconds=minus_seconds))
