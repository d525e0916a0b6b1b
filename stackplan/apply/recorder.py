"""Keeps the state in step with an apply: one write after every step, from any thread.

Every write goes through the store (atomic, serial + 1), so a kill at any moment leaves
the last completed step recorded and never a half-written file.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import Any

from stackplan.apply.steps import CREATE, DELETE, LATE, RECORD, UPDATE, Step
from stackplan.clock import now_iso
from stackplan.kinds.base import Kind, Marker
from stackplan.plan.model import Action, Reason
from stackplan.plan.refs import interpolate, state_lookup
from stackplan.sensitive import digested
from stackplan.state.model import CREATE_TOKEN, RecordStatus, ResourceRecord, State


class StateRecorder:
    """The state during an apply. `write` persists a State; it is called under a lock.

    When a commit returns, its change is on disk. Commits from several threads at once
    share writes (group commit): while one write runs, the changes that arrive meanwhile
    go out together in the next, so the serial grows by one per write, not per change.
    """

    def __init__(self, state: State, write: Callable[[State], None], kinds: Mapping[str, Kind]):
        self._state = state
        self._write = write
        self._kinds = kinds
        self._lock = threading.Lock()  # guards _state and _dirty
        self._write_lock = threading.Lock()  # one write at a time
        self._dirty = False  # _state holds changes not yet written

    @property
    def state(self) -> State:
        return self._state

    def _commit(self, change: Callable[[State], State]) -> None:
        with self._lock:
            self._state = change(self._state)
            self._dirty = True
        with self._write_lock:
            with self._lock:
                if not self._dirty:
                    return  # a write since our change was made carried it
                new = self._state.next_serial()
                self._state = new
                self._dirty = False
            try:
                self._write(new)
            except BaseException:
                with self._lock:
                    self._dirty = True  # the next commit retries these changes
                raise

    def filled(self, attrs: Mapping[str, Any]) -> dict[str, Any]:
        """`attrs` with `${kind.name.attr}` references filled from what is recorded now."""
        filled, unknown = interpolate(attrs, state_lookup(self._state))
        if unknown:
            # The executor orders steps by dependency, so this means a failed dependency.
            raise ValueError(f"references still unknown at apply time: {', '.join(unknown)}")
        return dict(filled)

    def settled(self, step: Step, reported: Mapping[str, Any]) -> None:
        """Attributes the cloud only knows once the resource is up (an IP address)."""
        self.settled_all([(step, reported)])

    def settled_all(self, items: list[tuple[Step, Mapping[str, Any]]]) -> None:
        """`settled` for every resource one poll found up, in one write."""

        def change(state: State) -> State:
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
        record = self._state.record(step.address)
        if record is not None:
            pending = replace(record, pending=self._recorded(step, after))
            self._commit(lambda s: s.with_record(pending))

    def step_done(self, step: Step) -> None:
        self.steps_done([step])

    def steps_done(self, steps: list[Step]) -> None:
        """What finished updates and deletes change in the state, in one write (a poll may
        find hundreds of deletes done). CREATE and RECORD were recorded when the cloud
        answered."""
        changes: list[Callable[[State], State]] = []
        for step in steps:
            if step.phase in (UPDATE, LATE):
                attributes = self._recorded(step, self.filled(step.change.after or {}))
                reported = self._kinds[step.address.kind].reported
                changes.append(
                    lambda s, step=step, a=attributes, r=reported: _updated(s, step, a, r)
                )
            elif step.phase == DELETE:
                changes.append(lambda s, step=step: _forget(s, step, step.change.id))

        def change_all(state: State) -> State:
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
        record = self._state.record(step.address)
        if record is not None and record.id == resource_id:
            tainted = replace(record, status=RecordStatus.TAINTED, fault=fault)
            self._commit(lambda s: s.with_record(tainted))

    def id_to_delete(self, step: Step) -> str | None:
        return step.change.id


def _replace_attrs(record: ResourceRecord, attributes: Mapping[str, Any]) -> ResourceRecord:
    return replace(record, attributes=attributes, updated_at=now_iso())


def _updated(
    state: State, step: Step, attributes: Mapping[str, Any], reported: tuple[str, ...] = ()
) -> State:
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


def _forget(state: State, step: Step, deleted_id: str | None) -> State:
    record = state.record(step.address)
    if record is None:
        return state
    # After create-then-delete the address already holds the new resource: keep it.
    if step.change.action is Action.CREATE_THEN_DELETE and record.id != deleted_id:
        return state
    return state.without(step.address)


__all__ = ["RECORD", "StateRecorder"]
