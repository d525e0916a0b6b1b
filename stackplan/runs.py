"""Plan, apply and refresh: one run of a spec against a cloud and a state, start to end.

The steps are the pipeline of DESIGN.md: load the spec, lock and read the state, reach
the cloud, resolve names, refresh, diff; apply walks the plan and writes the state after
every step. `workflow` re-exports these; the CLI renders what they return.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackplan.addr import Address
from stackplan.errors import ApplyError, PlanError
from stackplan.spec.model import Desired
from stackplan.spec.source import SpecInput, load_desired
from stackplan.state.local import LocalStateStore
from stackplan.state.model import State
from stackplan.state.store import LockInfo, locked

if TYPE_CHECKING:
    from stackplan.apply.events import EventSink
    from stackplan.apply.executor import ApplyResult
    from stackplan.cloud import Cloud
    from stackplan.plan.model import Plan


@dataclass(frozen=True, slots=True)
class CloudInput:
    """Which cloud: `--cloud NAME` and the environment (OS_*, OS_CLOUD)."""

    name: str | None = None
    env: Mapping[str, str] | None = None  # None: os.environ


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What plan, apply and destroy share: the spec, the state, the cloud, the lock."""

    spec: SpecInput
    cloud: CloudInput = CloudInput()
    state_path: Path | None = None  # default: state/<stack>.json beside the spec
    lock_timeout: float = 0.0
    command: str = "plan"
    notify: Callable[[str], None] | None = None  # notices (a stale lock taken over...)


@dataclass(frozen=True, slots=True)
class PlanOptions:
    targets: tuple[Address, ...] = ()
    replace: tuple[Address, ...] = ()
    destroy: bool = False
    refresh: bool = True


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    parallelism: int = 10
    poll_interval: float = 1.0
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Plan
    desired: Desired
    state_path: Path


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when the plan had nothing to do
    state: State | None
    outputs: Mapping[str, Any]


def state_path_for(spec_path: Path, stack: str, given: Path | None) -> Path:
    """`--state`, else `state/<stack>.json` beside the spec."""
    return given if given is not None else spec_path.parent / "state" / f"{stack}.json"


def open_store(options: RunOptions, desired: Desired) -> LocalStateStore:
    return LocalStateStore(state_path_for(options.spec.path, desired.stack, options.state_path))


@contextmanager
def locked_store(options: RunOptions, store: LocalStateStore) -> Iterator[LocalStateStore]:
    info = LockInfo.new(options.command, str(store.path))
    with locked(store, info, timeout=options.lock_timeout, notify=options.notify):
        yield store


def connect_cloud(cloud_input: CloudInput) -> Cloud:
    from stackplan.cloud import connect, load_config

    return connect(load_config(cloud_input.name, env=cloud_input.env))


def make_plan(desired: Desired, prior: State | None, cloud: Cloud, options: PlanOptions) -> Plan:
    """Resolve, refresh and diff: the plan for `desired` against `prior` and the cloud."""
    from stackplan.kinds.registry import KINDS
    from stackplan.plan.diff import DiffOptions, diff
    from stackplan.refresh import refresh, unrefreshed
    from stackplan.resolve import resolve

    lineage = prior.lineage if prior else str(uuid.uuid4())
    resolved = desired if options.destroy else resolve(desired, cloud)
    observed = refresh(prior, cloud, KINDS, lineage) if options.refresh else unrefreshed()
    limits = None if options.destroy else _limits(cloud)
    return diff(
        resolved,
        prior,
        observed,
        DiffOptions(
            targets=options.targets,
            replace=options.replace,
            destroy=options.destroy,
            created_at=_now(),
            lineage=lineage,
            limits=limits,
        ),
    )


def plan(run: RunOptions, options: PlanOptions) -> PlanResult:
    """Make a plan under the state lock; nothing is changed anywhere."""
    desired = load_desired(run.spec)
    store = open_store(run, desired)
    with locked_store(run, store):
        prior = store.read()
        cloud = connect_cloud(run.cloud)
        try:
            made = make_plan(desired, prior, cloud, options)
        finally:
            cloud.close()
    return PlanResult(made, desired, store.path)


def apply(
    run: RunOptions,
    options: PlanOptions,
    apply_options: ApplyOptions,
    emit: EventSink,
    approve: Callable[[Plan], bool],
    plan_file: Path | None = None,
) -> ApplyOutcome:
    """Plan (or load a saved plan and check it is fresh), ask `approve`, carry it out."""
    from stackplan.plan.planfile import check_fresh, load_plan

    desired = load_desired(run.spec)
    saved = load_plan(plan_file) if plan_file is not None else None  # a bad file fails first
    store = open_store(run, desired)
    with locked_store(run, store):
        prior = store.read()
        if saved is not None:
            check_fresh(saved, prior, desired.digest)
        cloud = connect_cloud(run.cloud)
        try:
            made = saved if saved is not None else make_plan(desired, prior, cloud, options)
            if made.quota.problems:
                raise PlanError(
                    "the plan needs more than the project's quota allows:\n  "
                    + "\n  ".join(made.quota.problems),
                    hint="ask for a larger quota, or plan fewer or smaller servers",
                )
            if not made.has_changes:
                state = _with_outputs(store, prior, desired)
                return ApplyOutcome(made, None, state, _outputs(state))
            if not approve(made):
                raise ApplyError("Apply cancelled: the plan was not approved.")
            result = execute(made, prior, cloud, store, emit, apply_options)
        finally:
            cloud.close()
        state = _with_outputs(store, store.read(), desired)
    outcome = ApplyOutcome(made, result, state, _outputs(state))
    return outcome


def execute(
    made: Plan,
    prior: State | None,
    cloud: Cloud,
    store: LocalStateStore,
    emit: EventSink,
    options: ApplyOptions,
) -> ApplyResult:
    """Walk the plan; the state is written after every step."""
    from stackplan.apply.executor import ApplyOptions as ExecutorOptions
    from stackplan.apply.executor import Executor
    from stackplan.apply.recorder import StateRecorder
    from stackplan.kinds.registry import KINDS

    start = prior if prior is not None else State.new(made.stack, lineage=made.lineage)
    recorder = StateRecorder(start, store.write, KINDS)
    backpressure = cloud.backpressure
    seen = [backpressure.total]

    def pressure() -> int:
        now = backpressure.total
        pushed, seen[0] = now - seen[0], now
        return pushed

    executor = Executor(
        made,
        cloud,
        KINDS,
        recorder,
        emit,
        ExecutorOptions(parallelism=options.parallelism, poll_interval=options.poll_interval),
        cancel=options.cancel,
        pressure=pressure,
    )
    return executor.run()


def _with_outputs(store: LocalStateStore, state: State | None, desired: Desired) -> State | None:
    """The state with its outputs evaluated from the records, written if they changed."""
    if state is None:
        return None
    from stackplan.outputs import evaluate_outputs

    values = evaluate_outputs(desired.outputs, state)
    if dict(state.outputs) == values:
        return state
    updated = state.with_outputs(values).next_serial()
    store.write(updated)
    return updated


def _outputs(state: State | None) -> Mapping[str, Any]:
    return dict(state.outputs) if state is not None else {}


def _limits(cloud: Cloud) -> dict[str, int]:
    limits = cloud.compute.get_limits()
    return {
        "maxTotalInstances": limits.max_instances,
        "totalInstancesUsed": limits.instances_used,
        "maxTotalCores": limits.max_cores,
        "totalCoresUsed": limits.cores_used,
        "maxTotalRAMSize": limits.max_ram,
        "totalRAMUsed": limits.ram_used,
    }


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


__all__ = [
    "ApplyOptions",
    "ApplyOutcome",
    "CloudInput",
    "PlanOptions",
    "PlanResult",
    "RunOptions",
    "apply",
    "make_plan",
    "plan",
]
