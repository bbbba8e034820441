"""The graph as a DAG of operations: dependencies, a topological order, and the chains the compiler emits."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

FILE = "file"
GRAPH = "graph"  # a composite operation: its `_nodes` run in a nested execution
NOT_RUN = frozenset({FILE, "_input", "_output"})  # files and a composite's Inputs/Outputs nodes never run


def sub_graph_id(graph_id: str, node_id: str) -> str:
    """Where a composite's nodes live at run time (`.` never appears in an id, so it cannot collide)."""
    return f"{graph_id}.{node_id}"


def top_graph_id(graph_id: str) -> str:
    """The graph a (possibly nested) sub-graph belongs to."""
    return graph_id.split(".", 1)[0]


def composite_nodes(node: dict) -> list[dict] | None:
    """The sub-graph of a composite operation (its `_nodes` parameter), None for any other node."""
    if node.get("base_node_name") != GRAPH:
        return None
    value = next((p.get("value") for p in node.get("parameters", []) if p.get("name") == "_nodes"), None)
    return value if isinstance(value, list) else []


def wait_key(graph_id: str, node_id: str) -> str:
    """A node's dependency-wait key within its run: sub-graphs of two composites may share node ids."""
    return node_id if "." not in graph_id else f"{graph_id}/{node_id}"


class CompileError(ValueError):
    """The graph cannot become a state machine (a cycle, a dangling reference, a quota)."""


def dependencies(node: dict) -> set[str]:
    """Ids of the nodes whose outputs this node reads."""
    return {value["node_id"] for node_input in node.get("inputs", []) for value in node_input.get("values", [])}


def topological_order(nodes: dict[str, dict]) -> list[str]:
    """Every node id after all its dependencies (Kahn's algorithm: iterative, so a 10,000-chain is fine)."""
    dependents: dict[str, list[str]] = {node_id: [] for node_id in nodes}
    waiting: dict[str, int] = {}
    for node_id, node in nodes.items():
        deps = dependencies(node)
        missing = deps - nodes.keys()
        if missing:
            raise CompileError(f"Node `{node_id}` depends on unknown nodes {sorted(missing)}")
        waiting[node_id] = len(deps)
        for dep in deps:
            dependents[dep].append(node_id)
    ready = deque(sorted(node_id for node_id, count in waiting.items() if count == 0))
    order: list[str] = []
    while ready:
        node_id = ready.popleft()
        order.append(node_id)
        for dependent in dependents[node_id]:
            waiting[dependent] -= 1
            if waiting[dependent] == 0:
                ready.append(dependent)
    if len(order) != len(nodes):
        stuck = sorted(node_id for node_id, count in waiting.items() if count > 0)
        raise CompileError(f"Graph has a cycle through nodes {stuck}")
    return order


def operation_levels(graph: dict) -> list[list[str]]:
    """Operation ids grouped by longest distance from a source; files never run and form no level."""
    nodes = {node["_id"]: node for node in graph["nodes"]}
    depth: dict[str, int] = {}
    for node_id in topological_order(nodes):
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
    order = topological_order(nodes)
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
