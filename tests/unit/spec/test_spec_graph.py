"""The dependency graph: nodes are addresses, an edge A -> B means A depends on B."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from stackplan.addr import Address
from stackplan.frozen import frozen_map
from stackplan.spec.graph import dependency_cycles, dependency_graph
from stackplan.spec.model import Desired, DesiredResource

WEB0, WEB1, DB, KEY = (
    Address("server", "web", 0),
    Address("server", "web", 1),
    Address("server", "db"),
    Address("keypair", "k"),
)


def _desired(deps: dict[Address, tuple[Address, ...]]) -> Desired:
    resources = tuple(DesiredResource(a, frozen_map({}), depends_on=d) for a, d in deps.items())
    return Desired("s", Path("s.yaml"), "digest", resources)


def test_edges_point_from_the_dependent_to_its_dependency() -> None:
    graph = dependency_graph(_desired({WEB0: (DB, KEY), WEB1: (DB, KEY), DB: (), KEY: ()}))
    assert set(graph.nodes) == {WEB0, WEB1, DB, KEY}
    assert set(graph.successors(WEB0)) == {DB, KEY}
    assert set(graph.predecessors(DB)) == {WEB0, WEB1}
    create_order = list(reversed(list(nx.topological_sort(graph))))
    assert create_order.index(DB) < create_order.index(WEB0)
    assert graph.nodes[DB]["resource"].address == DB


def test_dependencies_outside_the_desired_are_left_out() -> None:
    graph = dependency_graph(_desired({WEB0: (Address("server", "gone"),)}))
    assert list(graph.edges) == []


def test_cycles_name_every_member_once() -> None:
    a, b, c, d = (Address("server", n) for n in "abcd")
    graph = dependency_graph(_desired({a: (b,), b: (c,), c: (a,), d: (d,), DB: (a,)}))
    assert dependency_cycles(graph) == [(a, b, c), (d,)]


def test_no_cycles_in_a_dag() -> None:
    assert dependency_cycles(dependency_graph(_desired({WEB0: (DB,), DB: ()}))) == []
