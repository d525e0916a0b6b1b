"""The persisted record of a stack: `State` and its `ResourceRecord`s, as frozen values.

Pure data and pure helpers that return new values; no I/O, no clock, no file format here
(`file.py` reads and writes them, `store.py` and `local.py` keep them).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from types import MappingProxyType
from typing import Any

from stackplan.addr import Address
from stackplan.errors import StateError
from stackplan.frozen import frozen_map

FORMAT_VERSION = 1


class RecordStatus(StrEnum):
    """What a record's status says about the resource behind it."""

    OK = "ok"  # created (or imported) and as the last apply left it
    TAINTED = "tainted"  # a create that failed or a resource that went to a failed status
    # The intent is recorded; the create may or may not have reached the cloud. `id` may be
    # None and attributes[CREATE_TOKEN] is the tag that finds the resource if it did.
    PENDING_CREATE = "pending_create"
    PENDING_DELETE = "pending_delete"  # a delete was sent and not yet confirmed
    # Used by this stack, made outside it (a keypair that existed before): never deleted,
    # only forgotten when the spec lets it go.
    FOREIGN = "foreign"


STATUSES = tuple(s.value for s in RecordStatus)
CREATE_TOKEN = "create_token"


@dataclass(frozen=True, slots=True)
class ResourceRecord:
    """What the state knows of one resource: its cloud ID, attributes and dependencies.

    `created_at` / `updated_at` are ISO 8601 UTC timestamps set by the caller (or None).
    """

    address: Address
    id: str | None
    attributes: Mapping[str, Any] = field(default_factory=dict)
    dependencies: tuple[Address, ...] = ()
    status: RecordStatus = RecordStatus.OK
    created_at: str | None = None
    updated_at: str | None = None
    fault: str | None = None  # the cloud's message for a resource that failed (tainted)
    # The attributes an update of ours was sent to reach, until it is seen finished: the
    # journal that lets the next run finish (or undo) what a killed apply left midway.
    pending: Mapping[str, Any] | None = None
    sensitive: tuple[str, ...] = ()  # attribute paths kept as digests (sensitive values)

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise StateError(
                f"unknown resource status {self.status!r}",
                where=str(self.address),
                hint="a status is one of " + ", ".join(STATUSES),
            )
        object.__setattr__(self, "status", RecordStatus(self.status))
        if self.id is None and self.status in (
            RecordStatus.OK,
            RecordStatus.PENDING_DELETE,
            RecordStatus.FOREIGN,
        ):
            raise StateError(f"a {self.status.value!r} record needs an id", where=str(self.address))
        deps = tuple(sorted(set(self.dependencies), key=Address.sort_key))
        object.__setattr__(self, "attributes", frozen_map(self.attributes, deep=True))
        object.__setattr__(self, "dependencies", deps)
        object.__setattr__(self, "sensitive", tuple(sorted(set(self.sensitive))))
        if self.pending is not None:
            object.__setattr__(self, "pending", frozen_map(self.pending, deep=True))

    @property
    def kind(self) -> str:
        return self.address.kind

    def with_status(self, status: RecordStatus) -> ResourceRecord:
        return replace(self, status=status)


def _sorted_records(records: Iterable[ResourceRecord]) -> Mapping[Address, ResourceRecord]:
    ordered = sorted(records, key=lambda r: r.address.sort_key())
    return MappingProxyType({r.address: r for r in ordered})


@dataclass(frozen=True, slots=True)
class State:
    """One snapshot of a stack's state file.

    `lineage` (a uuid4) is fixed when the state is created and never changes; `serial`
    grows by one on every write (the caller calls `next_serial()` before writing).
    `resources` is a read-only map sorted by address. The helpers return new values and
    leave the serial alone.
    """

    format_version: int
    lineage: str
    serial: int
    stack: str
    resources: Mapping[Address, ResourceRecord] = field(default_factory=dict)
    outputs: Mapping[str, Any] = field(default_factory=dict)
    sensitive_outputs: tuple[str, ...] = ()  # outputs `stackplan output` lists hidden

    def __post_init__(self) -> None:
        for address, record in self.resources.items():
            if address != record.address:
                raise StateError(f"record for {record.address} filed under {address}")
        if self.serial < 0:
            raise StateError(f"serial {self.serial} is negative")
        object.__setattr__(self, "resources", _sorted_records(self.resources.values()))
        object.__setattr__(self, "outputs", frozen_map(self.outputs, deep=True))

    @classmethod
    def new(cls, stack: str, lineage: str | None = None) -> State:
        """An empty state for `stack`: a fresh lineage, serial 0."""
        return cls(FORMAT_VERSION, lineage or str(uuid.uuid4()), 0, stack)

    @property
    def records(self) -> tuple[ResourceRecord, ...]:
        """Every record, sorted by address."""
        return tuple(self.resources.values())

    def record(self, address: Address) -> ResourceRecord | None:
        """The record at `address`, or None if the state holds nothing there."""
        return self.resources.get(address)

    def next_serial(self) -> State:
        """This state with its serial one higher: what a write of a change carries."""
        return replace(self, serial=self.serial + 1)

    def with_record(self, record: ResourceRecord) -> State:
        """This state with `record` added, or replacing the record at its address."""
        resources = dict(self.resources)
        resources[record.address] = record
        return replace(self, resources=resources)

    def without(self, address: Address) -> State:
        """This state without the record at `address` (which must be there)."""
        if address not in self.resources:
            raise StateError(f"no resource {address} in the state", where=str(address))
        resources = dict(self.resources)
        del resources[address]
        return replace(self, resources=resources)

    def moved(self, src: Address, dst: Address) -> State:
        """This state with the record at `src` now at `dst`, and dependencies on it renamed.

        Refuses a missing source, an occupied destination and a change of kind.
        """
        record = self.resources.get(src)
        if record is None:
            raise StateError(f"no resource {src} in the state", where=str(src))
        if dst in self.resources:
            raise StateError(f"{dst} is already in the state", where=str(dst))
        if src.kind != dst.kind:
            raise StateError(
                f"cannot move a {src.kind} to a {dst.kind} address", where=f"{src} -> {dst}"
            )
        resources: dict[Address, ResourceRecord] = {}
        for rec in self.resources.values():
            if rec.address == src:
                rec = replace(rec, address=dst)
            if src in rec.dependencies:
                deps = tuple(dst if d == src else d for d in rec.dependencies)
                rec = replace(rec, dependencies=deps)
            resources[rec.address] = rec
        return replace(self, resources=resources)

    def with_outputs(self, outputs: Mapping[str, Any], sensitive: tuple[str, ...] = ()) -> State:
        """This state with its outputs replaced by `outputs` (`sensitive` names those hidden)."""
        return replace(self, outputs=outputs, sensitive_outputs=tuple(sorted(sensitive)))
