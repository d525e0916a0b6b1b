"""What every command shares: where the spec and the state are, the lock, the cloud.

`connected` and `locked` are the two context managers every operation uses; the spec is
loaded with the registered kinds here, so the operations never list kinds themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from stackplan.errors import StackplanError, StateError
from stackplan.kinds.registry import KINDS
from stackplan.spec.model import Desired
from stackplan.spec.source import SpecInput, load_desired
from stackplan.state.model import State
from stackplan.state.store import LockInfo, StateStore
from stackplan.state.store import locked as store_locked
from stackplan.state.stores import open_store

if TYPE_CHECKING:
    from stackplan.cloud import Cloud


@dataclass(frozen=True, slots=True)
class CloudInput:
    """Which cloud: `--cloud NAME` and the environment (OS_*, OS_CLOUD)."""

    name: str | None = None
    env: Mapping[str, str] | None = None  # None: os.environ
    # Where each retry is told (a slow endpoint must not look like a hang); None: silent.
    notify: Callable[[str], None] | None = None


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What every command shares: the spec, the state, the cloud, the lock."""

    spec: SpecInput
    cloud: CloudInput = CloudInput()
    state_path: Path | None = None  # default: state/<stack>.json beside the spec
    lock_timeout: float = 0.0
    command: str = "plan"
    notify: Callable[[str], None] | None = None  # notices (a stale lock taken over...)


def load(spec: SpecInput) -> Desired:
    """The spec, loaded, validated and expanded with the registered kinds. Its sensitive
    values are masked in every log line from now on (`--debug` included)."""
    from stackplan.cloud.secret import register_sensitive

    desired = load_desired(spec, KINDS)
    register_sensitive(desired.sensitive_texts)
    return desired


def state_location(run: RunOptions, stack: str) -> Path:
    """`--state`, else `state/<stack>.json` beside the spec."""
    if run.state_path is not None:
        return run.state_path
    return run.spec.path.parent / "state" / f"{stack}.json"


def store_for(run: RunOptions, stack: str) -> StateStore:
    return open_store(state_location(run, stack))


def store_of_spec_file(run: RunOptions) -> StateStore:
    """The store for the spec file without loading the spec: only its `stack:` is read, so
    that the state commands work on a spec that is broken."""
    from stackplan.spec.load import read_yaml_file

    stack = run.spec.path.stem
    if run.state_path is None:
        try:
            doc, _ = read_yaml_file(run.spec.path)
            value = doc.data.get("stack") if isinstance(doc.data, dict) else None
            stack = str(value or stack)
        except StackplanError:
            pass
    return store_for(run, stack)


@contextmanager
def locked(run: RunOptions, store: StateStore) -> Iterator[StateStore]:
    """Hold the store's lock for the block, named after this run's command."""
    info = LockInfo.new(run.command, store.describe())
    with store_locked(store, info, timeout=run.lock_timeout, notify=run.notify):
        yield store


@contextmanager
def connected(cloud_input: CloudInput) -> Iterator[Cloud]:
    """The cloud, authenticated, for the block; its connections closed after."""
    from stackplan.cloud import connect, load_config

    notify = cloud_input.notify
    on_retry = None if notify is None else (lambda event: notify(event.describe()))
    cloud = connect(load_config(cloud_input.name, env=cloud_input.env), on_retry=on_retry)
    try:
        yield cloud
    finally:
        cloud.close()


def read_state(store: StateStore) -> State | None:
    """The stored state, refused when it holds a kind this stackplan does not know."""
    state = store.read()
    if state is not None:
        unknown = sorted({r.kind for r in state.records if r.kind not in KINDS})
        if unknown:
            raise StateError(
                f"the state holds resources of unknown kinds: {', '.join(unknown)}",
                where=store.describe(),
                hint=f"this stackplan knows {', '.join(KINDS)}; a newer stackplan wrote it?",
            )
    return state


def existing_state(store: StateStore) -> State:
    state = read_state(store)
    if state is None:
        raise StateError(f"there is no state at {store.describe()}", hint="run stackplan apply")
    return state
