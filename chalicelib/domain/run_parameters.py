"""A graph's run parameters: the `publicable` parameters of its operations, set per run by
`{"parameters": {"<node_id>.<name>": value}}` on APPROVE, CREATE_RUN and the single-action approve.

System parameters (`_cmd`, `_timeout`, `_cacheable`, ...: names starting with `_`) are not run parameters even
when publicable: every operation's `_timeout` is publicable in the seed, and a graph's run form would otherwise
list it for each operation. A run's values change the nodes of that run only, never the saved graph.
"""
from __future__ import annotations

import copy
from typing import Any

from .enums import BaseNodeNames, ParameterTypes
from .errors import BadRequestError
from .parameters import TYPES, ParameterValueError

MAX_PARAMETERS = 200  # a run's record is one DynamoDB item (400 KB): the values are kept small and few
MAX_VALUE_CHARS = 64 * 1024


def key(node_id: str, name: str) -> str:
    return f"{node_id}.{name}"


def declared(graph: dict) -> dict[str, dict]:
    """The graph's run parameters by `<node_id>.<name>`: publicable, not a system parameter, of an operation
    placed on the graph itself (not inside a composite)."""
    found = {}
    for node in graph.get("nodes", []):
        if node.get("base_node_name") == BaseNodeNames.FILE:
            continue
        for parameter in node.get("parameters", []):
            name = parameter.get("name", "")
            if parameter.get("publicable") and not name.startswith("_") \
                    and parameter.get("parameter_type") != ParameterTypes.LIST_NODE:
                found[key(node["_id"], name)] = parameter
    return found


def _value(parameter: dict, value: Any) -> Any:
    """The value as the parameter stores it (the type's own form), or ParameterValueError."""
    kind = parameter.get("parameter_type")
    saved = parameter.get("value")
    if kind == ParameterTypes.ENUM:
        options = list(saved.get("values") or []) if isinstance(saved, dict) else []
        if isinstance(value, str):
            if value not in options:
                raise ParameterValueError(f"`{value[:40]}` is not one of {options}")
            return {"values": options, "index": options.index(value)}
        if isinstance(value, int) and not isinstance(value, bool):
            if not 0 <= value < len(options):
                raise ParameterValueError(f"index {value} is outside the {len(options)} values {options}")
            return {"values": options, "index": value}
        if isinstance(value, dict):  # the stored form: a choice among the same values
            TYPES[kind].convert(value)
            if list(value["values"]) != options:
                raise ParameterValueError(f"a run chooses among the enum's values {options}, it does not change them")
            return {"values": options, "index": int(value.get("index") or 0)}
        raise ParameterValueError(f"an enum takes one of {options} (or its index)")
    if kind == ParameterTypes.CODE:
        mode = saved.get("mode", "python") if isinstance(saved, dict) else "python"
        if isinstance(value, str):
            return {"mode": mode, "value": value}
        TYPES[kind].convert(value)
        return {"mode": value.get("mode", mode), "value": value.get("value", "")}
    return TYPES[kind].convert(value)


def typed_value(parameter: dict, value: Any) -> Any:
    """A value for `parameter` in its type's stored form (a trial's values too), or ParameterValueError."""
    return _value(parameter, value)


def check(graph: dict, given: Any) -> dict[str, Any]:
    """The run's values by `<node_id>.<name>`, each in its type's stored form; a 400 naming every name that is
    not a run parameter of this graph and every value that does not fit its type."""
    if given is None:
        return {}
    if not isinstance(given, dict):
        raise BadRequestError('`parameters` must be an object: {"<node_id>.<name>": value}')
    if len(given) > MAX_PARAMETERS:
        raise BadRequestError(f"`parameters` has {len(given)} values; at most {MAX_PARAMETERS}")
    runnable = declared(graph)
    values, problems = {}, []
    for name, value in given.items():
        node_id, dot, parameter_name = str(name).partition(".")
        parameter = runnable.get(name)
        if not dot or not node_id or not parameter_name:
            problems.append(f"`{name}` is not `<node_id>.<name>`")
        elif parameter is None:
            nodes = {node["_id"]: node for node in graph.get("nodes", [])}
            if node_id not in nodes:
                problems.append(f"`{name}`: the graph has no node `{node_id}`")
            elif not any(p.get("name") == parameter_name for p in nodes[node_id].get("parameters", [])):
                problems.append(f"`{name}`: node `{node_id}` has no parameter `{parameter_name}`")
            else:
                problems.append(f"`{name}` is not a run parameter (only parameters marked publicable are, "
                                "system parameters starting with `_` never)")
        elif len(repr(value)) > MAX_VALUE_CHARS:
            problems.append(f"`{name}`: the value is over {MAX_VALUE_CHARS} characters")
        else:
            try:
                values[name] = _value(parameter, value)
            except (ParameterValueError, TypeError, ValueError) as exc:
                problems.append(f"`{name}` ({parameter.get('parameter_type')}): {exc}")
    if problems:
        shown = "; ".join(problems[:20]) + (f"; and {len(problems) - 20} more" if len(problems) > 20 else "")
        raise BadRequestError(f"Run parameters refused: {shown}; the graph's run parameters: "
                              f"{sorted(runnable)[:50] or 'none'}")
    return values


def by_node(values: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """`{"<node_id>.<name>": v}` as `{node_id: {name: v}}`."""
    nodes: dict[str, dict[str, Any]] = {}
    for name, value in values.items():
        node_id, _, parameter_name = name.partition(".")
        nodes.setdefault(node_id, {})[parameter_name] = value
    return nodes


def apply_to_node(node: dict, values: dict[str, Any]) -> dict:
    """A copy of a node (or a stored node body) with its parameters set to `values` by name."""
    if not values:
        return node
    changed = copy.deepcopy(node)
    for parameter in changed.get("parameters", []):
        if parameter.get("name") in values:
            parameter["value"] = copy.deepcopy(values[parameter["name"]])
    return changed


def apply(graph: dict, values: dict[str, Any]) -> dict:
    """The graph as this run runs it: a copy with the run's values in its nodes (the saved graph unchanged)."""
    if not values:
        return graph
    nodes = by_node(values)
    return dict(graph, nodes=[apply_to_node(node, nodes.get(node["_id"], {})) for node in graph["nodes"]])
