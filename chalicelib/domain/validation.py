"""Validation trees in the seed's shape: {target, object_id, validation_code, children}."""
from __future__ import annotations

import jinja2

from . import parameters, resource_kinds, scripts
from .enums import FILE_KIND, BaseNodeNames, ValidationCode, ValidationTargetType
from .graph import blocked_by_cycles, inner_nodes, is_composite
from .nodes import command_text


def error(target: str, object_id: str, code: str, children: list[dict] | None = None) -> dict:
    """One node of a validation tree."""
    return {"target": target, "object_id": object_id, "validation_code": code, "children": children or []}


def parameter_errors(node: dict) -> list[dict]:
    """INVALID_VALUE for a value that does not fit its type; MISSING_PARAMETER for an empty command."""
    errors = []
    for parameter in node.get("parameters", []):
        problem = parameters.check(parameter["parameter_type"], parameter["value"])
        if problem:
            errors.append(error(ValidationTargetType.PARAMETER, parameter["name"], problem.code))
    if node["base_node_name"] in BaseNodeNames.OPERATIONS and not command_text(node).strip():
        errors.append(error(ValidationTargetType.PARAMETER, "_cmd", ValidationCode.MISSING_PARAMETER))
    elif command_problem(node):
        errors.append(error(ValidationTargetType.PARAMETER, "_cmd", ValidationCode.INVALID_VALUE))
    errors.extend(error(target, name, ValidationCode.INVALID_VALUE) for target, name in resource_kinds.unknown_kinds(node))
    return errors


def command_problem(node: dict) -> str | None:
    """Why a bash_jinja2 command can never run: it does not parse, or reaches past the sandbox.

    Rendered as PREVIEW_CMD renders it (placeholder paths). Only faults no input can fix are reported
    here; one that depends on the inputs' values (a division by an input) is the run's to find.
    """
    if node["base_node_name"] != BaseNodeNames.BASH_JINJA2:
        return None
    try:
        scripts.preview(node)
    except (jinja2.TemplateSyntaxError, scripts.SecurityError) as exc:
        return str(exc)
    except (jinja2.TemplateError, ValueError, KeyError):
        return None
    return None


def validate_node(node: dict, deprecated: set[str] = frozenset()) -> dict | None:
    """Errors of an operation on its own (POST /nodes VALIDATE and APPROVE); a composite's include its sub-graph's."""
    children = parameter_errors(node) + composite_errors(node, deprecated)
    if not children:
        return None
    return error(ValidationTargetType.NODE, node["_id"], ValidationCode.IN_DEPENDENTS, children)


# Resource kinds that travel as values, not files: a generic `file` input does not take them.
VALUE_KINDS = frozenset({"int", "float", "str", "bool", "color", "dict", "enum", "list_str", "list_int"})


def types_compatible(accepted: list[str], file_type: str) -> bool:
    """An input takes an output of a type it lists; a `file` input takes any file-based type."""
    return file_type in accepted or (FILE_KIND in accepted and file_type not in VALUE_KINDS)


def link_problem(source: dict | None, output_name: str, target: dict, input_name: str) -> str | None:
    """Why a wire from `source.output_name` to `target.input_name` cannot exist, or None."""
    if source is None:
        return "the source node is not in the graph"
    output = next((o for o in source.get("outputs", []) if o["name"] == output_name), None)
    if output is None:
        return f"`{source.get('title', source['_id'])}` has no output `{output_name}`"
    node_input = next((i for i in target.get("inputs", []) if i["name"] == input_name), None)
    if node_input is None:
        return f"`{target.get('title', target['_id'])}` has no input `{input_name}`"
    if not types_compatible(node_input["file_types"], output["file_type"]):
        return (f"output `{output_name}` is `{output['file_type']}` but input `{input_name}` accepts "
                f"{', '.join(node_input['file_types'])}")
    return None


def _input_errors(node: dict, by_id: dict[str, dict]) -> list[dict]:
    errors = []
    for node_input in node.get("inputs", []):
        values = node_input["values"]
        if len(values) < node_input["min_count"]:
            errors.append(error(ValidationTargetType.INPUT, node_input["name"], ValidationCode.MISSING_INPUT))
            continue
        if 0 <= node_input["max_count"] < len(values):
            errors.append(error(ValidationTargetType.INPUT, node_input["name"], ValidationCode.INVALID_VALUE))
            continue
        for value in values:
            source = by_id.get(value["node_id"])
            outputs = {o["name"] for o in source["outputs"]} if source else set()
            if value["output_id"] not in outputs:
                errors.append(error(ValidationTargetType.INPUT, node_input["name"], ValidationCode.MISSING_INPUT))
                break
            if link_problem(source, value["output_id"], node, node_input["name"]):
                errors.append(error(ValidationTargetType.INPUT, node_input["name"], ValidationCode.INVALID_VALUE))
                break
    return errors


def _file_errors(node: dict) -> list[dict]:
    return [
        error(ValidationTargetType.PROPERTY, output["name"], ValidationCode.MISSING_INPUT)
        for output in node["outputs"]
        if not output.get("resource_id")
    ]


def composite_errors(node: dict, deprecated: set[str] = frozenset()) -> list[dict]:
    """The errors inside a composite operation's sub-graph, one tree per faulty node."""
    if not is_composite(node):
        return []
    return _nodes_errors(inner_nodes(node), deprecated)


def _nodes_errors(nodes: list[dict], deprecated: set[str]) -> list[dict]:
    by_id = {node["_id"]: node for node in nodes}
    in_cycle = blocked_by_cycles(nodes)
    children = []
    for node in nodes:
        if node["base_node_name"] == BaseNodeNames.FILE:
            node_errors = _file_errors(node)
        elif node["base_node_name"] == BaseNodeNames.INPUT:
            node_errors = []  # its outputs are the composite's inputs
        else:
            node_errors = _input_errors(node, by_id) + parameter_errors(node) + composite_errors(node, deprecated)
        if node["_id"] in in_cycle:
            node_errors.extend(
                error(ValidationTargetType.INPUT, i["name"], ValidationCode.IN_DEPENDENTS)
                for i in node.get("inputs", [])
                if any(v["node_id"] in in_cycle for v in i["values"])
            )
        if node.get("parent_node_id") in deprecated:
            node_errors.append(error(ValidationTargetType.NODE, node["_id"], ValidationCode.DEPRECATED_NODE))
        if node_errors:
            children.append(error(ValidationTargetType.NODE, node["_id"], ValidationCode.IN_DEPENDENTS, node_errors))
    return children


def merge(first: dict | None, second: dict | None) -> dict | None:
    """Two trees of one object as one: children about the same node merged, the others side by side."""
    if first is None or second is None:
        return first or second
    children = [dict(child) for child in first["children"]]
    for child in second["children"]:
        same = next((i for i, mine in enumerate(children) if child["target"] == ValidationTargetType.NODE
                     and (mine["target"], mine["object_id"]) == (child["target"], child["object_id"])), None)
        if same is None:
            children.append(child)
        else:
            children[same] = merge(children[same], child)
    return dict(first, children=children)


def validate_graph(graph: dict, deprecated: set[str] = frozenset()) -> dict | None:
    """The whole graph's validation tree, or None when it may run."""
    nodes = graph["nodes"]
    if not nodes:
        return error(ValidationTargetType.GRAPH, graph["_id"], ValidationCode.EMPTY_GRAPH)
    children = _nodes_errors(nodes, deprecated)
    if not children:
        return None
    return error(ValidationTargetType.GRAPH, graph["_id"], ValidationCode.IN_DEPENDENTS, children)

