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


# Forks nest Parallel states: bounded, so that a definition stays shallow (parsers recurse on it) and one
# top-level chain with its forks stays well within an execution's budget (900 KB, 20,000 events: compiler.Limits),
# also with long node ids; past these, a dependent starts a chain of its own and waits.
MAX_FORK_ANCESTRY = 4  # a chain forked from a chain forked from ... at most this many times
MAX_FORK_HOSTS = 4  # operations of one chain that fork others (each nests the rest of the chain one level)
MAX_FORKED_OPERATIONS = 200  # operations under one top-level chain, when another fork is added to it


@dataclass
class Chain:
    """Operations that run one after another in one branch; each may first wait for other chains.

    `forked_at`: the chain starts when that operation (of another chain) has finished, in a Parallel state
    right after it, so it needs no dependency wait for it; None: it starts with the run.
    """

    node_ids: list[str] = field(default_factory=list)
    forked_at: str | None = None


@dataclass
class Plan:
    """Which operations run, in which chains, and who waits for and notifies whom."""

    chains: list[Chain]
    waits_for: dict[str, list[str]]  # node id -> dependencies in other chains (it waits for them)
    notifies: dict[str, list[str]]  # node id -> dependents in other chains (it releases them)
    forks: dict[str, list[int]] = field(default_factory=dict)  # node id -> chains started right after it
    joins: dict[str, str] = field(default_factory=dict)  # node id -> the fork whose Parallel it runs after


def plan(graph: dict, skip: frozenset[str] = frozenset(), max_chain: int = 1000) -> Plan:
    """Cut the operations into chains: a node continues the chain of its deepest dependency still at a
    chain's end ("path merging"), so only joins across chains need a dependency wait. A node that cannot
    continue a chain but has a dependency starts a chain forked right after its deepest one: a fan-out's
    branches start when their source has finished, with no wait (a Lambda invocation, three requests to
    release it) on the source's critical path.

    A node whose inputs end every branch of one fork's Parallel (a fan-in: the join of a fan-out) runs right
    after that Parallel, in its host's chain ("joins"): Parallel states are fork-join, so it needs no wait
    either (a wait per join, a notify per branch) and loses no parallelism, since it needs every branch. Those
    branches are then sealed: nothing continues them or forks from them (a later dependent would make the join
    wait for what it does not need); such a dependent starts a chain of its own and waits.

    `skip` holds operations that will not run (restored from the cache): like files, they are done.
    """
    nodes = {node["_id"]: node for node in graph["nodes"]}
    order = _order(nodes)
    runs = {node_id for node_id in order if nodes[node_id]["base_node_name"] not in NOT_RUN and node_id not in skip}
    depth: dict[str, int] = {}
    chain_of: dict[str, int] = {}
    position: dict[str, int] = {}
    chains: list[Chain] = []
    top: list[int] = []  # each chain's top-level chain
    size: dict[int, int] = {}  # operations under each top-level chain, its forks' included
    ancestry: list[int] = []  # how many forks lead to each chain
    hosts: dict[int, set[str]] = {}  # each chain's operations that fork others
    waits_for: dict[str, list[str]] = {}
    notifies: dict[str, list[str]] = {}
    forks: dict[str, list[int]] = {}
    joins: dict[str, str] = {}
    joined: dict[int, list[tuple[int, frozenset[str]]]] = {}  # chain -> (a join's position, what ended before it)
    sealed: set[str] = set()  # operations of a joined Parallel's branches
    joined_hosts: set[str] = set()  # forks whose Parallel an operation runs after

    def settled(dep: str, chain: int, at: int) -> bool:
        """`dep` has finished when `chain` reaches position `at`: earlier in it, in a Parallel it joined before
        (or at) `at`, or before the fork it came from."""
        inside = True
        while True:
            if chain_of[dep] == chain and position[dep] < at:
                return True
            if any(dep in ended and (join <= at if inside else join < at) for join, ended in joined.get(chain, ())):
                return True
            host = chains[chain].forked_at
            if host is None:
                return False
            chain, at, inside = chain_of[host], position[host] + 1, False

    def may_fork(host: str) -> bool:
        chain = chain_of[host]
        return (host not in sealed and size[top[chain]] < min(max_chain, MAX_FORKED_OPERATIONS)
                and ancestry[chain] < MAX_FORK_ANCESTRY
                and (host in hosts.get(chain, ()) or len(hosts.get(chain, ())) < MAX_FORK_HOSTS))

    def branches(host: str) -> list[list[str]]:
        """The branches of `host`'s Parallel: the rest of its chain, then each chain forked after it."""
        rest = chains[chain_of[host]].node_ids[position[host] + 1:]
        return ([rest] if rest else []) + [chains[index].node_ids for index in forks[host]]

    def join_of(deps: list[str]) -> str | None:
        """The fork whose Parallel a node with these inputs may run right after: each of its branches ends in
        one of them, none forks again, and nothing ran after it in its host's chain."""
        for host in sorted({chains[chain_of[dep]].forked_at for dep in deps} - {None}):
            if host in sealed or host in joined_hosts or size[top[chain_of[host]]] >= max_chain:
                continue
            parts = branches(host)
            if all(part[-1] in deps and not any(n in sealed or n in forks for n in part) for part in parts):
                return host
        return None

    for node_id in order:
        if node_id not in runs:
            continue
        deps = sorted(dep for dep in dependencies(nodes[node_id]) if dep in runs)
        depth[node_id] = 1 + max((depth[dep] for dep in deps), default=0)
        # continue the chain of the dependency expected to finish last, if it still ends there
        candidates = [
            dep for dep in deps
            if chains[chain_of[dep]].node_ids[-1] == dep and dep not in sealed and size[top[chain_of[dep]]] < max_chain
        ]
        joining = join_of(deps)
        if joining is not None:  # right after the Parallel its inputs end, in its host's chain
            ended = frozenset(n for part in branches(joining) for n in part)
            chain_of[node_id] = chain_of[joining]
            joins[node_id] = joining
            joined_hosts.add(joining)
            joined.setdefault(chain_of[joining], []).append((len(chains[chain_of[joining]].node_ids), ended))
            sealed.update(ended)
        elif candidates:
            chosen = max(candidates, key=lambda dep: depth[dep])
            chain_of[node_id] = chain_of[chosen]
        else:
            chain_of[node_id] = len(chains)
            forkable = [dep for dep in deps if may_fork(dep)]
            if forkable:  # start right after the dependency expected to finish last
                host = max(forkable, key=lambda dep: depth[dep])
                parent = chain_of[host]
                chains.append(Chain(forked_at=host))
                top.append(top[parent])
                ancestry.append(ancestry[parent] + 1)
                hosts.setdefault(parent, set()).add(host)
                forks.setdefault(host, []).append(chain_of[node_id])
            else:
                chains.append(Chain())
                top.append(chain_of[node_id])
                ancestry.append(0)
                size[chain_of[node_id]] = 0
        chain = chain_of[node_id]
        position[node_id] = len(chains[chain].node_ids)
        chains[chain].node_ids.append(node_id)
        size[top[chain]] += 1
        # what has not surely finished by the time the chain reaches this node is waited for
        external = [dep for dep in deps if not settled(dep, chain, position[node_id])]
        if external:
            waits_for[node_id] = external
            for dep in external:
                notifies.setdefault(dep, []).append(node_id)
    return Plan(chains, waits_for, notifies, forks, joins)
