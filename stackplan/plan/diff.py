"""The diff: desired (the spec, resolved) against prior (the state) and observed (the
cloud now) gives a `Plan`. Pure: no I/O, no clock; the caller passes `created_at`.

Decisions the issue left open, so a reader finds them in one place:
- `after` of a create, replace or rebuild also carries what only apply needs, namely the
  attributes `Kind.recorded` swaps for a digest (a server's `user_data` text beside its
  `user_data_sha256`). The plan file keeps them; renderers never show a value whose
  `<key>_sha256` digest sits beside it.
- A resource in the state, not desired, whose cloud resource is already gone is a DELETE
  with `before=None`: apply has nothing to delete and only forgets the record.
- An adopted resource (an interrupted create found by its marker) is at least an UPDATE,
  even when it matches the spec, so that apply records it in the state.
- A spec value of None (say no availability_zone) next to a None in the state means "the
  cloud chooses": the value the cloud reports is then neither a change nor drift. For the
  attributes a kind declares `cloud_chosen` this holds whatever the state says (a refresh
  or an import records the zone the cloud picked; that must not force a replacement).
- A `pending_delete` record still found in the cloud is replaced, like a tainted one.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import networkx as nx

from stackplan.addr import Address
from stackplan.errors import PlanError
from stackplan.frozen import frozen_map
from stackplan.kinds.base import Effect, Kind, Limit, Observed, ObservedResource
from stackplan.kinds.registry import KINDS
from stackplan.plan.guards import check_prevent_destroy, check_replace_targets, targeted
from stackplan.plan.model import Action, Change, Plan, Reason
from stackplan.plan.quota import check_quota, resource_delta
from stackplan.plan.refs import UNKNOWN, interpolate, reference_address, splat
from stackplan.sensitive import digested, touches
from stackplan.spec.graph import dependency_cycles, dependency_graph
from stackplan.spec.interpolate import Reference
from stackplan.spec.model import Desired, DesiredResource
from stackplan.state.model import CREATE_TOKEN, RecordStatus, ResourceRecord, State

__all__ = ["DiffOptions", "diff", "normal_form"]

_STRENGTH = {Effect.UPDATE: 1, Effect.RESIZE: 2, Effect.REBUILD: 3, Effect.REPLACE: 4}
_CREATES = (Action.CREATE, Action.DELETE_THEN_CREATE, Action.CREATE_THEN_DELETE)


@dataclass(frozen=True, slots=True)
class DiffOptions:
    """How to diff: `plan` flags plus what the pure diff cannot look up itself."""

    targets: tuple[Address, ...] = ()  # --target: these (a base address: every index) + deps
    replace: tuple[Address, ...] = ()  # --replace
    destroy: bool = False  # --destroy: delete every resource in the state
    created_at: str = ""  # ISO 8601 UTC, from the caller's clock
    kinds: Mapping[str, Kind] = field(default_factory=lambda: KINDS)
    lineage: str = ""  # the lineage apply will give a new state (used when prior is None)
    limits: Mapping[str, Limit] | None = None  # the project's quota; None: no quota check


def diff(
    desired: Desired, prior: State | None, observed: Observed, options: DiffOptions = DiffOptions()
) -> Plan:
    """The plan that takes the cloud from `prior`/`observed` to `desired`.

    Raises PlanError when lifecycle.prevent_destroy forbids a change the plan needs.
    """
    run = _Diff(desired, prior, observed, options)
    changes = run.destroy_changes() if options.destroy else run.changes()
    check_replace_targets(changes, options.replace)
    if options.targets:
        changes = targeted(changes, options.targets, options.destroy, run.warnings)
    check_prevent_destroy(changes, desired)
    plan = Plan(
        stack=desired.stack,
        lineage=run.lineage,
        serial=prior.serial if prior else 0,
        spec_digest=desired.digest,
        changes=tuple(sorted(changes, key=lambda c: c.address.sort_key())),
        destroy=options.destroy,
        created_at=options.created_at,
        outputs=frozen_map({} if options.destroy else desired.outputs),
        warnings=tuple(dict.fromkeys(run.warnings)),
        variables=desired.variables,
        sensitive_outputs=() if options.destroy else desired.sensitive_outputs,
    )
    plan = replace(plan, delta=resource_delta(plan, options.kinds))
    if options.limits is not None:
        plan = replace(plan, quota=check_quota(plan, options.limits, options.kinds))
    return plan


class _Diff:
    """One diff run: the inputs, and the changes made so far (references read them)."""

    def __init__(
        self, desired: Desired, prior: State | None, observed: Observed, options: DiffOptions
    ):
        self.desired = desired
        self.prior = prior
        self.observed = observed
        self.options = options
        self.lineage = prior.lineage if prior else options.lineage
        self.warnings: list[str] = []
        self.done: dict[Address, Change] = {}
        self._by_id: dict[str, Address] | None = None  # the prior records' IDs, for `_held`

    # -- finding the resource behind an address -------------------------------------------

    def record(self, address: Address) -> ResourceRecord | None:
        return self.prior.record(address) if self.prior else None

    def find(
        self, address: Address, record: ResourceRecord | None
    ) -> tuple[ObservedResource | None, bool]:
        """The cloud resource behind `address` and whether it was found by its marker."""
        if record is not None and record.id:
            found = self.observed.get(address.kind, record.id)
            if found is not None and not found.gone:
                return found, record.status is RecordStatus.PENDING_CREATE
        if record is not None and record.status is not RecordStatus.PENDING_CREATE:
            return None, False
        marked = [
            r
            for r in self.observed.with_marker(self.lineage, str(address))
            if r.kind == address.kind and not r.gone
        ]
        if not marked:
            return None, False
        token = record.attributes.get(CREATE_TOKEN) if record else None
        marked.sort(key=lambda r: (r.marker is None or r.marker.token != token, r.failed, r.id))
        if len(marked) > 1:
            others = ", ".join(r.id for r in marked[1:])
            self.warnings.append(
                f"{address}: several resources carry its marker; adopting {marked[0].id}, "
                f"leaving {others} alone (delete them by hand if they are strays)"
            )
        return marked[0], True

    # -- desired resources ------------------------------------------------------------------

    def changes(self) -> list[Change]:
        for resource in _in_dependency_order(self.desired):
            self.done[resource.address] = self.desired_change(resource)
        wanted = set(self.done)
        gone = [r for r in (self.prior.records if self.prior else ()) if r.address not in wanted]
        return [*self.done.values(), *(self.delete(r, Reason.NOT_IN_SPEC) for r in gone)]

    def desired_change(self, resource: DesiredResource) -> Change:
        address = resource.address
        kind = self.options.kinds[resource.kind]
        record = self.record(address)
        found, adopted = self.find(address, record)
        attrs, unknown = interpolate(resource.attrs, self.lookup)
        after = dict(kind.recorded(attrs))
        apply_only = {k: v for k, v in attrs.items() if k not in after}
        depends_on = resource.depends_on
        sensitive = tuple(sorted({*resource.sensitive, *(record.sensitive if record else ())}))
        refreshed_gone = self.observed.refreshed and found is None
        if record is None or not record.id or (refreshed_gone and not adopted):
            if record is None or record.status is RecordStatus.PENDING_CREATE:
                reason = Reason.NONE
            elif record.status is RecordStatus.TAINTED and not record.id:
                reason = Reason.TAINTED
            else:
                reason = Reason.GONE_FROM_CLOUD
            if found is None and kind.unique_names:
                namesake = self.namesake(kind, after)
                if namesake is not None:
                    return self.foreign(kind, resource, namesake, after, sensitive)
            if found is None:
                self.note_namesakes(kind, address, after)
                return Change(
                    address,
                    Action.CREATE,
                    reason,
                    None,
                    None,
                    _frozen({**after, **apply_only}),
                    depends_on=depends_on,
                    sensitive=sensitive,
                    note=_fault(record, None) if reason is Reason.TAINTED else "",
                    late=_late(kind, after),
                    late_depends_on=resource.late_depends_on,
                )
        before = _before(kind, record, found)
        ignored = set(resource.lifecycle.ignore_changes)
        compared = [k for k in kind.effects if k in after and k not in ignored]
        if adopted and record is None:  # what the cloud does not report, it got from us
            before.update({k: after[k] for k in compared if k not in before})
        unknown_keys = {p.split(".")[0].split("[")[0] for p in unknown}
        changed = [
            k
            for k in compared
            if k in unknown_keys or _differs(kind, k, after, before, record, adopted, sensitive)
        ]
        drift = _drift(kind, compared, after, record, found, sensitive) if not adopted else ()
        if record is not None and record.status is RecordStatus.FOREIGN and changed:
            raise _not_ours(kind, address, changed)
        pending = record.pending if record is not None else None
        if pending is not None and found is not None:
            # What an update of ours reached before a kill is not drift.
            drift = tuple(
                k
                for k in drift
                if not (
                    k in pending
                    and _form(found.attrs, k, sensitive) == _form(pending, k, sensitive)
                )
            )
        forced = self.forced_reason(address, record, found)
        effects = {k: kind.effect(k, before, after) for k in changed}
        action, replace_paths = _decide(effects, resource, forced is not None)
        reason = forced or (
            Reason.ADOPTED if adopted else Reason.ATTRIBUTES if changed else Reason.NONE
        )
        if adopted and action is Action.NO_OP:
            action = Action.UPDATE  # apply records the adopted resource in the state
        if pending is not None and not action.is_replace and not adopted:
            # A killed apply left an update of ours midway: apply finishes it first.
            reason = Reason.RESUME
            if action is Action.NO_OP:
                action = Action.UPDATE
        if action in (*_CREATES, Action.REBUILD):
            after.update(apply_only)
        else:
            after.update({k: before[k] for k in ignored if k in before and k in after})
        return Change(
            address,
            action,
            reason,
            found.id if found else record.id if record else None,
            _frozen(before),
            _frozen(after),
            tuple(changed),
            replace_paths,
            drift,
            depends_on,
            sensitive,
            _fault(record, found)
            if reason is Reason.TAINTED
            else "; ".join(
                dict.fromkeys(n for k in replace_paths if (n := kind.replacing(k, before, after)))
            ),
            _late(kind, after) if action.is_replace else (),
            resource.late_depends_on,
        )

    def namesake(self, kind: Kind, after: Mapping[str, Any]) -> ObservedResource | None:
        """The cloud's resource of the name a create would give, that the state does not
        hold (for a kind whose names are unique in the cloud)."""
        ours = {r.id for r in self.prior.records if r.id} if self.prior else set()
        return next(
            (
                r
                for r in self.observed.of_kind(kind.name)
                if r.attrs.get("name") == after.get("name") and r.id not in ours
            ),
            None,
        )

    def foreign(
        self,
        kind: Kind,
        resource: DesiredResource,
        found: ObservedResource,
        after: Mapping[str, Any],
        sensitive: tuple[str, ...],
    ) -> Change:
        """A resource of the spec that the cloud already has, made outside this stack: used
        as it is when it matches the spec, never deleted; a plan error when it does not."""
        compared = [k for k in kind.effects if k in after]
        before = dict(found.attrs)
        differ = [k for k in compared if _form(after, k, sensitive) != _form(before, k, sensitive)]
        if differ:
            raise PlanError(
                f"the cloud already has a {kind.label} named {after.get('name')!r}, made "
                f"outside this stack, with another {', '.join(differ)}",
                where=str(resource.address),
                hint=f"give the {kind.label} of the spec another name, or make the spec "
                "match the cloud's to use it",
            )
        return Change(
            resource.address,
            Action.UPDATE,
            Reason.FOREIGN,
            found.id,
            _frozen(before),
            _frozen(dict(after)),
            depends_on=resource.depends_on,
            sensitive=sensitive,
        )

    def note_namesakes(self, kind: Kind, address: Address, after: Mapping[str, Any]) -> None:
        """Warn of a cloud resource with the name a create will give, where the kind has no
        marker to tell ours from another's: it is never taken for ours."""
        if kind.marked or not self.observed.refreshed:
            return
        ours = {r.id for r in self.prior.records if r.id} if self.prior else set()
        name = after.get("name")
        same = sorted(
            r.id
            for r in self.observed.of_kind(kind.name)
            if r.attrs.get("name") == name and r.id not in ours
        )
        if same:
            self.warnings.append(
                f"{address}: the cloud already has a {kind.label} named {name!r} that this "
                f"stack did not create ({', '.join(same)}); it is left alone, and apply "
                "creates another"
            )

    def forced_reason(
        self, address: Address, record: ResourceRecord | None, found: ObservedResource | None
    ) -> Reason | None:
        if (
            record is not None
            and record.status in (RecordStatus.TAINTED, RecordStatus.PENDING_DELETE)
        ) or (found is not None and found.failed):
            return Reason.TAINTED
        if address in self.options.replace or address.base in self.options.replace:
            return Reason.REPLACE_REQUESTED
        return None

    def lookup(self, ref: Reference) -> Any:
        """What `${ref}` is worth now: from this plan's changes, else from the state."""
        address = reference_address(ref)
        if address is None:
            known = (*self.done, *(self.prior.resources if self.prior else ()))
            return splat(ref, known, self.lookup)
        change = self.done.get(address)
        if change is not None:
            after, before = change.after or {}, change.before or {}
            if ref.attr != "id" and ref.attr in after:
                return after[ref.attr]
            if change.action in _CREATES:
                return UNKNOWN
            if ref.attr == "id":
                return change.id or UNKNOWN
            return before.get(ref.attr, UNKNOWN)
        record = self.record(address)
        if record is None:
            return UNKNOWN
        if ref.attr == "id":
            return record.id or UNKNOWN
        return record.attributes.get(ref.attr, UNKNOWN)

    # -- deletes ------------------------------------------------------------------------------

    def delete(self, record: ResourceRecord, reason: Reason) -> Change:
        found, _ = self.find(record.address, record)
        if (self.observed.refreshed and found is None) or not (record.id or found):
            before = None  # already gone: apply only forgets the record
        else:
            before = _frozen(_before(self.options.kinds[record.kind], record, found))
        resource_id = found.id if found else record.id
        foreign = record.status is RecordStatus.FOREIGN
        return Change(
            record.address,
            Action.DELETE,
            reason,
            None if foreign else resource_id,  # no ID: apply deletes nothing, forgets it
            before,
            None,
            depends_on=tuple(dict.fromkeys((*record.dependencies, *self._held(record)))),
            sensitive=record.sensitive,
            note="made outside this stack: forgotten, left in the cloud" if foreign else "",
        )

    def _held(self, record: ResourceRecord) -> list[Address]:
        """The stack's resources `record` holds until it is deleted (a server's volumes),
        by the IDs its `Kind.holds` attributes name: deleted after it, not beside it."""
        kind = self.options.kinds[record.kind]
        if not kind.holds or self.prior is None:
            return []
        if self._by_id is None:
            self._by_id = {r.id: r.address for r in self.prior.records if r.id}
        ids = {i for name in kind.holds for i in _strings(record.attributes.get(name))}
        return [
            self._by_id[i]
            for i in sorted(ids)
            if self._by_id.get(i, record.address) != record.address
        ]

    def destroy_changes(self) -> list[Change]:
        return [self.delete(r, Reason.DESTROY) for r in (self.prior.records if self.prior else ())]


# -- comparing ------------------------------------------------------------------------------


def _before(
    kind: Kind, record: ResourceRecord | None, found: ObservedResource | None
) -> dict[str, Any]:
    """The cloud now, with what it does not report taken from the state."""
    merged = dict(record.attributes) if record else {}
    merged.pop(CREATE_TOKEN, None)
    if found is None:
        return merged
    for id_key, companions in kind.companions.items():
        if id_key in found.attrs and found.attrs[id_key] != merged.get(id_key):
            for companion in companions:
                merged.pop(companion, None)
    merged.update(found.attrs)
    return merged


def _differs(
    kind: Kind,
    key: str,
    after: Mapping[str, Any],
    before: Mapping[str, Any],
    record: ResourceRecord | None,
    adopted: bool,
    sensitive: tuple[str, ...],
) -> bool:
    """Whether the desired value of `key` differs from the one before."""
    if after.get(key) is None and (
        key in kind.cloud_chosen or record is None or adopted or record.attributes.get(key) is None
    ):
        return False  # the spec lets the cloud choose
    return not _same(kind, key, after, before, sensitive)


def _drift(
    kind: Kind,
    compared: list[str],
    after: Mapping[str, Any],
    record: ResourceRecord | None,
    found: ObservedResource | None,
    sensitive: tuple[str, ...],
) -> tuple[str, ...]:
    """Compared attributes the cloud changed since the state was written."""
    if record is None or found is None or record.status is not RecordStatus.OK:
        return ()
    return tuple(
        k
        for k in compared
        if k in found.attrs
        and not (
            after.get(k) is None and (k in kind.cloud_chosen or record.attributes.get(k) is None)
        )
        and not _same(kind, k, record.attributes, found.attrs, sensitive)
    )


def drifted(kind: Kind, record: ResourceRecord, found: ObservedResource) -> tuple[str, ...]:
    """The compared attributes the cloud changed since `record` was written (for a drift
    check against the state alone, with the same rules the plan uses)."""
    attrs = record.attributes
    compared = [k for k in kind.effects if k in attrs]
    return _drift(kind, compared, attrs, record, found, record.sensitive)


def _same(
    kind: Kind,
    key: str,
    wanted: Mapping[str, Any],
    actual: Mapping[str, Any],
    sensitive: tuple[str, ...],
) -> bool:
    """Whether the value of `key` in `actual` is what `wanted` asks for: the kind's say
    (a port's fixed IP the cloud picked satisfies one asked without an address), else
    equality of their compared forms."""
    verdict = kind.same(key, wanted.get(key), actual.get(key))
    if verdict is not None:
        return verdict
    return _form(wanted, key, sensitive) == _form(actual, key, sensitive)


def _not_ours(kind: Kind, address: Address, changed: list[str]) -> PlanError:
    return PlanError(
        f"{address} is a {kind.label} made outside this stack, used as it is: this stack "
        f"changes nothing of it, and the spec now differs in {', '.join(changed)}",
        where=str(address),
        hint=f"make the spec match the cloud's {kind.label} again, or give the spec's its "
        "own name (a new one this stack makes and owns)",
    )


def _late(kind: Kind, after: Mapping[str, Any]) -> tuple[str, ...]:
    """The late attributes a create has something to set in (a group with rules)."""
    return tuple(sorted(k for k in kind.late if after.get(k)))


def _fault(record: ResourceRecord | None, found: ObservedResource | None) -> str:
    """Why a tainted resource failed, as the cloud said it: now, or when it was recorded."""
    if found is not None and found.failed:
        return f"went to {found.status}: {found.fault}" if found.fault else f"is {found.status}"
    return (record.fault or "") if record is not None else ""


def _form(attrs: Mapping[str, Any], key: str, sensitive: tuple[str, ...]) -> Any:
    """The value of `key` as compared: sensitive parts as their digests (the state keeps
    only those), lists of names as sets."""
    value = attrs.get(key)
    if touches(sensitive, key):
        value = digested({key: value}, sensitive)[key]
    return normal_form(value)


def normal_form(value: Any) -> Any:
    """A form where equal values compare equal: lists of names are sets, maps are plain."""
    if isinstance(value, Mapping):
        return {k: normal_form(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        items = [normal_form(v) for v in value]
        return sorted(set(items)) if all(isinstance(i, str) for i in items) else items
    return value


def _decide(
    effects: Mapping[str, Effect], resource: DesiredResource, forced: bool
) -> tuple[Action, tuple[str, ...]]:
    """The action the strongest effect of the changed attributes (or a forced replace)
    calls for, and the attributes that force it."""
    replace_action = (
        Action.CREATE_THEN_DELETE
        if resource.lifecycle.create_before_destroy
        else Action.DELETE_THEN_CREATE
    )
    if forced:
        return replace_action, ()
    if not effects:
        return Action.NO_OP, ()
    strongest = max(effects.values(), key=_STRENGTH.__getitem__)
    forcing = tuple(k for k, e in effects.items() if e is strongest)
    if strongest is Effect.REPLACE:
        return replace_action, forcing
    if strongest is Effect.REBUILD:
        return Action.REBUILD, forcing
    if strongest is Effect.RESIZE:
        return Action.RESIZE, forcing
    return Action.UPDATE, ()


def _frozen(attrs: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
    return None if attrs is None else frozen_map(attrs)


def _in_dependency_order(desired: Desired) -> list[DesiredResource]:
    """Resources so that each comes after those it depends on (references read them)."""
    graph = dependency_graph(desired)
    cycles = dependency_cycles(graph)
    if cycles:
        cycle = " -> ".join(str(a) for a in cycles[0])
        raise PlanError(
            f"the resources depend on each other in a cycle: {cycle}",
            hint="remove a depends_on or a reference to break the cycle",
        )
    # Edges point at dependencies; the reversed topological order puts them first, and
    # ties follow the address order so that a plan reads the same every run.
    order = nx.lexicographical_topological_sort(
        graph.reverse(copy=False), key=lambda a: a.sort_key()
    )
    return [graph.nodes[a]["resource"] for a in order]


def _strings(value: Any) -> Iterator[str]:
    """Every string inside `value` (lists and maps walked)."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)
