"""Server status computed from stored timestamps at read time.

A row holds the vm_state it is in, the task in progress, when that task ends and the
vm_state it ends in. Reading settles the task if its time has passed, so 10,000 building
servers cost no threads, timers or writes; a write settles first, then starts a task.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

# vm_state -> default status, and task_state -> status overrides (compute-api.md 6).
_DEFAULT_STATUS = {
    "building": "BUILD",
    "active": "ACTIVE",
    "stopped": "SHUTOFF",
    "paused": "PAUSED",
    "suspended": "SUSPENDED",
    "resized": "VERIFY_RESIZE",
    "error": "ERROR",
    "deleted": "DELETED",
}
_RESIZE = {"resize_prep": "RESIZE", "resize_migrating": "RESIZE", "resize_finish": "RESIZE"}
_REBUILD = {"rebuilding": "REBUILD", "rebuild_spawning": "REBUILD"}
_TASK_STATUS = {
    "active": {
        "rebooting": "REBOOT",
        "rebooting_hard": "HARD_REBOOT",
        **_RESIZE,
        **_REBUILD,
    },
    "stopped": {**_RESIZE, **_REBUILD, "rebooting_hard": "HARD_REBOOT"},
    "resized": {"resize_reverting": "REVERT_RESIZE"},
    "error": {**_REBUILD, "rebooting_hard": "HARD_REBOOT"},
}
# libvirt's: a paused domain is PAUSED (3); a suspended one is saved to disk and shut off,
# so Nova reads SHUTDOWN (4), not the SUSPENDED (7) other drivers report.
_POWER = {"active": 1, "resized": 1, "paused": 3, "suspended": 4, "stopped": 4}

# Which vm_states each status filter matches (Nova filters on vm_state, not status).
STATUS_TO_VM_STATES = {
    "BUILD": {"building"},
    "ACTIVE": {"active"},
    "SHUTOFF": {"stopped"},
    "PAUSED": {"paused"},
    "SUSPENDED": {"suspended"},
    "VERIFY_RESIZE": {"resized"},
    "ERROR": {"error"},
    "DELETED": {"deleted"},
    "REBOOT": {"active"},
    "HARD_REBOOT": {"active", "stopped", "error"},
    "RESIZE": {"active", "stopped"},
    "REVERT_RESIZE": {"resized"},
    "REBUILD": {"active", "stopped", "error"},
}


@dataclass(frozen=True, slots=True)
class Settled:
    """A server's state at one instant."""

    vm_state: str
    task_state: str | None
    updated: float
    gone: bool  # deleted and finished: 404 on GET, shown only to changes-since

    @property
    def status(self) -> str:
        by_task = _TASK_STATUS.get(self.vm_state, {})
        if self.task_state in by_task:
            return by_task[self.task_state]
        return _DEFAULT_STATUS.get(self.vm_state, "UNKNOWN")

    @property
    def power_state(self) -> int:
        if self.task_state in ("rebooting", "rebooting_hard") or self.task_state in _REBUILD:
            return 1
        return _POWER.get(self.vm_state, 0)


def settle(row: sqlite3.Row, now: float) -> Settled:
    vm_state, task = row["vm_state"], row["task_state"]
    updated = row["updated"]
    until = row["task_until"]
    if task is not None and until is not None and now >= until:
        vm_state, task = row["next_vm_state"], None
        updated = max(updated, until)
    gone = row["gone_at"] is not None and now >= row["gone_at"]
    if gone:
        vm_state, task = "deleted", None
    return Settled(vm_state, task, updated, gone)
