"""Events an apply emits, for the CLI to print and tests to assert on."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from stackplan.addr import Address
from stackplan.plan.model import Action


@dataclass(frozen=True, slots=True)
class ChangeStarted:
    address: Address
    action: Action
    verb: str  # "Creating", "Modifying", "Destroying", ...


@dataclass(frozen=True, slots=True)
class ChangeProgress:
    address: Address
    verb: str  # "still creating"
    elapsed: float


@dataclass(frozen=True, slots=True)
class ChangeDone:
    address: Address
    action: Action
    verb: str  # "Creation complete"
    elapsed: float
    id: str | None


@dataclass(frozen=True, slots=True)
class ChangeFailed:
    address: Address
    action: Action
    message: str


@dataclass(frozen=True, slots=True)
class ChangeSkipped:
    address: Address
    because: str


@dataclass(frozen=True, slots=True)
class Notice:
    message: str


Event = ChangeStarted | ChangeProgress | ChangeDone | ChangeFailed | ChangeSkipped | Notice
EventSink = Callable[[Event], None]


def render_event(event: Event) -> str:
    """One plain line per event, in Terraform's words."""
    match event:
        case ChangeStarted(address, _, verb):
            return f"{address}: {verb}..."
        case ChangeProgress(address, verb, elapsed):
            return f"{address}: {verb.capitalize()}... [{elapsed:.0f}s elapsed]"
        case ChangeDone(address, _, verb, elapsed, resource_id):
            suffix = f" [id={resource_id}]" if resource_id else ""
            return f"{address}: {verb} after {elapsed:.0f}s{suffix}"
        case ChangeFailed(address, _, message):
            return f"{address}: FAILED: {message}"
        case ChangeSkipped(address, because):
            return f"{address}: skipped: {because}"
        case Notice(message):
            return message
    raise TypeError(event)
