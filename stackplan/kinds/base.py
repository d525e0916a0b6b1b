"""The interface every resource kind implements, and the values it exchanges.

A kind knows its attributes (which update in place, which force a replacement) and how
to read many, create, update and delete through a cloud client passed in. The diff uses
only the pure parts (`effects`); refresh and apply call the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, ClassVar, Protocol

from stackplan.frozen import frozen_map


class Effect(Enum):
    """What a change to one attribute costs."""

    UPDATE = "update"  # in place, nothing restarts
    RESIZE = "resize"  # in place, the server reboots and keeps its ID
    REBUILD = "rebuild"  # replace, unless the spec opts into a rebuild (root disk wiped)
    REPLACE = "replace"  # a new resource


@dataclass(frozen=True, slots=True)
class Marker:
    """What stackplan writes on a resource it creates, so a lost create can be found again."""

    lineage: str
    address: str
    token: str  # unique per create attempt


GONE = "GONE"  # the status an Await uses for "no longer listed" (a finished delete)


@dataclass(frozen=True, slots=True)
class Await:
    """An operation the cloud finishes later: wait until the resource reaches `until`.

    The executor polls every awaited resource with one list call per interval, holding no
    parallelism slot. `then` runs once `until` is reached and may ask for another wait
    (a resize waits for VERIFY_RESIZE, confirms, then waits for ACTIVE).
    """

    resource_id: str
    until: frozenset[str]
    then: Callable[[], Await | None] | None = None
    verb: str = "creating"  # for progress lines: "still creating [10s]"


@dataclass(frozen=True, slots=True)
class ObservedResource:
    """One resource as the cloud holds it now, in the attribute shape of the desired one."""

    kind: str
    id: str
    attrs: Mapping[str, Any] = field(default_factory=frozen_map)
    status: str = ""  # the cloud's status (ACTIVE, BUILD, ERROR, ...); "" for kinds without one
    fault: str | None = None
    marker: Marker | None = None  # stackplan's marker found on it, if any

    @property
    def failed(self) -> bool:
        return self.status == "ERROR"


@dataclass(frozen=True, slots=True)
class Observed:
    """What refresh found: resources by cloud ID, and those carrying this stack's marker."""

    by_id: Mapping[str, ObservedResource] = field(default_factory=frozen_map)
    refreshed: bool = True  # False with --no-refresh: the diff then trusts the state

    def get(self, kind: str, resource_id: str | None) -> ObservedResource | None:
        found = self.by_id.get(resource_id) if resource_id else None
        return found if found is not None and found.kind == kind else None

    def with_marker(self, lineage: str, address: str) -> tuple[ObservedResource, ...]:
        return tuple(
            r
            for r in self.by_id.values()
            if r.marker and r.marker.lineage == lineage and r.marker.address == address
        )


class Kind(Protocol):
    """A resource kind. Stateless: every call gets the cloud client it works with."""

    name: ClassVar[str]
    # Attributes the diff compares and what changing each one does; others are display-only.
    effects: ClassVar[Mapping[str, Effect]]
    # True when a create returns before the resource is usable (servers build).
    settles: ClassVar[bool]
    # Attributes the cloud assigns once the resource is up (an IP), kept in the state.
    reported: ClassVar[tuple[str, ...]]
    # Attributes the cloud picks when the spec leaves them out (an availability zone): a
    # spec without one accepts the cloud's choice, so whatever it chose is never a change.
    cloud_chosen: ClassVar[frozenset[str]]

    def recorded(self, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        """The attributes compared and kept in state for desired `attrs` (pure): bulky or
        sensitive values are replaced by their digests."""
        ...

    def read_many(self, cloud: Any, ids: Collection[str], lineage: str) -> list[ObservedResource]:
        """Every resource of this kind with one of `ids` or this lineage's marker, in few calls."""
        ...

    def create(self, cloud: Any, attrs: Mapping[str, Any], marker: Marker) -> str:
        """Send the create; return the new ID without waiting for it to settle (the
        executor awaits ACTIVE for kinds that settle)."""
        ...

    def update(
        self, cloud: Any, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        """Change in place what differs between before and after (including a resize)."""
        ...

    def rebuild(self, cloud: Any, resource_id: str, after: Mapping[str, Any]) -> Await | None:
        """Rebuild in place (servers only): new image, same ID, root disk wiped."""
        ...

    def delete(self, cloud: Any, resource_id: str) -> Await | None:
        """Ask for the delete; an Await until GONE where the cloud deletes later."""
        ...

    def poll(self, cloud: Any, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        """The awaited resources among those changed since `since` (ISO time), in one call.
        A deleted one is reported with status GONE (or is absent)."""
        ...

    def find_by_marker(self, cloud: Any, marker: Marker) -> ObservedResource | None:
        """The resource a possibly-lost create made, found by its marker, or None."""
        ...
