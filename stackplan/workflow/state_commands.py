"""The state commands (list, show, rm, mv, pull, push, unlock), outputs and the graph.

Each change to the state is made under its lock and written through the store, so it is
atomic and refused for a foreign lineage or an older serial by the store's own guard.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx

from stackplan.addr import Address
from stackplan.errors import ForeignStateError, StaleWriteError, StateError
from stackplan.sensitive import masked
from stackplan.state.model import ResourceRecord, State
from stackplan.state.store import Version
from stackplan.state.stores import open_store
from stackplan.workflow.context import (
    RunOptions,
    existing_state,
    load,
    locked,
    read_state,
    store_of_spec_file,
)


def _record(state: State, address: Address) -> ResourceRecord:
    record = state.record(address)
    if record is None:
        known = ", ".join(str(a) for a in state.resources) or "none"
        raise StateError(f"no resource {address} in the state", hint=f"the state holds: {known}")
    return record


def state_list(run: RunOptions) -> tuple[ResourceRecord, ...]:
    state = read_state(store_of_spec_file(run))
    return state.records if state else ()


def state_show(run: RunOptions, address: Address) -> ResourceRecord:
    return _record(existing_state(store_of_spec_file(run)), address)


def _change(run: RunOptions, change: Callable[[State], State]) -> State:
    store = store_of_spec_file(run)
    with locked(run, store):
        updated = change(existing_state(store)).next_serial()
        store.write(updated)
    return updated


def state_rm(run: RunOptions, address: Address) -> ResourceRecord:
    """Forget a resource (it stays in the cloud)."""
    removed: list[ResourceRecord] = []

    def forget(state: State) -> State:
        removed.append(_record(state, address))
        return state.without(address)

    _change(run, forget)
    return removed[0]


def state_mv(run: RunOptions, src: Address, dst: Address) -> None:
    _change(run, lambda state: state.moved(src, dst))


def state_pull(run: RunOptions, serial: int | None = None) -> State:
    """The state, or its kept version of `serial`."""
    store = store_of_spec_file(run)
    if serial is None:
        return existing_state(store)
    found = store.read_version(serial)
    if found is None:
        kept = ", ".join(str(v.serial) for v in store.versions()) or "none"
        raise StateError(
            f"no version {serial} of the state is kept",
            where=store.describe(),
            hint=f"the kept serials are: {kept}",
        )
    return found


def state_versions(run: RunOptions) -> list[Version]:
    """The kept versions of the state, newest first."""
    return store_of_spec_file(run).versions()


def state_migrate(run: RunOptions, to: str) -> tuple[State, str]:
    """Copy the state to another backend (a path or a postgresql:// URL), lineage and
    serial kept, both locked meanwhile. The destination may be empty, or hold an older
    version of the same lineage; another lineage there is never written over."""
    source = store_of_spec_file(run)
    with locked(run, source):
        state = existing_state(source)
        target = open_store(to, state.stack)
        if target.describe() == source.describe():
            raise StateError("the state is already there", where=source.describe())
        with locked(run, target):
            there = target.read()
            if there is not None and there.lineage != state.lineage:
                raise StateError(
                    f"{target.describe()} holds another history of stack {state.stack!r} "
                    f"(lineage {there.lineage}, not {state.lineage})",
                    where=target.describe(),
                    hint="migrate to another place, or remove that state there first",
                )
            if there is not None and there.serial > state.serial:
                raise StateError(
                    f"{target.describe()} is ahead (serial {there.serial} > {state.serial})",
                    where=target.describe(),
                    hint="migrate from there instead: it holds the newer state",
                )
            target.write(state)
    return state, target.describe()


def state_push(run: RunOptions, source: Path) -> State:
    """Replace the state with `source`: the store refuses another lineage or an older one."""
    from stackplan.state.file import parse_state

    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(f"cannot read {source}: {exc.strerror}") from None
    pushed = parse_state(text, str(source)).next_serial()
    store = store_of_spec_file(run)
    with locked(run, store):
        try:
            store.write(pushed)
        except ForeignStateError as exc:
            raise StateError(
                f"{source} belongs to another state (lineage {exc.written_lineage}, "
                f"not {exc.stored_lineage})",
                where=store.describe(),
                hint="push only a state pulled from this one",
            ) from exc
        except StaleWriteError as exc:
            raise StateError(
                f"{source} is older than the current state "
                f"(serial {exc.written_serial - 1} < {exc.stored_serial})",
                where=store.describe(),
                hint="pull the current state and make the change on it",
            ) from exc
    return pushed


def state_unlock(
    run: RunOptions, lock_id: str, notify: Callable[[str], None] | None, *, force: bool = False
) -> None:
    """Remove a lock left behind; one whose holder still runs only with `force`."""
    store_of_spec_file(run).force_unlock(lock_id, notify=notify, force=force)


def outputs(run: RunOptions) -> Mapping[str, Any]:
    """The outputs the last apply recorded; one built from a sensitive value reads
    (sensitive): the state keeps only its digest."""
    state = read_state(store_of_spec_file(run))
    return masked(state.outputs, state.sensitive_outputs) if state is not None else {}


def dependency_graph(run: RunOptions) -> nx.DiGraph:
    """The spec's dependency graph: an edge points at what is needed."""
    from stackplan.spec.graph import dependency_graph as graph_of

    return graph_of(load(run.spec))
