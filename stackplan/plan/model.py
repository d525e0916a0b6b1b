"""The plan as a value: what will change, how, and why. No I/O here.

A `Plan` is made by `diff` and read by the renderers, the plan file and the executor;
nothing mutates it. Attribute maps hold plain JSON values and never a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from stackplan.addr import Address
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Limit

# 2: the delta as a list of items, quota limits by measure; 3: late steps, the policy
PLAN_FORMAT_VERSION = 3


class Action(Enum):
    NO_OP = "no-op"
    CREATE = "create"
    UPDATE = "update"  # in place
    RESIZE = "resize"  # in place, reboots (flavor change); may carry in-place updates too
    REBUILD = "rebuild"  # in place, root disk wiped (image change with image_update: rebuild)
    DELETE = "delete"
    DELETE_THEN_CREATE = "delete-then-create"
    CREATE_THEN_DELETE = "create-then-delete"

    @property
    def is_replace(self) -> bool:
        return self in (Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)

    @property
    def is_destructive(self) -> bool:
        """Loses a resource or its disk: what a reviewer must see first."""
        return self.is_replace or self in (Action.DELETE, Action.REBUILD)

    @property
    def symbol(self) -> str:
        return _SYMBOLS[self]


_SYMBOLS = {
    Action.NO_OP: " ",
    Action.CREATE: "+",
    Action.UPDATE: "~",
    Action.RESIZE: "~",
    Action.REBUILD: "~",
    Action.DELETE: "-",
    Action.DELETE_THEN_CREATE: "-/+",
    Action.CREATE_THEN_DELETE: "+/-",
}


class Reason(Enum):
    """Why a change has its action, beyond the attributes listed in `replace_paths`."""

    NONE = "none"
    ATTRIBUTES = "attributes"  # the attributes in replace_paths / changed_paths
    REPLACE_REQUESTED = "replace-requested"  # --replace ADDR
    TAINTED = "tainted"  # a failed create or a server in ERROR
    GONE_FROM_CLOUD = "gone-from-cloud"  # in the state, deleted behind our back
    NOT_IN_SPEC = "not-in-spec"  # in the state, removed from the spec
    DESTROY = "destroy"  # plan --destroy / stackplan destroy
    ADOPTED = "adopted"  # created by an interrupted run, found by its marker
    FOREIGN = "foreign"  # made outside this stack: used as it is, never deleted
    RESUME = "resume"  # an update of ours a killed apply left midway: finished first


@dataclass(frozen=True, slots=True)
class Change:
    """One resource's change. `before` is the cloud now (or the state); `after` the spec."""

    address: Address
    action: Action
    reason: Reason = Reason.NONE
    id: str | None = None  # the existing resource's cloud ID
    before: Mapping[str, Any] | None = None
    after: Mapping[str, Any] | None = None
    changed_paths: tuple[str, ...] = ()  # every compared attribute that differs
    replace_paths: tuple[str, ...] = ()  # those that force the action (replace, rebuild, resize)
    drift: tuple[str, ...] = ()  # attributes the cloud changed since the state was written
    depends_on: tuple[Address, ...] = ()
    sensitive: tuple[str, ...] = ()  # attribute paths shown as (sensitive), digested in state
    note: str = ""  # what the cloud said of it (the fault of a tainted resource)
    # Attributes a create sets in a later step, once the resources they name exist, and
    # those resources: a group's rules naming another group (or itself) are no cycle.
    late: tuple[str, ...] = ()
    late_depends_on: tuple[Address, ...] = ()

    @property
    def kind(self) -> str:
        return self.address.kind


@dataclass(frozen=True, slots=True)
class DeltaItem:
    """One quantity the plan adds and frees (`vcpus`: 2 added, 1 removed), with its label."""

    name: str
    label: str  # "MB RAM"
    singular: str = ""  # the label for exactly one ("vCPU"); "" when the same
    added: int = 0
    removed: int = 0


@dataclass(frozen=True, slots=True)
class ResourceDelta:
    """Capacity the plan adds and frees, from the kinds' usage, in the kinds' order."""

    items: tuple[DeltaItem, ...] = ()

    def added(self, name: str) -> int:
        return next((i.added for i in self.items if i.name == name), 0)

    def removed(self, name: str) -> int:
        return next((i.removed for i in self.items if i.name == name), 0)


@dataclass(frozen=True, slots=True)
class QuotaCheck:
    """The project's limits against what the plan needs; `problems` non-empty blocks apply."""

    limits: Mapping[str, Limit] = field(default_factory=frozen_map)
    problems: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Violation:
    """One policy rule the plan breaks: its type, its message, where the policy says it,
    and the offenders (address, what about it: `replace`, `flavor m1.xlarge`)."""

    rule: str
    message: str
    where: str
    offenders: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PolicyReport:
    """The policy a plan was checked against (its file and digest) and what it found."""

    file: str
    digest: str
    violations: tuple[Violation, ...] = ()


@dataclass(frozen=True, slots=True)
class Plan:
    """What apply will do, and what it was made from (so a stale plan can be refused)."""

    stack: str
    lineage: str
    serial: int  # the state serial the plan was made from (0: no state yet)
    spec_digest: str
    changes: tuple[Change, ...]
    destroy: bool = False
    created_at: str = ""
    outputs: Mapping[str, str] = field(default_factory=frozen_map)
    delta: ResourceDelta = ResourceDelta()
    quota: QuotaCheck = QuotaCheck()
    warnings: tuple[str, ...] = ()
    # The variables' values the plan was made with: `apply PLANFILE` needs no --var again.
    # The plan file holds them (it is 0600 and checksummed); renderers never show them.
    variables: Mapping[str, Any] = field(default_factory=frozen_map)
    sensitive_outputs: tuple[str, ...] = ()  # outputs built from a sensitive value
    policy: PolicyReport | None = None  # None: made without --policy
    format_version: int = PLAN_FORMAT_VERSION

    @property
    def actionable(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.action is not Action.NO_OP)

    @property
    def has_changes(self) -> bool:
        return bool(self.actionable)

    def counts(self) -> dict[str, int]:
        """`add`, `change`, `replace`, `destroy` as in `Plan: N to add, ...`."""
        counts = {"add": 0, "change": 0, "replace": 0, "destroy": 0}
        for change in self.actionable:
            if change.action is Action.CREATE:
                counts["add"] += 1
            elif change.action is Action.DELETE:
                counts["destroy"] += 1
            elif change.action.is_replace:
                counts["replace"] += 1
            else:
                counts["change"] += 1
        return counts
