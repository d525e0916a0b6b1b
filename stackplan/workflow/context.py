"""What every command shares: where the spec and the state are, the lock, the cloud.

`connected` and `locked` are the two context managers every operation uses; the spec is
loaded with the registered kinds here, so the operations never list kinds themselves.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackplan.collector import paused
from stackplan.errors import StackplanError, StateError
from stackplan.kinds.registry import KINDS
from stackplan.spec.model import Desired
from stackplan.spec.source import SpecInput, load_desired
from stackplan.state.model import State
from stackplan.state.pg_url import is_postgres_url, parse_backend_url
from stackplan.state.store import LockInfo, StateStore
from stackplan.state.store import locked as store_locked
from stackplan.state.stores import Location, open_store

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

    with paused():
        desired = load_desired(spec, KINDS)
    register_sensitive(desired.sensitive_texts)
    return desired


BACKEND_VARIABLE = "STACKPLAN_BACKEND"


def state_location(run: RunOptions, stack: str, backend: Mapping[str, Any]) -> Location:
    """`--state PATH`, else `STACKPLAN_BACKEND`, else the spec's `backend:`, else
    `state/<stack>.json` beside the spec."""
    if run.state_path is not None:
        return run.state_path
    url = run.spec.env.get(BACKEND_VARIABLE)
    if url:
        if not is_postgres_url(url):
            raise StackplanError(
                f"{BACKEND_VARIABLE} must be a postgresql:// URL",
                hint="postgresql://USER@HOST:PORT/DATABASE[?schema=NAME]; unset it for the "
                "spec's backend",
            )
        return parse_backend_url(url)
    postgres = backend.get("postgresql")
    if postgres:
        return parse_backend_url(str(postgres["url"]), postgres.get("schema"))
    local = backend.get("local") or {}
    if local.get("path"):
        return run.spec.path.parent / str(local["path"])
    return run.spec.path.parent / "state" / f"{stack}.json"


def store_for(run: RunOptions, stack: str, backend: Mapping[str, Any]) -> StateStore:
    return open_store(state_location(run, stack, backend), stack)


def store_of_spec_file(run: RunOptions) -> StateStore:
    """The store for the spec file without loading the spec: only its `stack:` and
    `backend:` are read, so that the state commands work on a spec that is broken."""
    from stackplan.spec.load import read_yaml_file

    stack, backend = run.spec.path.stem, {}
    try:
        doc, _ = read_yaml_file(run.spec.path)
        data = doc.data if isinstance(doc.data, dict) else {}
        stack = str(data.get("stack") or stack)
        if isinstance(data.get("backend"), dict):
            backend = data["backend"]
    except StackplanError:
        pass
    return store_for(run, stack, backend)


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
    with paused():
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
