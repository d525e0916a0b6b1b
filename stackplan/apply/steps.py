"""The plan turned into a graph of steps: create, update, delete, record, and their order.

Pure: builds a networkx DiGraph whose edge A → B means "B waits for A". Creates and
updates follow dependencies; deletes go in reverse (a dependent is deleted first).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

import networkx as nx

from stackplan.addr import Address
from stackplan.plan.model import Action, Change, Plan, Reason


class Phase(StrEnum):
    """What one step does to its resource."""

    CREATE = "create"
    UPDATE = "update"  # in place: update, resize, rebuild
    DELETE = "delete"
    RECORD = "record"  # only the state changes: an adopted resource is written down
    # After a create, once what it names exists: the parts that name other resources of
    # the plan (a security group's rules naming another group, or itself).
    LATE = "late"


CREATE, UPDATE, DELETE, RECORD = Phase.CREATE, Phase.UPDATE, Phase.DELETE, Phase.RECORD
LATE = Phase.LATE


@dataclass(frozen=True, slots=True, eq=False)
class Step:
    """One operation on one resource; equal (and hashed) by address and phase."""

    address: Address
    phase: Phase
    change: Change

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Step) and (self.address, self.phase) == (
            other.address,
            other.phase,
        )

    def __hash__(self) -> int:
        return hash((self.address, self.phase))

    def __str__(self) -> str:
        return f"{self.phase} {self.address}"


def _phases(change: Change) -> tuple[Phase, ...]:
    action = change.action
    if change.reason is Reason.FOREIGN and action is Action.UPDATE:
        return (RECORD,)  # another's resource: only the state learns of it
    create: tuple[Phase, ...] = (CREATE, LATE) if change.late else (CREATE,)
    if action is Action.CREATE:
        return create
    if action is Action.DELETE:
        return (DELETE,)
    if action is Action.DELETE_THEN_CREATE:
        return (DELETE, *create)
    if action is Action.CREATE_THEN_DELETE:
        return (*create, DELETE)
    if action in (Action.UPDATE, Action.RESIZE, Action.REBUILD):
        if change.reason is Reason.ADOPTED:
            # Its ID is written down first: what names it (a rule naming its group, the
            # group itself among them) is filled from the state when it changes.
            return (RECORD, UPDATE)
        return (UPDATE,)
    if change.reason is Reason.ADOPTED:
        return (RECORD,)  # found by its marker, unchanged: only the state needs it
    return ()


def build_steps(plan: Plan) -> nx.DiGraph:
    """The steps of `plan` as a DAG; each node is a Step, edges point from before to after."""
    graph = nx.DiGraph()
    by_address: dict[Address, dict[str, Step]] = {}
    for change in plan.changes:
        phases = _phases(change)
        steps = {phase: Step(change.address, phase, change) for phase in phases}
        by_address[change.address] = steps
        graph.add_nodes_from(steps.values())
        for first, then in pairwise(phases):
            graph.add_edge(steps[first], steps[then])

    def forward(address: Address) -> Step | None:
        steps = by_address.get(address, {})
        return steps.get(CREATE) or steps.get(UPDATE) or steps.get(RECORD)

    for change in plan.changes:
        steps = by_address[change.address]
        for dep in _expand(change.depends_on, by_address):
            dep_steps = by_address.get(dep, {})
            # Creating or changing a resource waits for what it depends on to exist.
            mine, theirs = forward(change.address), forward(dep)
            if mine is not None and theirs is not None:
                graph.add_edge(theirs, mine)
            # Deleting what others depend on waits for those others to be deleted.
            if DELETE in steps and DELETE in dep_steps:
                graph.add_edge(steps[DELETE], dep_steps[DELETE])
        # What names other resources once they exist waits for them to exist, not more:
        # two groups whose rules name each other are both created, then both completed.
        waiting = steps.get(LATE) or steps.get(UPDATE)
        for dep in _expand(change.late_depends_on, by_address):
            theirs = by_address[dep].get(CREATE) or by_address[dep].get(RECORD)
            if waiting is not None and theirs is not None and theirs != waiting:
                graph.add_edge(theirs, waiting)
    if not nx.is_directed_acyclic_graph(graph):
        cycle = " → ".join(str(step) for step, _ in nx.find_cycle(graph))
        raise ValueError(f"the plan's steps form a cycle: {cycle}")
    return graph


def _expand(deps: tuple[Address, ...], known: dict[Address, dict[str, Step]]) -> list[Address]:
    """Dependencies with a base address (`server.web`) meaning every instance of it."""
    out: list[Address] = []
    for dep in deps:
        if dep in known:
            out.append(dep)
        elif dep.index is None:
            out.extend(a for a in known if a.base == dep)
    return out
