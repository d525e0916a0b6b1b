"""The interface every resource kind implements, and the values it exchanges.

A kind owns both halves of itself (DESIGN.md "Pipeline"): the spec half (section, schema
fragment, the kinds its fields name, how one entry expands, the names it resolves, display)
and the cloud half (read many, create, update, delete, poll, its statuses, its marker, what
a field change costs, its quota usage). The generic rooms ask a kind; they never test its
name. `Kind` gives the defaults, so a kind states only what is its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, TypeVar, runtime_checkable

from stackplan.frozen import frozen_map

if TYPE_CHECKING:
    from stackplan.addr import Address
    from stackplan.spec.expand import Entry
    from stackplan.spec.model import DesiredResource
    from stackplan.state.model import ResourceRecord

T = TypeVar("T")


class Effect(Enum):
    """What a change to one attribute costs, as the kind decides from before and after."""

    UPDATE = "update"  # in place, nothing restarts
    RESIZE = "resize"  # in place, the resource restarts and keeps its ID
    REBUILD = "rebuild"  # in place, its disk wiped (a server whose spec opts into rebuilds)
    REPLACE = "replace"  # a new resource


@dataclass(frozen=True, slots=True)
class Marker:
    """What stackplan writes on a resource it creates, so a lost create can be found again."""

    lineage: str
    address: str
    token: str  # unique per create attempt
    stack: str = ""  # the stack's name: a fresh clone without the state still sees it


GONE = "GONE"  # the status of a resource the cloud no longer lists (a finished delete)


@dataclass(frozen=True, slots=True)
class Made:
    """What a create answered: the new ID, and the `reported` attributes the answer
    already holds (a port's address), kept in the state without another read."""

    id: str
    reported: Mapping[str, Any] = field(default_factory=frozen_map)


@dataclass(frozen=True, slots=True)
class Await:
    """An operation the cloud finishes later: wait until the resource reaches `until`.

    The executor polls every awaited resource with one list call per kind per interval,
    holding no parallelism slot. `then` runs once `until` is reached and may ask for
    another wait (a resize waits for its confirmation, confirms, then waits again).
    """

    resource_id: str
    until: frozenset[str]
    then: Callable[[], Await | None] | None = None
    verb: str = "still creating"  # for progress lines: "still creating [10s]"
    # Why the wait is over without `until` (a resize Nova gave up), from what a poll saw.
    failed_if: Callable[[ObservedResource], str | None] | None = None


@dataclass(frozen=True, slots=True)
class ObservedResource:
    """One resource as the cloud holds it now, in the attribute shape of the desired one."""

    kind: str
    id: str
    attrs: Mapping[str, Any] = field(default_factory=frozen_map)
    status: str = ""  # the cloud's own word, or GONE; "" for kinds without one
    fault: str | None = None  # the cloud's message when it failed
    marker: Marker | None = None  # stackplan's marker found on it, if any
    failed: bool = False  # the kind's failed statuses (a server in ERROR, a volume in error)

    @property
    def gone(self) -> bool:
        return self.status == GONE


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

    def of_kind(self, kind: str) -> tuple[ObservedResource, ...]:
        return tuple(r for r in self.by_id.values() if r.kind == kind)


@dataclass(frozen=True, slots=True)
class Measure:
    """A quantity the project's quota counts and the plan's resource delta shows."""

    name: str  # "ram_mb": the key of a kind's usage and of the cloud's limits
    quota_label: str = ""  # how a quota problem names it ("RAM"); "" when no quota counts it
    unit: str = ""  # after a number in a quota problem (" MB")
    delta_label: str = ""  # in the delta line ("MB RAM"); "" when the delta leaves it out
    delta_singular: str = ""  # the delta label for exactly one ("vCPU")


@dataclass(frozen=True, slots=True)
class Ingress:
    """Traffic a rule lets in, for policies: from `prefix` (a CIDR; all of IPv4 or IPv6 for
    a rule without a remote), on `low`..`high` (None: every port)."""

    prefix: str
    protocol: str | None = None
    low: int | None = None
    high: int | None = None


@dataclass(frozen=True, slots=True)
class Limit:
    """One quota of the project: its maximum (-1: unlimited) and what is in use."""

    max: int
    used: int = 0


@dataclass(frozen=True, slots=True)
class Named:
    """A cloud resource a spec may name: what a reference to it resolves to (`ref`)."""

    id: str
    name: str | None
    ref: str  # the value a referencing field takes: the ID, or the name for keypairs
    note: str = ""  # shown beside the ID when several share a name


class Reads:
    """The cloud's listings of one run, each fetched once and shared by every kind (the
    resolver, refresh and the quota check all read flavors, keypairs, limits...)."""

    def __init__(self, cloud: Any, known: Mapping[str, Any] | None = None) -> None:
        self.cloud = cloud  # None in pure runs: `known` holds every listing then
        self._lock = threading.Lock()
        self._values: dict[str, Any] = dict(known or {})
        self._fetching: dict[str, threading.Lock] = {}  # one fetch per key at a time
        self._early: dict[str, Future[Any]] = {}  # fetches started by `soon`

    def get(self, key: str, fetch: Callable[[], T]) -> T:
        with self._lock:
            if key in self._values:
                return self._values[key]
            early = self._early.pop(key, None)
            fetching = self._fetching.setdefault(key, threading.Lock())
        if early is not None:
            return early.result()
        return self._fetch(key, fetch, fetching)

    def _fetch(self, key: str, fetch: Callable[[], T], fetching: threading.Lock) -> T:
        # Outside the run's lock: two kinds may fetch different lists at once; a second
        # asking for the same list waits for the first's answer instead of asking again.
        with fetching:
            with self._lock:
                if key in self._values:
                    return self._values[key]
            value = fetch()
            with self._lock:
                return self._values.setdefault(key, value)

    def soon(self, key: str, fetch: Callable[[], Any]) -> None:
        """Start fetching `key` in the background: a later `get` of it takes that answer
        (or its error) when it comes, so a kind can list two things at once."""
        with self._lock:
            if key in self._values or key in self._early:
                return
            future: Future[Any] = Future()
            self._early[key] = future
            fetching = self._fetching.setdefault(key, threading.Lock())

        def run() -> None:
            try:
                future.set_result(self._fetch(key, fetch, fetching))
            except BaseException as exc:  # handed to the `get` that waits for it
                future.set_exception(exc)

        threading.Thread(target=run, name=f"reads:{key}", daemon=True).start()


class ResolveContext(Protocol):
    """What a kind's `resolve` may use: the run's reads and a place to report problems."""

    reads: Reads
    address: str  # the resource being resolved (`server.web[0]`)

    def problem(self, field: str, message: str, hint: str = "") -> None: ...


class Kind:
    """A resource kind. Stateless: every call gets the cloud client it works with.

    Class attributes describe it; methods have defaults where most kinds agree.
    """

    # -- identity and the spec half ---------------------------------------------------------
    name: ClassVar[str]  # the address prefix: `server` in server.web[0]
    section: ClassVar[str]  # the spec's top-level section: `servers`
    noun: ClassVar[str] = ""  # in messages, when the name is not English ("server group")
    # JSON Schema of one entry of the section; count, depends_on, lifecycle are added.
    schema: ClassVar[Mapping[str, Any]] = {"type": "object"}
    schema_defs: ClassVar[Mapping[str, Any]] = {}  # $defs the fragment refers to
    # The smallest valid entry, for documentation and for tests that walk every kind.
    example: ClassVar[Mapping[str, Any]] = {}
    # Spec fields that name a resource of another kind. The spec's own resource of that
    # name is a dependency; else the cloud's is looked up by name.
    references: ClassVar[Mapping[str, str]] = {}  # spec field -> the kind it names
    # Attributes `${KIND.NAME.ATTR}` may read once the resource exists.
    reference_attrs: ClassVar[tuple[str, ...]] = ("id", "name")
    ref_attr: ClassVar[str] = "id"  # the attribute a field naming this kind takes
    # lifecycle.ignore_changes: spec field -> the attribute it stands for.
    ignorable: ClassVar[Mapping[str, str]] = {}
    # Attributes set once the resources they name exist, in a step after the create (a
    # security group's rules, which may name other groups or the group itself).
    late: ClassVar[frozenset[str]] = frozenset()
    # Attributes naming (by ID) resources this one holds until it is deleted, which the
    # cloud lets go of as it deletes it (a server's volumes): deleted after it, not beside.
    holds: ClassVar[frozenset[str]] = frozenset()

    # -- comparing and showing --------------------------------------------------------------
    # Attributes the diff compares, each with what changing it costs by default.
    effects: ClassVar[Mapping[str, Effect]] = {}
    # Display companions of an ID attribute: stale once the cloud reports another ID.
    companions: ClassVar[Mapping[str, tuple[str, ...]]] = {}
    # An ID shown with the name it resolved from: attribute -> (label, name attribute).
    display: ClassVar[Mapping[str, tuple[str, str]]] = {}
    folded: ClassVar[frozenset[str]] = frozenset()  # attributes the plan never lists
    # Attributes the cloud picks when the spec leaves them out (an availability zone): a
    # spec without one accepts the cloud's choice, so whatever it chose is never a change.
    cloud_chosen: ClassVar[frozenset[str]] = frozenset()
    # Attributes the cloud assigns once the resource is up (an IP), kept in the state.
    reported: ClassVar[tuple[str, ...]] = ()

    # -- the cloud half -----------------------------------------------------------------------
    settles: ClassVar[bool] = False  # a create returns before the resource is usable
    ready: ClassVar[frozenset[str]] = frozenset()  # the statuses a settling create awaits
    # Whether the cloud has a place for stackplan's marker (metadata, tags). A kind without
    # one records its intent before a create and never takes a namesake for its own.
    marked: ClassVar[bool] = True
    # Whether the cloud allows one resource of a name (keypairs): a namesake the state does
    # not hold is then that very resource, made outside this stack.
    unique_names: ClassVar[bool] = False
    measures: ClassVar[tuple[Measure, ...]] = ()  # what its usage counts

    @property
    def label(self) -> str:
        return self.noun or self.name

    def expand(self, entry: Entry) -> Mapping[str, Any]:
        """The desired attributes of one instance of a spec entry (problems go to `entry`)."""
        raise NotImplementedError

    def implied(
        self, resource: DesiredResource, spec: Mapping[str, Sequence[DesiredResource]]
    ) -> Iterable[Address]:
        """Dependencies no field names but the cloud imposes (a floating IP needs the
        router that routes its network), among the `spec`'s resources (by kind)."""
        return ()

    def resolve(self, attrs: Mapping[str, Any], ctx: ResolveContext) -> Mapping[str, Any]:
        """`attrs` with the names only this kind looks up turned into IDs (a server's image
        and flavor). References to other kinds are resolved before, by the resolver."""
        return attrs

    def prefetch(self, reads: Reads) -> None:
        """Start the listings only this kind's `resolve` reads (`Reads.soon`), so that they
        come side by side with the others rather than one after the other."""

    def recorded(self, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        """The attributes compared and kept in state for desired `attrs` (pure): bulky or
        sensitive values are replaced by their digests."""
        return dict(attrs)

    def effect(self, field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> Effect:
        """What changing `field` from `before` to `after` (whole attribute maps) costs."""
        return self.effects[field]

    def replacing(self, field: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> str:
        """Why changing `field` so replaces the resource, in the plan's words, where the
        field's name alone does not say it ("volumes cannot shrink: data lost"); or ""."""
        return ""

    def same(self, field: str, wanted: Any, actual: Any) -> bool | None:
        """Whether `actual` (the cloud's, or the state's) is what `wanted` asks for, where
        plain equality is wrong (a value the spec left partly to the cloud); None: ask
        plain equality."""
        return None

    def items(self, field: str, value: Any) -> list[str] | None:
        """A set-valued attribute's members as short text for reviewers (a group's rules:
        `ingress IPv4 tcp 22 from 10.0.0.0/8`), so that a plan lists the members added and
        removed; None for other attributes."""
        return None

    def facts(self, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        """What a policy checks of a resource with `attrs`, by fact: `flavor` and `image`
        (names), `metadata` (a map), `ingress` (Ingress values). None by default."""
        return {}

    def usage(self, attrs: Mapping[str, Any]) -> Mapping[str, int]:
        """What one resource with `attrs` counts against the quota, by measure name."""
        return {}

    def limits(self, reads: Reads) -> Mapping[str, Limit]:
        """The project's quota for this kind's measures."""
        return {}

    def lookup(self, reads: Reads) -> Sequence[Named]:
        """Every cloud resource of this kind a spec may name (for references by name)."""
        raise NotImplementedError(f"a {self.label} cannot be named from the cloud")

    def read_many(
        self, reads: Reads, records: Sequence[ResourceRecord], lineage: str
    ) -> list[ObservedResource]:
        """The resources behind `records` and those carrying this lineage's marker, in a few
        list calls (never one per resource)."""
        raise NotImplementedError

    def prepared(self, cloud: Any, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        """The attributes a create sends, with what the cloud only knows at apply time
        looked up once (the port of the server a floating IP goes on): the intent and the
        create both take them. The state records the attributes as planned."""
        return attrs

    def intent(self, cloud: Any, attrs: Mapping[str, Any]) -> Mapping[str, Any]:
        """What the state records before a create besides the marker's token, so that a
        create whose answer was lost is found again (a kind without a marker notes the
        namesakes that already exist)."""
        return {}

    def carried_intent(
        self, earlier: Mapping[str, Any], now: Mapping[str, Any]
    ) -> Mapping[str, Any]:
        """The intent of a create sent while an earlier one is unresolved (its record still
        pending): what existed before that one is another's; what came since may be what it
        made, and must stay findable (`now` lists it among the namesakes)."""
        return now

    def create(self, cloud: Any, attrs: Mapping[str, Any], marker: Marker) -> Made:
        """Send the create; return the new ID without waiting for it to settle (the
        executor awaits `ready` for kinds that settle)."""
        raise NotImplementedError

    def update(
        self, cloud: Any, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None:
        """Change in place what differs between before and after."""
        return None

    def delete(self, cloud: Any, resource_id: str) -> Await | None:
        """Ask for the delete; an Await until GONE where the cloud deletes later."""
        raise NotImplementedError

    def poll(self, cloud: Any, ids: Collection[str], since: str) -> dict[str, ObservedResource]:
        """The awaited resources among those changed since `since` (ISO time), in one call.
        A deleted one is reported as GONE, or is absent."""
        return {}

    def find_created(
        self, cloud: Any, marker: Marker, intent: Mapping[str, Any], attrs: Mapping[str, Any]
    ) -> ObservedResource | None:
        """The resource a possibly-lost create made (by its marker, or for a kind without
        one, by what `intent` noted), or None."""
        return None

    def mark(self, cloud: Any, resource_id: str, marker: Marker) -> None:
        """An adopted resource gets its marker if it lacks one (a create killed before its
        tags): the next lost state finds it by tag, not by its namesakes. Nothing for a
        kind whose marker goes with the create."""
        return None

    def of_stack(self, reads: Reads, stack: str) -> list[ObservedResource]:
        """The resources whose marker names `stack`, of any lineage (from the listings the
        run makes anyway): what a run without the state would duplicate. Empty for a kind
        without a marker."""
        return []


@runtime_checkable
class Resumable(Protocol):
    """A kind whose update can stop midway (a server's resize waits for a confirmation).
    Its updates are journaled; `resume` finishes or undoes what a killed apply left, from
    what the cloud shows now, then changes what else differs between before and after."""

    def resume(
        self, cloud: Any, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None: ...


@runtime_checkable
class Rebuildable(Protocol):
    """A kind that can rebuild in place (a server onto a new image: same ID, disk wiped)."""

    def rebuild(
        self, cloud: Any, resource_id: str, before: Mapping[str, Any], after: Mapping[str, Any]
    ) -> Await | None: ...


def carried_namesakes(
    earlier: Mapping[str, Any], now: Mapping[str, Any], key: str
) -> Mapping[str, Any]:
    """`now`, its namesakes only those the earlier intent saw too (`Kind.carried_intent`)."""
    if key not in earlier or key not in now:
        return now
    before = set(earlier[key] or ())
    return {**now, key: sorted(i for i in now[key] or () if i in before)}
