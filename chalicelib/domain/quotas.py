"""Per-user caps on what one APPROVE may start (the config's `quotas` section): pure checks.

Admins are exempt unless `exempt_admins: false`: an admin can already change any user's policies and
objects, so a cap does not contain one, and the laptop's single user (`default`) is an admin who runs
10,000-operation graphs. The concurrent-runs counter itself lives in chalicelib/engine/quotas.py.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from . import config
from .enums import BaseNodeNames, IAMPolicies, ValidationCode, ValidationTargetType
from .errors import BadRequestError
from .graph import NOT_RUN, inner_nodes, is_composite, retries, timeout_seconds
from .permissions import caller_policies


@dataclass(frozen=True)
class Quotas:
    """The caps of one user (every user gets the same; admins none unless configured)."""

    concurrent_runs: int
    operations_per_graph: int
    lambda_timeout_seconds: int
    fargate_timeout_seconds: int
    retries: int
    exempt_admins: bool


def quotas() -> Quotas:
    """The configured caps; a malformed value is the operator's ConfigError, at the first APPROVE."""
    section = config.get_config().get("quotas") or {}
    if not isinstance(section, dict):
        raise config.ConfigError("`quotas` must be a mapping")
    values = {}
    for name in ("concurrent_runs", "operations_per_graph", "lambda_timeout_seconds", "fargate_timeout_seconds",
                 "retries"):
        value = section.get(name)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise config.ConfigError(f"`quotas.{name}` must be a whole number >= 0, not {value!r}")
        values[name] = value
    return Quotas(**values, exempt_admins=bool(section.get("exempt_admins", True)))


def capped(user: str) -> Quotas | None:
    """The caps that apply to this caller, or None for an exempt admin."""
    caps = quotas()
    if caps.exempt_admins and IAMPolicies.IS_ADMIN in caller_policies(user):
        return None
    return caps


def _operations(nodes: list[dict]) -> Iterator[dict]:
    """Every operation of a graph, composites and what is inside them (at every depth) included."""
    for node in nodes:
        if node.get("base_node_name") in NOT_RUN:
            continue
        yield node
        yield from _operations(inner_nodes(node))


def check_size(graph: dict, caps: Quotas) -> None:
    """A 400 that names the cap when the graph has more operations than a user may run at once."""
    count = sum(1 for _ in _operations(graph["nodes"]))
    if count > caps.operations_per_graph:
        raise BadRequestError(f"The graph has {count} operations (those inside composites counted), over the "
                              f"quota `operations_per_graph` ({caps.operations_per_graph})")


def _node_problems(node: dict, caps: Quotas, placement: Callable[[dict], str]) -> tuple[list[dict], list[str]]:
    errors: list[dict] = []
    notes: list[str] = []
    name = f"`{node.get('title') or node['_id']}` ({node['_id']})"
    if node.get("base_node_name") in BaseNodeNames.OPERATIONS:
        timeout = timeout_seconds(node)
        where = placement(node)
        cap, cap_name = ((caps.fargate_timeout_seconds, "fargate_timeout_seconds") if where == "fargate"
                         else (caps.lambda_timeout_seconds, "lambda_timeout_seconds"))
        if timeout > cap:
            errors.append(_error(ValidationTargetType.PARAMETER, "_timeout"))
            notes.append(f"`_timeout` of {name} is {timeout} s, over the quota `{cap_name}` ({cap} s on {where})")
        asked = retries(node)
        if asked > caps.retries:
            errors.append(_error(ValidationTargetType.PARAMETER, "_retries"))
            notes.append(f"`_retries` of {name} is {asked}, over the quota `retries` ({caps.retries})")
    if is_composite(node):
        inner, inner_notes = _nodes_problems(inner_nodes(node), caps, placement)
        errors += inner
        notes += inner_notes
    return errors, notes


def _nodes_problems(nodes: list[dict], caps: Quotas, placement: Callable[[dict], str]) -> tuple[list[dict], list[str]]:
    children, notes = [], []
    for node in nodes:
        errors, node_notes = _node_problems(node, caps, placement)
        if errors:
            children.append(_error(ValidationTargetType.NODE, node["_id"], errors, ValidationCode.IN_DEPENDENTS))
            notes += node_notes
    return children, notes


def parameter_problems(graph: dict, caps: Quotas, placement: Callable[[dict], str]) -> tuple[list[dict], list[str]]:
    """NODE entries of a validation tree for `_timeout` and `_retries` over the caps (INVALID_VALUE on the
    parameter), and a sentence for each naming the cap and the value. `placement` is the compiler's."""
    return _nodes_problems(graph["nodes"], caps, placement)


def _error(target: str, object_id: str, children: list[dict] | None = None,
           code: str = ValidationCode.INVALID_VALUE) -> dict:
    return {"target": target, "object_id": object_id, "validation_code": code, "children": children or []}
