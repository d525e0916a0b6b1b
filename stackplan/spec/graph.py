"""The dependency graph of a `Desired`: which resource must exist before which.

Pure: builds a networkx graph from `DesiredResource.depends_on`, which `expand` filled
from `depends_on:`, `${...}` references and `key_pair:`.
"""

from __future__ import annotations

import networkx as nx

from stackplan.addr import Address
from stackplan.spec.model import Desired


def dependency_graph(desired: Desired) -> nx.DiGraph:
    """A graph whose nodes are every resource's `Address`; an edge A → B means A depends on B.

    So B must be created before A, and A destroyed before B: create in the order of
    `reversed(list(nx.topological_sort(g)))` (or walk `g.reverse()`), destroy in
    `nx.topological_sort(g)`. `g.successors(a)` are a's dependencies,
    `g.predecessors(b)` the resources that need b. Each node carries `resource=`
    its `DesiredResource`. A base address (`server.web`) means every instance of it;
    dependencies on addresses not in `desired` are left out.
    """
    graph = nx.DiGraph()
    instances: dict[Address, list[Address]] = {}
    for resource in desired.resources:
        graph.add_node(resource.address, resource=resource)
        instances.setdefault(resource.address.base, []).append(resource.address)
    for resource in desired.resources:
        for dependency in resource.depends_on:
            if dependency in graph:
                graph.add_edge(resource.address, dependency)
            elif dependency.index is None:  # a base address: every instance of it
                for instance in instances.get(dependency, ()):
                    graph.add_edge(resource.address, instance)
    return graph


def dependency_cycles(graph: nx.DiGraph) -> list[tuple[Address, ...]]:
    """Each group of resources that depend on each other in a circle, in cycle order.

    One entry per strongly connected component that holds a cycle (a self-dependency
    counts), so every member of every cycle is named exactly once.
    """
    cycles = []
    # Only a resource that depends on one and is depended on can be in a cycle: the others
    # (most of a big spec) are left out before the components are looked for.
    looped = graph.subgraph(n for n in graph if graph.in_degree(n) and graph.out_degree(n))
    for component in nx.strongly_connected_components(looped):
        members = sorted(component, key=Address.sort_key)
        if len(members) == 1 and not graph.has_edge(members[0], members[0]):
            continue
        sub = graph.subgraph(members)
        # find_cycle walks from the first member, so the text reads the same every run.
        walk = [edge[0] for edge in nx.find_cycle(sub, source=members[0])]
        ordered = walk + [m for m in members if m not in walk]
        cycles.append(tuple(ordered))
    return sorted(cycles, key=lambda c: c[0].sort_key())
