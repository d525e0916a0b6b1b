"""Walks a plan's step graph against the cloud, up to `parallelism` operations at once.

API calls run in a thread pool; waiting for the cloud (BUILD → ACTIVE, deletes) holds no
slot: the walker polls every awaited resource with one list call per kind per interval,
in threads of its own, and goes on starting steps while a poll is out. The state
is written after every completed step, and before every create (the intent, with the
marker that finds the server again if the create's answer is lost).
"""

from __future__ import annotations

import heapq
import random
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from stackplan.addr import Address
from stackplan.apply.events import (
    ChangeDone,
    ChangeFailed,
    ChangeProgress,
    ChangeSkipped,
    ChangeStarted,
    EventSink,
    Notice,
)
from stackplan.apply.recorder import StateRecorder
from stackplan.apply.steps import CREATE, DELETE, LATE, RECORD, UPDATE, Step, build_steps
from stackplan.clock import now_iso
from stackplan.errors import CloudError, StackplanError, StateError
from stackplan.kinds.base import (
    GONE,
    Await,
    Kind,
    Made,
    Marker,
    ObservedResource,
    Rebuildable,
    Resumable,
)
from stackplan.plan.model import Action, Plan, Reason
from stackplan.state.model import CREATE_TOKEN, RecordStatus, ResourceRecord

# A create that failed without reaching the cloud (checked by its tag) is sent again.
CREATE_ATTEMPTS = 4
# Seconds without push-back from the cloud before the width grows by one again.
CALM_SECONDS = 2.0
# What a wait for the cloud (a build) weighs against one API call when the walker ranks
# the steps ready to start: a 5 s build is ~50 calls at 20 ms with a few in flight.
SETTLE_WEIGHT = 50.0
# The kinds polled at once (servers, volumes, ports, floating IPs): one thread each.
POLL_THREADS = 4

_VERBS = {  # phase -> (started, done, progress)
    CREATE: ("Creating", "Creation complete", "still creating"),
    UPDATE: ("Modifying", "Modifications complete", "still modifying"),
    DELETE: ("Destroying", "Destruction complete", "still destroying"),
    RECORD: ("Adopting", "Adopted", "still adopting"),
    LATE: ("Setting {late}", "Set {late}", "still setting {late}"),  # security group rules
}


def _verb(step: Step, which: int) -> str:
    return _VERBS[step.phase][which].format(late=" and ".join(step.change.late))


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    parallelism: int = 10
    poll_interval: float = 1.0
    # While resources are arriving (the last poll saw some settle, others still wait), poll
    # this often: builds started together end together, and the last one's wait for the
    # next poll is pure overhead. Polls still grow with the time taken, not the resources.
    quick_poll_interval: float = 0.25
    progress_every: float = 10.0
    # How far back the first poll looks, to absorb clock skew between us and the cloud.
    clock_margin: float = 120.0


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What an apply did. After an interrupt, `settling` were sent and recorded but not yet
    seen ready (a server still building); `not_started` were never sent."""

    done: tuple[Address, ...]
    failed: tuple[tuple[Address, str], ...]
    skipped: tuple[Address, ...]  # a dependency failed
    interrupted: bool
    settling: tuple[Address, ...] = ()
    not_started: tuple[Address, ...] = ()
    stopped: str = ""  # why the apply stopped starting operations (the state is unwritable)

    @property
    def ok(self) -> bool:
        return not self.failed and not self.skipped and not self.interrupted and not self.stopped


@dataclass
class _Waiting:
    step: Step
    kind: Kind
    awaiting: Await
    started: float
    last_progress: float


@dataclass(frozen=True)
class _Poll:
    """One poll under way: per kind, the waits it covers and the list call answering."""

    waits: dict[str, tuple[_Waiting, ...]]
    answers: dict[str, Future[dict[str, ObservedResource]]]

    def done(self) -> bool:
        return all(f.done() for f in self.answers.values())


@dataclass
class _Walk:
    graph: nx.DiGraph
    remaining_deps: dict[Step, int]
    rank: dict[Step, float] = field(default_factory=dict)
    # A heap of (priority, step); a step skipped after it was pushed is dropped on pop.
    ready: list[tuple[tuple[int, float, tuple[str, str, int], str], Step]] = field(
        default_factory=list
    )
    running: dict[Future[Any], Step] = field(default_factory=dict)
    waiting: dict[str, _Waiting] = field(default_factory=dict)
    next_poll: float = 0.0  # monotonic time of the next poll of what is waited for
    polling: _Poll | None = None  # the poll out now, if any
    started_at: dict[Step, float] = field(default_factory=dict)
    # Ordered sets (dicts of None): a step's address is looked up in them as each ends.
    done: dict[Address, None] = field(default_factory=dict)
    failed: list[tuple[Address, str]] = field(default_factory=list)
    skipped: dict[Address, None] = field(default_factory=dict)


class Executor:
    """Carries out one plan. `pressure()` returns how often the cloud pushed back (429/503)
    since the last call; the walker halves its width while it does and grows it back after."""

    def __init__(
        self,
        plan: Plan,
        cloud: Any,
        kinds: Mapping[str, Kind],
        recorder: StateRecorder,
        emit: EventSink,
        options: ApplyOptions = ApplyOptions(),
        cancel: threading.Event | None = None,
        pressure: Callable[[], int] | None = None,
    ):
        self.plan = plan
        self.cloud = cloud
        self.kinds = kinds
        self.recorder = recorder
        self.emit = emit
        self.options = options
        self.cancel = cancel or threading.Event()
        self.pressure = pressure or (lambda: 0)
        self.width = max(1, options.parallelism)
        self._calm_since = time.monotonic()
        self._since = now_iso(minus_seconds=options.clock_margin)
        self._stopped = ""  # set when the state cannot be written: start nothing more

    def run(self) -> ApplyResult:
        graph = build_steps(self.plan)
        walk = _Walk(graph, {step: graph.in_degree(step) for step in graph.nodes})
        walk.rank = _ranks(graph, self.kinds)
        for step, n in walk.remaining_deps.items():
            if n == 0:
                _push(walk, step)
        walk.next_poll = time.monotonic() + self.options.poll_interval
        width = max(1, self.options.parallelism)
        # Polls have threads of their own: a list of 1,000 servers takes ~0.2 s, and a
        # walker waiting for it would leave every slot that frees meanwhile idle.
        with (
            ThreadPoolExecutor(max_workers=width) as pool,
            ThreadPoolExecutor(max_workers=POLL_THREADS, thread_name_prefix="poll") as polls,
        ):
            while walk.ready or walk.running or walk.waiting:
                if self.cancel.is_set() or self._stopped:
                    self._drain(walk)
                    break
                self._adapt_width()
                while walk.ready and len(walk.running) < self.width:
                    step = heapq.heappop(walk.ready)[1]
                    if walk.remaining_deps[step] != 0:
                        continue  # skipped since: a dependency failed
                    self._start(walk, step)
                    walk.running[pool.submit(self._run_step, step)] = step
                timeout = 0.2
                if walk.waiting and walk.polling is None:
                    timeout = max(0.0, walk.next_poll - time.monotonic())
                self._collect(walk, timeout)
                if walk.polling is not None and walk.polling.done():
                    settled = self._polled(walk, walk.polling, pool)
                    walk.polling = None
                    walk.next_poll = time.monotonic() + self._poll_interval(settled, walk)
                elif walk.polling is None and walk.waiting and time.monotonic() >= walk.next_poll:
                    walk.polling = self._poll(walk, polls)
        settling = tuple(dict.fromkeys(w.step.address for w in walk.waiting.values()))
        seen = {*walk.done, *(a for a, _ in walk.failed), *walk.skipped, *settling}
        never = sorted({s.address for s in graph.nodes} - seen, key=Address.sort_key)
        return ApplyResult(
            done=tuple(walk.done),
            failed=tuple(walk.failed),
            skipped=tuple(walk.skipped),
            interrupted=self.cancel.is_set(),
            settling=settling,
            not_started=tuple(never),
            stopped=self._stopped,
        )

    # -- scheduling ---------------------------------------------------------------------

    def _adapt_width(self) -> None:
        """Halve the width when the cloud pushed back; add one after each calm interval."""
        pushed = self.pressure()
        now = time.monotonic()
        if pushed:
            before, self.width = self.width, max(1, self.width // 2)
            self._calm_since = now
            if self.width < before:
                self.emit(
                    Notice(
                        f"The cloud is pushing back (429/503): at most {self.width} "
                        "operations at once for now."
                    )
                )
        elif self.width < self.options.parallelism and now - self._calm_since > CALM_SECONDS:
            self.width += 1
            self._calm_since = now
            if self.width == self.options.parallelism:
                self.emit(
                    Notice(f"The cloud is calm again: back to {self.width} operations at once.")
                )

    def _start(self, walk: _Walk, step: Step) -> None:
        walk.started_at[step] = time.monotonic()
        self.emit(ChangeStarted(step.address, step.change.action, _verb(step, 0)))

    def _collect(self, walk: _Walk, timeout: float) -> None:
        """Wait up to `timeout` for running operations; handle each one that finished."""
        # Only the answers still to come: one already in would end every wait at once
        # (a busy loop while another kind's list is still out).
        pending = []
        if walk.polling is not None:
            pending = [f for f in walk.polling.answers.values() if not f.done()]
            if not pending:
                timeout = 0.0  # the whole poll is answered: see to it now
        if not walk.running and not pending:
            time.sleep(min(timeout, 0.2))
            return
        # Woken the moment one ends (a step's successors start then, not at the next
        # tick) or a poll is answered; at most 0.2 s, so an interrupt is seen soon.
        ended, _ = wait(
            [*walk.running, *pending], timeout=min(timeout, 0.2), return_when=FIRST_COMPLETED
        )
        finished = [f for f in walk.running if f in ended]  # in the order they started
        for future in finished:
            step = walk.running.pop(future)
            try:
                awaiting = future.result()
            except StateError as exc:
                # The state could not be written (the database went away): what is in
                # flight finishes, nothing new starts; the cloud keeps the markers, so the
                # next run adopts what this one made but could not record.
                self._stopped = self._stopped or exc.render()
                self._fail(walk, step, exc.render())
                continue
            except StackplanError as exc:
                self._fail(walk, step, exc.render())
                continue
            except Exception as exc:  # a bug must not lose the state of the others
                self._fail(walk, step, f"{type(exc).__name__}: {exc}")
                continue
            if awaiting is None:
                self._finish(walk, step)
            else:
                now = time.monotonic()
                kind = self.kinds[step.address.kind]
                walk.waiting[awaiting.resource_id] = _Waiting(step, kind, awaiting, now, now)
                if step.phase == DELETE:
                    # Deletes mostly end within a second, and what waits on them (a port
                    # on a server, a volume it held) should not wait for a whole interval.
                    quick = now + self.options.quick_poll_interval
                    walk.next_poll = min(walk.next_poll, quick)

    def _poll_interval(self, settled: int, walk: _Walk) -> float:
        interval = self.options.poll_interval
        if settled and walk.waiting:
            return min(interval, self.options.quick_poll_interval)
        return interval

    def _poll(self, walk: _Walk, polls: ThreadPoolExecutor) -> _Poll:
        """Send one list call per kind, covering every resource being waited for now."""
        waits: dict[str, list[_Waiting]] = {}
        for waiting in walk.waiting.values():
            waits.setdefault(waiting.step.address.kind, []).append(waiting)
        answers = {
            name: polls.submit(
                self.kinds[name].poll, self.cloud, [w.awaiting.resource_id for w in ws], self._since
            )
            for name, ws in waits.items()
        }
        return _Poll({name: tuple(ws) for name, ws in waits.items()}, answers)

    def _polled(self, walk: _Walk, poll: _Poll, pool: ThreadPoolExecutor) -> int:
        """End the waits `poll` found ended; returns how many ended (done or failed)."""
        now = time.monotonic()
        before = len(walk.waiting)
        arrived: list[_Waiting] = []
        settled: list[tuple[Step, Mapping[str, Any]]] = []
        for kind_name, waits in poll.waits.items():
            try:
                seen = poll.answers[kind_name].result()
            except CloudError as exc:
                self.emit(Notice(f"Polling {kind_name}s failed, will retry: {exc.message}"))
                continue
            for waiting in waits:
                rid = waiting.awaiting.resource_id
                if walk.waiting.get(rid) is not waiting:
                    continue  # replaced meanwhile by a later wait, which this poll predates
                found = seen.get(rid)
                status = found.status if found is not None else None
                if status is None and GONE in waiting.awaiting.until:
                    status = GONE
                if status in waiting.awaiting.until:
                    del walk.waiting[rid]
                    arrived.append(waiting)
                    if found is not None and waiting.step.phase == CREATE:
                        reported = {
                            k: found.attrs[k] for k in waiting.kind.reported if k in found.attrs
                        }
                        settled.append((waiting.step, reported))
                elif found is not None and found.failed:
                    del walk.waiting[rid]
                    fault = found.fault or "the cloud reported no fault message"
                    self._fail(walk, waiting.step, f"went to {found.status}: {fault}", rid)
                elif found is not None and (why := _gave_up(waiting.awaiting, found)):
                    del walk.waiting[rid]
                    self._fail(walk, waiting.step, why, rid)
                elif now - waiting.last_progress >= self.options.progress_every:
                    waiting.last_progress = now
                    elapsed = now - walk.started_at[waiting.step]
                    self.emit(ChangeProgress(waiting.step.address, waiting.awaiting.verb, elapsed))
        # One state write for everything this poll found up, and one for everything it
        # found deleted, not one per resource.
        self.recorder.settled_all(settled)
        deleted = [w.step for w in arrived if w.awaiting.then is None and w.step.phase == DELETE]
        self.recorder.steps_done(deleted)
        for waiting in arrived:
            then = waiting.awaiting.then
            if then is None:
                self._finish(walk, waiting.step, recorded=waiting.step.phase == DELETE)
            else:
                walk.running[pool.submit(then)] = waiting.step
        return before - len(walk.waiting)

    def _finish(self, walk: _Walk, step: Step, recorded: bool = False) -> None:
        if not recorded:
            self.recorder.step_done(step)
        elapsed = time.monotonic() - walk.started_at[step]
        record = self.recorder.record(step.address)
        rid = record.id if record is not None and step.phase != DELETE else step.change.id
        self.emit(ChangeDone(step.address, step.change.action, _verb(step, 1), elapsed, rid))
        walk.done[step.address] = None
        for successor in walk.graph.successors(step):
            walk.remaining_deps[successor] -= 1
            if walk.remaining_deps[successor] == 0:
                _push(walk, successor)

    def _fail(self, walk: _Walk, step: Step, message: str, resource_id: str | None = None) -> None:
        try:
            self.recorder.step_failed(step, resource_id, message)
        except StateError as exc:
            self._stopped = self._stopped or exc.render()
        self.emit(ChangeFailed(step.address, step.change.action, message))
        walk.failed.append((step.address, message))
        for later in nx.descendants(walk.graph, step):
            walk.remaining_deps[later] = -1  # never becomes ready (dropped if queued)
            if later.address not in walk.skipped and later.address != step.address:
                walk.skipped[later.address] = None
                self.emit(ChangeSkipped(later.address, f"{step.address} failed"))

    def _drain(self, walk: _Walk) -> None:
        """After an interrupt: let operations already sent finish, start nothing new."""
        why = "The state cannot be written" if self._stopped else "Interrupt received"
        self.emit(Notice(f"{why}: waiting for operations in flight, starting none."))
        walk.polling = None  # its answer would end no wait that matters now
        while walk.running:
            self._collect(walk, 0.5)
        # Waits need no finishing: the state already holds the ID of everything created.

    # -- one step, in a worker thread ---------------------------------------------------

    def _run_step(self, step: Step) -> Await | None:
        kind = self.kinds[step.address.kind]
        change = step.change
        if step.phase == RECORD:
            if change.reason is Reason.ADOPTED and change.id:
                marker = Marker(
                    self.plan.lineage, str(step.address), uuid.uuid4().hex, self.plan.stack
                )
                kind.mark(self.cloud, change.id, marker)
            self.recorder.adopt(step)
            return None
        if step.phase == DELETE:
            return self._delete(kind, step)
        if step.phase == LATE:
            # The create made the resource without these; the record is what it has now.
            record = self.recorder.record(step.address)
            before = dict(record.attributes) if record is not None else {}
            resource_id = record.id if record is not None and record.id else change.id or ""
            after = self.recorder.filled(change.after or {})
            return kind.update(self.cloud, resource_id, before, after)
        if step.phase == UPDATE:
            after = self.recorder.filled(change.after or {})
            before = change.before or {}
            resource_id = change.id or ""
            if isinstance(kind, Resumable):
                # Journaled first: a kill midway leaves the next run knowing it was ours.
                self.recorder.journal(step, after)
                if change.reason is Reason.RESUME:
                    return kind.resume(self.cloud, resource_id, before, after)
            if change.action is Action.REBUILD and isinstance(kind, Rebuildable):
                return kind.rebuild(self.cloud, resource_id, before, after)
            return kind.update(self.cloud, resource_id, before, after)
        return self._create(kind, step)

    def _create(self, kind: Kind, step: Step) -> Await | None:
        marker = Marker(self.plan.lineage, str(step.address), uuid.uuid4().hex, self.plan.stack)
        late = set(step.change.late)
        # What is set late may still name what does not exist yet: it is left out here.
        attrs = self.recorder.filled(
            {k: v for k, v in (step.change.after or {}).items() if k not in late}
        )
        sent = kind.prepared(self.cloud, attrs)
        earlier = self._unresolved(step)
        made = self._made_earlier(kind, step, earlier, sent) if earlier else None
        if made is None:
            intent = kind.intent(self.cloud, sent)
            if earlier is not None:
                intent = kind.carried_intent(earlier.attributes, intent)
            self.recorder.intent(step, marker, intent)
            made = self._create_once(kind, step, sent, marker, intent)
        self.recorder.created(step, made.id, {**attrs, **made.reported})
        if kind.settles:
            return Await(made.id, kind.ready, verb="still creating")
        return None

    def _unresolved(self, step: Step) -> ResourceRecord | None:
        """The record of an earlier create of this address whose outcome is unknown (a
        kill between its intent and its answer), when the plan creates it again."""
        record = self.recorder.record(step.address)
        if record is None or record.id or record.status is not RecordStatus.PENDING_CREATE:
            return None
        return record

    def _made_earlier(
        self, kind: Kind, step: Step, earlier: ResourceRecord, attrs: Mapping[str, Any]
    ) -> Made | None:
        """What the earlier create made, if it landed after this run's refresh looked (a
        slow create of the run that was killed): found by its intent, not made twice."""
        token = str(earlier.attributes.get(CREATE_TOKEN, ""))
        marker = Marker(self.plan.lineage, str(step.address), token, self.plan.stack)
        found = kind.find_created(self.cloud, marker, earlier.attributes, attrs)
        if found is None:
            return None
        self.emit(Notice(f"{step.address}: an earlier, interrupted create made {found.id}; kept"))
        return _made(kind, found)

    def _create_once(
        self,
        kind: Kind,
        step: Step,
        attrs: Mapping[str, Any],
        marker: Marker,
        intent: Mapping[str, Any],
    ) -> Made:
        """Create, and retry a failed create only once its tag shows the cloud made nothing.

        A 5xx or a lost connection may come after the cloud acted, so the resource is
        looked up by its marker before the create is sent again; a 429 was refused
        before anything happened (the HTTP layer already retried it, honouring
        Retry-After). Other errors (4xx: quota, bad request) are final.
        """
        for attempt in range(1, CREATE_ATTEMPTS + 1):
            try:
                return kind.create(self.cloud, attrs, marker)
            except CloudError as exc:
                final = attempt == CREATE_ATTEMPTS or self.cancel.is_set()
                if exc.status == 429:
                    if final:
                        raise
                else:
                    if exc.status is not None and exc.status < 500:
                        raise
                    found = kind.find_created(self.cloud, marker, intent, attrs)
                    if found is not None:
                        self.emit(
                            Notice(
                                f"{step.address}: create answer lost; found {found.id} by its tag"
                            )
                        )
                        return _made(kind, found)
                    if final:
                        raise
                why = "nothing carries its tag" if exc.status != 429 else "rate-limited"
                self.emit(
                    Notice(
                        f"{step.address}: create failed ({exc.message}); {why}, "
                        f"retrying (attempt {attempt + 1} of {CREATE_ATTEMPTS})"
                    )
                )
                time.sleep(_create_backoff(attempt))
        raise AssertionError("unreachable")

    def _delete(self, kind: Kind, step: Step) -> Await | None:
        resource_id = self.recorder.id_to_delete(step)
        if resource_id is None:
            return None  # already gone from the cloud: only the state forgets it
        try:
            return kind.delete(self.cloud, resource_id)
        except CloudError as exc:
            if exc.status == 404:
                return None
            raise


def _made(kind: Kind, found: ObservedResource) -> Made:
    """A create's outcome from the resource found in its stead."""
    return Made(found.id, {k: found.attrs[k] for k in kind.reported if k in found.attrs})


def _gave_up(awaiting: Await, found: ObservedResource) -> str | None:
    return awaiting.failed_if(found) if awaiting.failed_if is not None else None


def _create_backoff(attempt: int) -> float:
    return min(8.0, 0.5 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0)


def _ranks(graph: nx.DiGraph, kinds: Mapping[str, Kind]) -> dict[Step, float]:
    """Each step's longest path to the end of the walk, a wait for the cloud weighing
    SETTLE_WEIGHT calls: the walker starts the longest chain first (a port before a
    volume no one waits for), so the builds on it overlap everything else."""
    order = list(reversed(list(nx.topological_sort(graph))))
    own: dict[Step, float] = {}
    chain: dict[Step, float] = {}
    for step in order:
        settles = step.phase in (CREATE, DELETE) and kinds[step.address.kind].settles
        own[step] = SETTLE_WEIGHT if settles else 1.0
        chain[step] = own[step] + max((chain[s] for s in graph.successors(step)), default=0.0)
    # What a step waits for together with a longer chain ranks with that chain: a router
    # that a thousand floating IPs need beside their servers is made while the servers
    # build, not after the volumes no one is in a hurry for.
    # (The longest chain among each step's fellow waiters is found once per step: asked
    # per waiter, a network that 1,000 ports wait on costs a million look-ups.)
    longest_waiter = {
        step: max((chain[p] for p in graph.predecessors(step)), default=0.0) for step in order
    }
    rank: dict[Step, float] = {}
    for step in order:
        later = (rank[s] for s in graph.successors(step))
        beside = (longest_waiter[s] for s in graph.successors(step))
        rank[step] = max(own[step] + max(later, default=0.0), max(beside, default=0.0))
    return rank


def _push(walk: _Walk, step: Step) -> None:
    # Deletes first frees quota for the creates that follow; then the longest chain; then
    # by address for stable logs.
    first = 0 if step.phase == DELETE else 1
    key = (first, -walk.rank[step], step.address.sort_key(), str(step.phase))
    heapq.heappush(walk.ready, (key, step))
