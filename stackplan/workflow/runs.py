"""Validate, plan, apply, refresh, import: a spec against a cloud and a state, start to end.

The steps are the pipeline of DESIGN.md: load the spec, lock and read the state, reach the
cloud, resolve names, refresh, diff; apply walks the plan and writes the state after every
step. Each function takes option values and returns a result value; rendering and exit
codes are the CLI's.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Collection, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackplan.addr import Address
from stackplan.clock import now_iso
from stackplan.collector import paused
from stackplan.errors import ApplyError, PlanError, StackplanError, StateError
from stackplan.kinds.base import Kind, Limit, Reads
from stackplan.kinds.registry import KINDS
from stackplan.sensitive import digested, masked
from stackplan.spec.model import Desired
from stackplan.spec.source import SpecInput
from stackplan.state.model import RecordStatus, ResourceRecord, State
from stackplan.state.store import Journaled, StateStore
from stackplan.workflow.context import (
    CloudInput,
    RunOptions,
    connected,
    existing_state,
    load,
    locked,
    read_state,
    store_for,
    store_of_spec_file,
)

if TYPE_CHECKING:
    from stackplan.apply.events import EventSink
    from stackplan.apply.executor import ApplyResult
    from stackplan.cloud import Cloud
    from stackplan.plan.drift import DriftReport
    from stackplan.plan.model import Plan
    from stackplan.policy.rules import Policy


@dataclass(frozen=True, slots=True)
class PlanOptions:
    targets: tuple[Address, ...] = ()
    replace: tuple[Address, ...] = ()
    destroy: bool = False
    refresh: bool = True
    # Plan although no state was found and the cloud holds resources of this stack's name.
    allow_duplicate_stack: bool = False
    policy: Path | None = None  # a policy file the plan must pass (`--policy`)


@dataclass(frozen=True, slots=True)
class ApplyOptions:
    parallelism: int = 10
    poll_interval: float = 1.0
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True, slots=True)
class ValidateResult:
    desired: Desired
    online: bool = False


@dataclass(frozen=True, slots=True)
class PlanResult:
    plan: Plan
    desired: Desired
    state: str  # where the state is (a path, or the backend without its password)


@dataclass(frozen=True, slots=True)
class ApplyOutcome:
    plan: Plan
    result: ApplyResult | None  # None when the plan had nothing to do
    state: State | None
    outputs: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class RefreshResult:
    state: State
    updated: tuple[Address, ...]  # records whose attributes the cloud changed
    gone: tuple[Address, ...]  # records forgotten: the cloud no longer has them
    tainted: tuple[Address, ...]  # resources found in a failed status


@dataclass(frozen=True, slots=True)
class ImportResult:
    address: Address
    id: str
    state: State


def validate(
    spec: SpecInput, *, online: bool = False, cloud: CloudInput | None = None
) -> ValidateResult:
    """Check the spec offline; with `online`, also resolve the names it gives the cloud."""
    desired = load(spec)
    if online:
        from stackplan.resolve import resolve

        with connected(cloud or CloudInput()) as connection:
            desired = resolve(desired, Reads(connection), KINDS)
    return ValidateResult(desired, online)


def refusal(made: Plan) -> PlanError | None:
    """Why apply would refuse this plan (it breaks the policy, or the project's quota
    cannot hold it), or None: a plan that apply would refuse fails the plan as well, so a
    CI gate never passes it."""
    if made.policy is not None and made.policy.violations:
        from stackplan.plan.render import violation_lines

        count = len(made.policy.violations)
        return PlanError(
            f"the plan breaks {count} rule{'s' if count != 1 else ''} of the policy "
            f"{made.policy.file}:\n  " + "\n  ".join(violation_lines(made)),
            hint="change the spec so that the plan keeps to the policy",
        )
    if not made.quota.problems:
        return None
    return PlanError(
        "the plan needs more than the project's quota allows:\n  "
        + "\n  ".join(made.quota.problems),
        hint="ask for a larger quota, or plan fewer or smaller resources",
    )


def read_policy(path: Path | None) -> Policy | None:
    """The policy file of `--policy`, read before anything reaches the cloud: a bad rule
    is an error at its file:line."""
    if path is None:
        return None
    from stackplan.policy import load_policy

    measures = {m.name for kind in KINDS.values() for m in kind.measures}
    return load_policy(path, tuple(KINDS), tuple(sorted(measures)))


def checked(made: Plan, policy: Policy | None) -> Plan:
    """The plan with what `policy` finds in it (unchanged without a policy)."""
    if policy is None:
        return made
    from stackplan.policy import check_policy

    return replace(made, policy=check_policy(made, policy, KINDS))


def _refuse_a_second_copy(
    desired: Desired, reads: Reads, kinds: Collection[str], where: str
) -> None:
    """No state, yet the cloud holds resources this stack's name made: a fresh clone (or a
    CI runner) looking at the wrong place. Planning would create a second copy of all."""
    found = [r for name in kinds for r in KINDS[name].of_stack(reads, desired.stack)]
    if not found:
        return
    lineages = sorted({r.marker.lineage for r in found if r.marker})
    shown = ", ".join(f"{r.marker.address} ({r.id})" for r in found[:5] if r.marker)
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    raise PlanError(
        f"there is no state for stack {desired.stack!r} at {where or 'the state location'}, "
        f"but the cloud holds {len(found)} resources this stack made (lineage "
        f"{', '.join(lineages)}): {shown}{more}; planning now would create a second copy",
        hint="point at the stack's state (the spec's backend:, STACKPLAN_BACKEND or --state), "
        "bring it here with `stackplan state push FILE`, or take the resources over with "
        "`stackplan import ADDR ID`; --allow-duplicate-stack plans a second copy anyway",
    )


def make_plan(
    desired: Desired, prior: State | None, cloud: Cloud, options: PlanOptions, where: str = ""
) -> Plan:
    """Resolve, refresh and diff: the plan for `desired` against `prior` and the cloud."""
    with paused():
        return _make_plan(desired, prior, cloud, options, where)


def _make_plan(
    desired: Desired, prior: State | None, cloud: Cloud, options: PlanOptions, where: str
) -> Plan:
    from stackplan.plan.diff import DiffOptions, diff
    from stackplan.refresh import refresh, unrefreshed
    from stackplan.resolve import resolve

    reads = Reads(cloud)
    lineage = prior.lineage if prior else str(uuid.uuid4())
    wanted = {r.kind for r in desired.resources}
    # Names are looked up while the stack's resources are read: both are mostly waits
    # for the cloud, and they share the run's listings (each fetched once). A refresh
    # that fails is the error shown; the lookups' end is awaited either way.
    # The quota is read beside them too: it depends on neither.
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="resolve") as aside:
        resolving = None if options.destroy else aside.submit(resolve, desired, reads, KINDS)
        quota = None if options.destroy else aside.submit(_limits, reads, wanted)
        observed = (
            refresh(prior, reads, KINDS, lineage, wanted) if options.refresh else unrefreshed()
        )
        resolved = desired if resolving is None else resolving.result()
        limits = None if quota is None else quota.result()
    first = prior is None and options.refresh and not options.destroy
    if first and not options.allow_duplicate_stack:
        _refuse_a_second_copy(desired, reads, wanted, where)
    diff_options = DiffOptions(
        targets=options.targets,
        replace=options.replace,
        destroy=options.destroy,
        created_at=now_iso(),
        kinds=KINDS,
        lineage=lineage,
        limits=limits,
    )
    return diff(resolved, prior, observed, diff_options)


def plan(run: RunOptions, options: PlanOptions) -> PlanResult:
    """Make a plan under the state lock; nothing is changed anywhere."""
    desired = load(run.spec)
    policy = read_policy(options.policy)
    store = store_for(run, desired.stack, desired.backend)
    with locked(run, store), connected(run.cloud) as cloud:
        made = make_plan(desired, read_state(store), cloud, options, store.describe())
    return PlanResult(checked(made, policy), desired, store.describe())


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

    saved = load_plan(plan_file) if plan_file is not None else None  # a bad file fails first
    desired = load(run.spec if saved is None else _with_recorded_variables(run.spec, saved))
    policy = read_policy(options.policy)
    store = store_for(run, desired.stack, desired.backend)
    with locked(run, store):
        prior = read_state(store)
        if saved is not None:
            check_fresh(saved, prior, desired.digest)
        with connected(run.cloud) as cloud:
            made = (
                saved
                if saved is not None
                else make_plan(desired, prior, cloud, options, store.describe())
            )
            # A saved plan passed the policy it was made with; `--policy` checks it again
            # against the file as it is now (its digest recorded in the plan anew).
            made = checked(made, policy)
            if (refused := refusal(made)) is not None:
                raise refused
            if not made.has_changes:
                state = _with_outputs(store, prior, desired)
                return ApplyOutcome(made, None, state, _outputs(state))
            if not approve(made):
                raise ApplyError("Apply cancelled: the plan was not approved.")
            result = execute(made, prior, cloud, store, emit, apply_options)
        if result.stopped:  # the state could not be written: it stays as last written
            return ApplyOutcome(made, result, None, {})
        state = _with_outputs(store, read_state(store), desired)
    return ApplyOutcome(made, result, state, _outputs(state))


def _with_recorded_variables(spec: SpecInput, saved: Plan) -> SpecInput:
    """The spec input of `apply PLANFILE`: the variables the plan was made with, no others."""
    if spec.vars or spec.var_files:
        raise PlanError(
            "a saved plan carries the variables it was made with; --var and --var-file "
            "cannot change them",
            hint="apply the plan file without --var / --var-file, or make a new plan",
        )
    return replace(spec, recorded=dict(saved.variables))


def execute(
    made: Plan,
    prior: State | None,
    cloud: Cloud,
    store: StateStore,
    emit: EventSink,
    options: ApplyOptions,
) -> ApplyResult:
    """Walk the plan; the state is written after every step."""
    from stackplan.apply.executor import ApplyOptions as ExecutorOptions
    from stackplan.apply.executor import Executor
    from stackplan.apply.recorder import StateRecorder

    start = prior if prior is not None else State.new(made.stack, lineage=made.lineage)
    journal = store if isinstance(store, Journaled) else None
    recorder = StateRecorder(start, store.write, KINDS, journal)
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
    result = executor.run()
    try:
        recorder.close()
    except StateError:
        if not result.stopped:
            raise
        # The store failed already: the journal holds every step written before that.
    return result


def refresh_state(run: RunOptions) -> RefreshResult:
    """Bring the state's attributes in line with the cloud; forget what the cloud lost."""
    from stackplan.refresh import refresh

    store = store_of_spec_file(run)
    with locked(run, store):
        state = existing_state(store)
        with connected(run.cloud) as cloud:
            observed = refresh(state, Reads(cloud), KINDS, state.lineage)
        updated, gone, tainted = [], [], []
        new = state
        for record in state.records:
            found = observed.get(record.kind, record.id)
            if record.id is None:
                continue
            if found is None or found.gone:
                gone.append(record.address)
                new = new.without(record.address)
                continue
            # What the state keeps of a sensitive value is its digest, never the value.
            seen = digested(found.attrs, record.sensitive)
            attributes = {**record.attributes, **seen}
            status = RecordStatus.TAINTED if found.failed else record.status
            if status is RecordStatus.TAINTED and record.status is not status:
                tainted.append(record.address)
            elif _really_changed(KINDS[record.kind], record.attributes, seen):
                updated.append(record.address)
            if attributes != dict(record.attributes) or status != record.status:
                fault = found.fault if found.failed else record.fault
                new = new.with_record(
                    replace(record, attributes=attributes, status=status, fault=fault)
                )
        if new != state:
            new = new.next_serial()
            store.write(new)
        # An output reads what the cloud reported (a port's address): evaluated again.
        new = _with_outputs(store, new, load(run.spec)) or new
    return RefreshResult(new, tuple(updated), tuple(gone), tuple(tainted))


@dataclass(frozen=True, slots=True)
class DriftResult:
    report: DriftReport
    state: str  # where the state is (a path, or the backend without its password)


def drift(run: RunOptions) -> DriftResult:
    """Refresh and compare the cloud with the state alone. Writes nothing and takes no
    lock: a nightly check never blocks an apply (it reads the state as last written)."""
    from stackplan.plan.drift import find_drift
    from stackplan.refresh import refresh

    store = store_of_spec_file(run)
    state = existing_state(store)
    with connected(run.cloud) as cloud:
        observed = refresh(state, Reads(cloud), KINDS, state.lineage)
    return DriftResult(find_drift(state, observed, KINDS), store.describe())


def import_resource(run: RunOptions, address: Address, resource_id: str) -> ImportResult:
    """Take an existing cloud resource under management at `address` (which the spec has)."""
    from stackplan.resolve import resolve

    desired = load(run.spec)
    wanted = desired.by_address().get(address)
    if wanted is None:
        known = ", ".join(str(r.address) for r in desired.resources) or "none"
        raise StackplanError(
            f"{address} is not in the spec {run.spec.path}",
            hint=f"add it to the spec first; the spec has: {known}",
        )
    store = store_for(run, desired.stack, desired.backend)
    kind = KINDS[address.kind]
    with locked(run, store):
        state = read_state(store) or State.new(desired.stack)
        if state.record(address) is not None:
            raise StateError(
                f"{address} is already in the state", hint=f"stackplan state rm {address} first"
            )
        with connected(run.cloud) as cloud:
            reads = Reads(cloud)
            resolved = resolve(desired, reads, KINDS).by_address()[address]
            probe = ResourceRecord(address, resource_id)
            found = [
                r for r in kind.read_many(reads, [probe], state.lineage) if r.id == resource_id
            ]
        if not found:
            raise StackplanError(
                f"the cloud has no {kind.label} with ID {resource_id}", where=str(address)
            )
        # The spec's view fills what the cloud does not report (the user data digest).
        attributes = {**kind.recorded(resolved.attrs), **found[0].attrs}
        record = ResourceRecord(address, resource_id, attributes, resolved.depends_on)
        updated = state.with_record(record).next_serial()
        store.write(updated)
    return ImportResult(address, resource_id, updated)


def _really_changed(kind: Kind, recorded: Mapping[str, Any], seen: Mapping[str, Any]) -> bool:
    """Whether the cloud changed what the state records, beyond the values it picks itself
    where the spec gave none (an availability zone) and the order of lists of names."""
    from stackplan.plan.diff import normal_form

    for key, value in seen.items():
        if key in kind.cloud_chosen and recorded.get(key) is None:
            continue
        if key in recorded and normal_form(value) != normal_form(recorded[key]):
            return True
    return False


def _with_outputs(store: StateStore, state: State | None, desired: Desired) -> State | None:
    """The state with its outputs evaluated from the records, written if they changed."""
    if state is None:
        return None
    from stackplan.outputs import evaluate_outputs

    # An output built from a sensitive value is kept as its digest: secrets never reach
    # the state, so `stackplan output` can only say that it is sensitive.
    hidden = tuple(sorted(desired.sensitive_outputs))
    values = digested(evaluate_outputs(desired.outputs, state), hidden)
    if dict(state.outputs) == values and state.sensitive_outputs == hidden:
        return state
    updated = state.with_outputs(values, hidden).next_serial()
    store.write(updated)
    return updated


def _outputs(state: State | None) -> Mapping[str, Any]:
    """The outputs as shown after an apply: one built from a sensitive value reads
    (sensitive); `stackplan output NAME` prints it."""
    return masked(state.outputs, state.sensitive_outputs) if state is not None else {}


def _limits(reads: Reads, wanted: set[str]) -> dict[str, Limit]:
    """The quota of the measures of the kinds the spec has."""
    limits: dict[str, Limit] = {}
    for name in sorted(wanted):
        limits.update(KINDS[name].limits(reads))
    return limits
