"""Keeps the state in step with an apply: one write after every step, from any thread.

Every write goes through the store (atomic, serial + 1), so a kill at any moment leaves
the last completed step recorded and never a half-written file. A store that keeps a
journal is sent what changed, not the whole state, and gets a whole state at the end.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from stackplan.apply.steps import CREATE, DELETE, LATE, RECORD, UPDATE, Step
from stackplan.clock import now_iso
from stackplan.kinds.base import Kind, Marker
from stackplan.plan.model import Action, Reason
from stackplan.plan.refs import interpolate, state_lookup
from stackplan.sensitive import digested
from stackplan.state.model import CREATE_TOKEN, RecordStatus, ResourceRecord, State
from stackplan.state.store import Journaled, StateDelta

if TYPE_CHECKING:
    from stackplan.addr import Address


class Draft:
    """The records being changed: what a change reads and writes in place of a State, so
    that a change costs what it touches, not the size of the state."""

    def __init__(self, records: dict[Address, ResourceRecord]):
        self.resources = records  # read by `state_lookup` as a State's are
        self.touched: dict[Address, ResourceRecord | None] = {}

    def record(self, address: Address) -> ResourceRecord | None:
        return self.resources.get(address)

    def with_record(self, record: ResourceRecord) -> Draft:
        self.resources[record.address] = record
        self.touched[record.address] = record
        return self

    def without(self, address: Address) -> Draft:
        del self.resources[address]
        self.touched[address] = None
        return self


Change = Callable[[Draft], Draft]


class StateRecorder:
    """The state during an apply. `write` persists a State; it is called under a lock.
    With a `journal` (the store's), each write after the first sends only what changed,
    until the store asks for a whole state again; `close` writes one.

    When a commit returns, its change is on disk. Commits from several threads at once
    share writes (group commit): while one write runs, the changes that arrive meanwhile
    go out together in the next, so the serial grows by one per write, not per change.
    """

    def __init__(
        self,
        state: State,
        write: Callable[[State], None],
        kinds: Mapping[str, Kind],
        journal: Journaled | None = None,
    ):
        self._base = state  # lineage, stack, outputs: what an apply never changes
        self._serial = state.serial
        self._draft = Draft(dict(state.resources))
        self._write = write
        self._journal = journal
        self._kinds = kinds
        self._lock = threading.Lock()  # guards _draft and _serial
        self._write_lock = threading.Lock()  # one write at a time
        self._cached: State | None = state
        self._journaled = False  # deltas written since the last whole state

    @property
    def state(self) -> State:
        """The state as recorded now (built on demand: `record` is the cheap look-up)."""
        with self._lock:
            if self._cached is None:
                self._cached = self._whole()
            return self._cached

    def record(self, address: Address) -> ResourceRecord | None:
        with self._lock:
            return self._draft.record(address)

    def _whole(self) -> State:
        return replace(self._base, serial=self._serial, resources=dict(self._draft.resources))

    def _commit(self, change: Change) -> None:
        with self._lock:
            change(self._draft)
            self._cached = None
        with self._write_lock:
            with self._lock:
                touched = self._draft.touched
                if not touched:
                    return  # a write since our change was made carried it
                self._draft.touched = {}
                self._serial += 1
                whole = self._journal is None or self._journal.needs_snapshot()
                new = self._whole() if whole else None
                delta = None if whole else _delta(self._base.lineage, self._serial, touched)
            try:
                if new is not None:
                    self._write(new)
                    self._journaled = False
                elif delta is not None and self._journal is not None:
                    self._journal.append(delta)
                    self._journaled = True
            except BaseException:
                with self._lock:
                    self._serial -= 1  # the next commit retries these changes
                    self._draft.touched = {**touched, **self._draft.touched}
                raise

    def close(self) -> None:
        """Fold what was journaled into one whole state (readers of the file alone see it
        all; the next run reads no journal)."""
        with self._write_lock:
            if not self._journaled:
                return
            with self._lock:
                self._serial += 1
                new = self._whole()
            self._write(new)
            self._journaled = False

    def filled(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """`attrs` with `${kind.name.attr}` references filled from what is recorded now."""
        with self._lock:
            lookup = state_lookup(self._draft)  # type: ignore[arg-type]
            filled, unknown = interpolate(attrs, lookup)
        if unknown:
            # The executor orders steps by dependency, so this means a failed dependency.
            raise ValueError(f"references still unknown at apply time: {', '.join(unknown)}")
        return dict(filled)

    def settled(self, step: Step, reported: Mapping[str, Any]) -> None:
        """Attributes the cloud only knows once the resource is up (an IP address)."""
        self.settled_all([(step, reported)])

    def settled_all(self, items: list[tuple[Step, Mapping[str, Any]]]) -> None:
        """`settled` for every resource one poll found up, in one write."""

        def change(state: Draft) -> Draft:
            for step, reported in items:
                record = state.record(step.address)
                if record is not None and reported:
                    attributes = {**record.attributes, **reported}
                    state = state.with_record(_replace_attrs(record, attributes))
            return state

        if any(reported for _, reported in items):
            self._commit(change)

    def intent(self, step: Step, marker: Marker, extra: Mapping[str, Any]) -> None:
        """Before a create: note that it is about to happen, the tag that will find it, and
        what else the kind needs to find it again (`Kind.intent`)."""
        if step.change.action is Action.CREATE_THEN_DELETE:
            return  # the record still holds the old resource until it is deleted
        record = ResourceRecord(
            address=step.address,
            id=None,
            attributes={**extra, CREATE_TOKEN: marker.token},
            dependencies=step.change.depends_on,
            status=RecordStatus.PENDING_CREATE,
            created_at=now_iso(),
        )
        self._commit(lambda s: s.with_record(record))

    def _recorded(self, step: Step, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """What the state keeps of `attrs`: the kind's choice, sensitive values digested."""
        kind = self._kinds[step.address.kind]
        return digested(kind.recorded(attrs), step.change.sensitive)

    def created(self, step: Step, resource_id: str, attrs: Mapping[str, Any]) -> None:
        record = ResourceRecord(
            address=step.address,
            id=resource_id,
            attributes=self._recorded(step, attrs),
            dependencies=step.change.depends_on,
            status=RecordStatus.OK,
            created_at=now_iso(),
            updated_at=now_iso(),
            sensitive=step.change.sensitive,
        )
        self._commit(lambda s: s.with_record(record))

    def adopt(self, step: Step) -> None:
        change = step.change
        foreign = change.reason is Reason.FOREIGN
        # An adopted resource that an update then changes is recorded as the cloud holds
        # it: the desired values may still name what is not recorded yet.
        updating = change.reason is Reason.ADOPTED and change.action is not Action.NO_OP
        attrs = (change.before if updating else change.after) or {}
        record = ResourceRecord(
            address=step.address,
            id=change.id,
            attributes=self._recorded(step, attrs),
            dependencies=change.depends_on,
            status=RecordStatus.FOREIGN if foreign else RecordStatus.OK,
            updated_at=now_iso(),
            sensitive=change.sensitive,
        )
        self._commit(lambda s: s.with_record(record))

    def journal(self, step: Step, after: Mapping[str, Any]) -> None:
        """Before an update that can stop midway: the attributes it is sent to reach."""
        record = self.record(step.address)
        if record is not None:
            pending = replace(record, pending=self._recorded(step, after))
            self._commit(lambda s: s.with_record(pending))

    def step_done(self, step: Step) -> None:
        self.steps_done([step])

    def steps_done(self, steps: list[Step]) -> None:
        """What finished updates and deletes change in the state, in one write (a poll may
        find hundreds of deletes done). CREATE and RECORD were recorded when the cloud
        answered."""
        changes: list[Change] = []
        for step in steps:
            if step.phase in (UPDATE, LATE):
                attributes = self._recorded(step, self.filled(step.change.after or {}))
                reported = self._kinds[step.address.kind].reported
                changes.append(
                    lambda s, step=step, a=attributes, r=reported: _updated(s, step, a, r)
                )
            elif step.phase == DELETE:
                changes.append(lambda s, step=step: _forget(s, step, step.change.id))

        def change_all(state: Draft) -> Draft:
            for change in changes:
                state = change(state)
            return state

        if changes:
            self._commit(change_all)

    def step_failed(self, step: Step, resource_id: str | None, fault: str | None = None) -> None:
        """A failed create with an ID (a server that went to ERROR) is kept as tainted, with
        the cloud's fault, so that the next plan says why it replaces it."""
        if step.phase != CREATE or resource_id is None:
            return  # a pending_create record stays: the next refresh looks for its tag
        record = self.record(step.address)
        if record is not None and record.id == resource_id:
            tainted = replace(record, status=RecordStatus.TAINTED, fault=fault)
            self._commit(lambda s: s.with_record(tainted))

    def id_to_delete(self, step: Step) -> str | None:
        return step.change.id


def _replace_attrs(record: ResourceRecord, attributes: Mapping[str, Any]) -> ResourceRecord:
    return replace(record, attributes=attributes, updated_at=now_iso())


def _delta(
    lineage: str, serial: int, touched: Mapping[Address, ResourceRecord | None]
) -> StateDelta:
    put = tuple(r for r in touched.values() if r is not None)
    drop = tuple(a for a, r in touched.items() if r is None)
    return StateDelta(lineage, serial, put, drop)


def _updated(
    state: Draft, step: Step, attributes: Mapping[str, Any], reported: tuple[str, ...] = ()
) -> Draft:
    record = state.record(step.address)
    if record is not None:
        # What the cloud reported (a floating IP's address) stays known across an update
        # that does not change it: the desired attributes never hold it.
        kept = {k: record.attributes[k] for k in reported if k in record.attributes}
        attributes = {**kept, **attributes}
    # An adopted resource may have only a pending_create record (no ID) or none at all.
    resource_id = step.change.id or (record.id if record else None)
    if step.phase == LATE and record is not None and record.id:
        resource_id = record.id  # made by this apply: a replacement's ID is not the plan's
    if resource_id is None:
        return state
    return state.with_record(
        ResourceRecord(
            address=step.address,
            id=resource_id,
            attributes=attributes,
            dependencies=step.change.depends_on or (record.dependencies if record else ()),
            status=RecordStatus.OK,
            created_at=record.created_at if record else None,
            updated_at=now_iso(),
            sensitive=step.change.sensitive,
        )
    )


def _forget(state: Draft, step: Step, deleted_id: str | None) -> Draft:
    record = state.record(step.address)
    if record is None:
        return state
    # After create-then-delete the address already holds the new resource: keep it.
    if step.change.action is Action.CREATE_THEN_DELETE and record.id != deleted_id:
        return state
    return state.without(step.address)


__all__ = ["RECORD", "StateRecorder"]
