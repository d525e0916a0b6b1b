"""The state: the persisted record of a stack, its file format, stores and their locks.

Imports nothing above `addr`, `errors` and `schemas`; knows nothing of clouds or plans.
"""

from stackplan.state.file import FORMAT_VERSION, UPGRADES, dump_state, parse_state
from stackplan.state.local import LocalStateStore
from stackplan.state.model import CREATE_TOKEN, STATUSES, ResourceRecord, State
from stackplan.state.store import Locker, LockInfo, StateStore, locked

__all__ = [
    "CREATE_TOKEN",
    "FORMAT_VERSION",
    "STATUSES",
    "UPGRADES",
    "LocalStateStore",
    "LockInfo",
    "Locker",
    "ResourceRecord",
    "State",
    "StateStore",
    "dump_state",
    "locked",
    "parse_state",
]
