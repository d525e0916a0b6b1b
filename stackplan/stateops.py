"""The state commands: list, show, rm, mv, pull, push, unlock; refresh, import, outputs, graph.

Each change to the state is made under its lock and written through the store, so it
is atomic, backed up and refused for a foreign lineage or an older serial.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from stackplan.addr import Address
from stackplan.errors import StackplanError, StateError
from stackplan.runs import RunOptions, connect_cloud, locked_store, state_path_for
from stackplan.spec.source import load_desired
from stackplan.state.local import LocalStateStore
from stackplan.state.model import RecordStatus, ResourceRecord, State


def _store(run: RunOptions) -> LocalStateStore:
    """The store for this spec: `--state`, else `state/<stack>.json` beside the spec.

    Only the spec's `stack:` is read, so state commands work on a spec that is broken.
    """
    if run.state_path is not None:
        return LocalStateStore(run.state_path)
    from stackplan.spec.load import read_yaml_file

    stack = run.spec.path.stem
    try:
        doc, _ = read_yaml_file(run.spec.path)
        value = doc.data.get("stack") if isinstance(doc.data, dict) else None
        stack = str(value or stack)
    except StackplanError:
        pass
    return LocalStateStore(state_path_for(run.spec.path, stack, None))


def _existing(store: LocalStateStore) -> State:
    state = store.read()
    if state is None:
        raise StateError(f"there is no state at {store.describe()}", hint="run stackplan apply")
    return state


def _record(state: State, address: Address) -> ResourceRecord:
    record = state.record(address)
    if record is None:
        known = ", ".join(str(a) for a in state.resources) or "none"
        raise StateError(f"no resource {address} in the state", hint=f"the state holds: {known}")
    return record


def state_list(run: RunOptions) -> tuple[ResourceRecord, ...]:
    state = _store(run).read()
    return state.records if state else ()


def state_show(run: RunOptions, address: Address) -> ResourceRecord:
    return _record(_existing(_store(run)), address)


def _change(run: RunOptions, change: Callable[[State], State]) -> State:
    store = _store(run)
    with locked_store(run, store):
        updated = change(_existing(store)).next_serial()
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


def state_pull(run: RunOptions) -> str:
    from stackplan.state.file import dump_state

    return dump_state(_existing(_store(run)))


def state_push(run: RunOptions, source: Path) -> State:
    """Replace the state with `source`: same lineage, and not older than the current one."""
    from stackplan.state.file import parse_state

    try:
        text = source.read_text(encoding="utf-8")
    except OSError as exc:
        raise StateError(f"cannot read {source}: {exc.strerror}") from None
    pushed = parse_state(text, str(source))
    store = _store(run)
    with locked_store(run, store):
        current = store.read()
        if current is not None:
            if current.lineage != pushed.lineage:
                raise StateError(
                    f"{source} belongs to another state (lineage {pushed.lineage}, "
                    f"not {current.lineage})",
                    hint="push only a state pulled from this one",
                )
            if pushed.serial < current.serial:
                raise StateError(
                    f"{source} is older than the current state "
                    f"(serial {pushed.serial} < {current.serial})",
                    hint="pull the current state and make the change on it",
                )
            pushed = State(
                pushed.format_version,
                pushed.lineage,
                current.serial,
                pushed.stack,
                pushed.resources,
                pushed.outputs,
            )
        updated = pushed.next_serial()
        store.write(updated)
    return updated


def state_unlock(run: RunOptions, lock_id: str, notify: Callable[[str], None] | None) -> None:
    _store(run).force_unlock(lock_id, notify=notify)


def outputs(run: RunOptions) -> Mapping[str, Any]:
    state = _store(run).read()
    return dict(state.outputs) if state else {}


def dependency_dot(run: RunOptions) -> str:
    """The spec's dependency graph in Graphviz DOT: an edge points at what is needed."""
    from stackplan.spec.graph import dependency_graph

    graph = dependency_graph(load_desired(run.spec))
    lines = ["digraph stackplan {", "  rankdir=LR;", "  node [shape=box];"]
    lines += [f'  "{node}";' for node in sorted(graph.nodes, key=Address.sort_key)]
    edges = sorted(graph.edges, key=lambda e: (e[0].sort_key(), e[1].sort_key()))
    lines += [f'  "{a}" -> "{b}";' for a, b in edges]
    lines.append("}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True, slots=True)
class RefreshResult:
    state: State
    updated: tuple[Address, ...]  # records whose attributes the cloud changed
    gone: tuple[Address, ...]  # records forgotten: the cloud no longer has them
    tainted: tuple[Address, ...]  # servers found in ERROR


def refresh_state(run: RunOptions) -> RefreshResult:
    """Bring the state's attributes in line with the cloud; forget what the cloud lost."""
    from stackplan.kinds.registry import KINDS
    from stackplan.refresh import refresh

    store = _store(run)
    with locked_store(run, store):
        state = _existing(store)
        cloud = connect_cloud(run.cloud)
        try:
            observed = refresh(state, cloud, KINDS, state.lineage)
        finally:
            cloud.close()
        updated, gone, tainted = [], [], []
        new = state
        for record in state.records:
            found = observed.get(record.kind, record.id)
            if record.id is None:
                continue
            if found is None or found.status == "GONE":
                gone.append(record.address)
                new = new.without(record.address)
                continue
            attributes = {**record.attributes, **found.attrs}
            status = RecordStatus.TAINTED if found.failed else record.status
            if attributes != dict(record.attributes) or status != record.status:
                (
                    tainted
                    if status is RecordStatus.TAINTED and record.status != status
                    else updated
                ).append(record.address)
                new = new.with_record(
                    ResourceRecord(
                        record.address,
                        record.id,
                        attributes,
                        record.dependencies,
                        status,
                        record.created_at,
                        record.updated_at,
                    )
                )
        if new != state:
            new = new.next_serial()
            store.write(new)
    return RefreshResult(new, tuple(updated), tuple(gone), tuple(tainted))


@dataclass(frozen=True, slots=True)
class ImportResult:
    address: Address
    id: str
    state: State


def import_resource(run: RunOptions, address: Address, resource_id: str) -> ImportResult:
    """Take an existing cloud resource under management at `address` (which the spec has)."""
    from stackplan.kinds.registry import KINDS
    from stackplan.resolve import resolve

    desired = load_desired(run.spec)
    wanted = desired.by_address().get(address)
    if wanted is None:
        known = ", ".join(str(r.address) for r in desired.resources) or "none"
        raise StackplanError(
            f"{address} is not in the spec {run.spec.path}",
            hint=f"add it to the spec first; the spec has: {known}",
        )
    store = LocalStateStore(state_path_for(run.spec.path, desired.stack, run.state_path))
    kind = KINDS[address.kind]
    with locked_store(run, store):
        state = store.read() or State.new(desired.stack)
        if state.record(address) is not None:
            raise StateError(
                f"{address} is already in the state", hint=f"stackplan state rm {address} first"
            )
        cloud = connect_cloud(run.cloud)
        try:
            resolved = resolve(desired, cloud).by_address()[address]
            found = [
                r
                for r in kind.read_many(cloud, {resource_id}, state.lineage)
                if r.id == resource_id
            ]
        finally:
            cloud.close()
        if not found:
            raise StackplanError(
                f"the cloud has no {address.kind} with ID {resource_id}", where=str(address)
            )
        # The spec's view fills what the cloud does not report (the user data digest).
        attributes = {**kind.recorded(resolved.attrs), **found[0].attrs}
        record = ResourceRecord(address, resource_id, attributes, resolved.depends_on)
        updated = state.with_record(record).next_serial()
        store.write(updated)
    return ImportResult(address, resource_id, updated)


def describe_record(record: ResourceRecord) -> str:
    """`stackplan state show`: the record as indented JSON."""
    doc = {
        "address": str(record.address),
        "id": record.id,
        "status": record.status,
        "attributes": dict(record.attributes),
        "dependencies": [str(a) for a in record.dependencies],
    }
    return json.dumps(doc, indent=2, sort_keys=True, default=str)
