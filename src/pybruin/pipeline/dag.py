"""The dependency graph between a pipeline's assets.

Only `mode: full` asset dependencies count, and a dependency on an asset outside the pipeline is ignored here
(validation reports it). Ties are always broken by file order, so runs are reproducible.
"""

from __future__ import annotations

import heapq

from pybruin.errors import BruinError
from pybruin.pipeline.model import Asset, Pipeline


def upstreams(pipeline: Pipeline) -> dict[str, list[str]]:
    """Asset name → the names it waits for, in header order, without duplicates or unknown names."""
    names = {asset.name for asset in pipeline.assets}
    return {asset.name: [dep for dep in dict.fromkeys(asset.depends) if dep in names] for asset in pipeline.assets}


def find_cycles(pipeline: Pipeline) -> list[list[str]]:
    """Dependency cycles as `[a, b, ..., a]` (a depends on b), each from its earliest asset, in file order.

    A cycle sharing an asset with one already listed is left out, so fixing these may uncover others.
    """
    graph = upstreams(pipeline)
    emitted = {asset.name for asset in _kahn(pipeline, graph)}
    order = {asset.name: index for index, asset in enumerate(pipeline.assets)}
    cycles: list[list[str]] = []
    visited: set[str] = set()
    in_cycles: set[str] = set()
    for start in graph:
        if start in emitted or start in visited:
            continue
        # Every asset left over waits for another left-over one, so following first waits must loop.
        path: list[str] = []
        node = start
        while node not in path:
            path.append(node)
            node = next(dep for dep in graph[node] if dep not in emitted)
        visited.update(path)
        cycle = path[path.index(node) :]
        if in_cycles.isdisjoint(cycle):
            in_cycles.update(cycle)
            first = cycle.index(min(cycle, key=order.__getitem__))
            cycles.append([*cycle[first:], *cycle[:first], cycle[first]])
    return sorted(cycles, key=lambda cycle: order[cycle[0]])


def topological_order(pipeline: Pipeline) -> list[Asset]:
    """Assets so that each comes after its upstreams; among ready assets, the earliest file first."""
    graph = upstreams(pipeline)
    ordered = _kahn(pipeline, graph)
    if len(ordered) != len(graph):
        cycle = find_cycles(pipeline)[0]
        raise BruinError(f"{pipeline.definition_file}: dependency cycle: {' -> '.join(cycle)}")
    return ordered


def downstream_of(pipeline: Pipeline, name: str) -> set[str]:
    """Every asset that depends on `name`, directly or through others (not `name` itself unless in a cycle)."""
    dependents = _dependents(upstreams(pipeline))
    found: set[str] = set()
    pending = [name]
    while pending:
        for dependent in dependents.get(pending.pop(), ()):
            if dependent not in found:
                found.add(dependent)
                pending.append(dependent)
    return found


def _kahn(pipeline: Pipeline, graph: dict[str, list[str]]) -> list[Asset]:
    """Kahn's algorithm with a heap of file positions; stops short of the assets caught in cycles."""
    index = {asset.name: position for position, asset in enumerate(pipeline.assets)}
    waiting = {name: len(deps) for name, deps in graph.items()}
    dependents = _dependents(graph)
    ready = [index[name] for name, count in waiting.items() if count == 0]
    heapq.heapify(ready)
    ordered = []
    while ready:
        asset = pipeline.assets[heapq.heappop(ready)]
        ordered.append(asset)
        for dependent in dependents.get(asset.name, ()):
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                heapq.heappush(ready, index[dependent])
    return ordered


def _dependents(graph: dict[str, list[str]]) -> dict[str, list[str]]:
    """The graph reversed: asset name → the names that wait for it."""
    dependents: dict[str, list[str]] = {}
    for name, deps in graph.items():
        for dep in deps:
            dependents.setdefault(dep, []).append(name)
    return dependents
