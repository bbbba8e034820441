"""The chains the compiler emits: which operations run one after another, and who waits for whom.

The graph model itself (links, order, composites) is chalicelib/domain/graph.py.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.domain.graph import NOT_RUN, GraphShapeError, dependencies, topological_order


def wait_key(graph_id: str, node_id: str) -> str:
    """A node's dependency-wait key within its run: sub-graphs of two composites may share node ids."""
    return node_id if "." not in graph_id else f"{graph_id}/{node_id}"


class CompileError(ValueError):
    """The graph cannot become a state machine (a cycle, a dangling reference, a quota)."""


def _order(nodes: dict[str, dict]) -> list[str]:
    try:
        return topological_order(nodes)
    except GraphShapeError as exc:
        raise CompileError(str(exc)) from exc


def operation_levels(graph: dict) -> list[list[str]]:
    """Operation ids grouped by longest distance from a source; files never run and form no level."""
    nodes = {node["_id"]: node for node in graph["nodes"]}
    depth: dict[str, int] = {}
    for node_id in _order(nodes):
        below = max((depth[dep] for dep in dependencies(nodes[node_id])), default=0)
        depth[node_id] = below + (nodes[node_id]["base_node_name"] not in NOT_RUN)
    by_level: dict[int, list[str]] = {}
    for node_id, node in nodes.items():
        if node["base_node_name"] not in NOT_RUN:
            by_level.setdefault(depth[node_id], []).append(node_id)
    return [sorted(by_level[key]) for key in sorted(by_level)]


@dataclass
class Chain:
    """Operations that run one after another in one branch; each may first wait for other chains."""

    node_ids: list[str] = field(default_factory=list)


@dataclass
class Plan:
    """Which operations run, in which chains, and who waits for and notifies whom."""

    chains: list[Chain]
    waits_for: dict[str, list[str]]  # node id -> dependencies in other chains (it waits for them)
    notifies: dict[str, list[str]]  # node id -> dependents in other chains (it releases them)


def plan(graph: dict, skip: frozenset[str] = frozenset(), max_chain: int = 1000) -> Plan:
    """Cut the operations into chains: a node continues the chain of its deepest dependency still at a
    chain's end ("path merging"), so only joins across chains need a dependency wait.

    `skip` holds operations that will not run (restored from the cache): like files, they are done.
    """
    nodes = {node["_id"]: node for node in graph["nodes"]}
    order = _order(nodes)
    runs = {node_id for node_id in order if nodes[node_id]["base_node_name"] not in NOT_RUN and node_id not in skip}
    depth: dict[str, int] = {}
    chain_of: dict[str, int] = {}
    chains: list[Chain] = []
    waits_for: dict[str, list[str]] = {}
    notifies: dict[str, list[str]] = {}
    for node_id in order:
        if node_id not in runs:
            continue
        deps = sorted(dep for dep in dependencies(nodes[node_id]) if dep in runs)
        depth[node_id] = 1 + max((depth[dep] for dep in deps), default=0)
        # continue the chain of the dependency expected to finish last, if it still ends there
        candidates = [
            dep for dep in deps
            if chains[chain_of[dep]].node_ids[-1] == dep and len(chains[chain_of[dep]].node_ids) < max_chain
        ]
        if candidates:
            chosen = max(candidates, key=lambda dep: depth[dep])
            chain_of[node_id] = chain_of[chosen]
        else:
            chosen = None
            chain_of[node_id] = len(chains)
            chains.append(Chain())
        chains[chain_of[node_id]].node_ids.append(node_id)
        # an earlier node of the same chain has finished before the chain reached this one
        external = [dep for dep in deps if chain_of[dep] != chain_of[node_id]]
        if external:
            waits_for[node_id] = external
            for dep in external:
                notifies.setdefault(dep, []).append(node_id)
    return Plan(chains, waits_for, notifies)
