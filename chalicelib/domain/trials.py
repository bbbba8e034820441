"""A trial: one run of an operation's draft on inputs and parameter values the user picks, before it is approved.

The trial is a graph of its own (a header listed as `trial`, never `graph`: no search, list or hub shows it)
with a file node per input value wired to the draft, run through the same engine path as APPROVE. Its
operation runs with `_cacheable` false, so the cache is neither read nor written; nothing enters the
library. Only its author (or an admin) sees it; to everyone else its ids do not exist.
"""
from __future__ import annotations

import copy
from typing import Any

from .enums import FILE_KIND, BaseNodeNames, IAMPolicies, ParameterTypes
from .errors import BadRequestError
from .nodes import default_node
from .parameters import ParameterValueError
from .permissions import has
from .run_parameters import MAX_VALUE_CHARS, typed_value
from .util import new_id

LISTING = "trial"
TRIAL = "TRIAL"  # a trial's run record says `how: TRIAL`
MAX_INPUT_VALUES = 50  # one graph item a value: a trial stays a small graph (and a small BatchWriteItem)
CACHEABLE = "_cacheable"


def hidden(listing: str | None, author: str, user: str) -> bool:
    """Whether a graph header is a trial the caller may not see (anyone's but their own, unless admin)."""
    return listing == LISTING and author != str(user) and not has(user, IAMPolicies.IS_ADMIN)


def input_values(node: dict, raw: Any, resource_kinds: frozenset[str]) -> dict[str, list[tuple[str, str]]]:
    """The trial's inputs as `{name: [(resource_id, file_type), ...]}`; a 400 naming what does not fit.

    `raw` maps an input's name to a resource id, `{"resource_id": id, "file_type": kind}`, or a list of those;
    a value's kind defaults to the input's first accepted type."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequestError('`inputs` must be an object: {"<input name>": "<resource id>" | [...]}')
    declared = {entry["name"]: entry for entry in node.get("inputs", [])}
    unknown = sorted(set(raw) - set(declared))
    if unknown:
        raise BadRequestError(f"The operation has no input {unknown}; its inputs: {sorted(declared)}")
    found: dict[str, list[tuple[str, str]]] = {}
    count = 0
    for name, entry in declared.items():
        given = raw.get(name, [])
        listed = given if isinstance(given, list) else [given]
        values = []
        for i, value in enumerate(listed):
            where = f"`inputs.{name}`" + (f"[{i}]" if isinstance(given, list) else "")
            if isinstance(value, dict):
                extra = sorted(set(value) - {"resource_id", "file_type"})
                if extra:
                    raise BadRequestError(f"{where} has unknown fields {extra}; it takes `resource_id` and `file_type`")
                resource_id, kind = value.get("resource_id"), value.get("file_type")
            else:
                resource_id, kind = value, None
            if not isinstance(resource_id, str) or not resource_id:
                raise BadRequestError(f"{where} must be a resource id (a string), or {{\"resource_id\": ...}}")
            accepted = entry.get("file_types") or [FILE_KIND]
            kind = accepted[0] if kind is None else kind
            if not isinstance(kind, str) or kind not in resource_kinds:
                raise BadRequestError(f"{where}: unknown file_type `{kind}`; known: {sorted(resource_kinds)}")
            values.append((resource_id, kind))
        low, high = int(entry.get("min_count", 1)), int(entry.get("max_count", 1))
        if len(values) < low:
            raise BadRequestError(f"Input `{name}` needs {'at least ' if high != low else ''}{low} "
                                  f"value{'s' if low != 1 else ''}; {len(values)} given")
        if 0 <= high < len(values):
            raise BadRequestError(f"Input `{name}` takes at most {high} value{'s' if high != 1 else ''}; "
                                  f"{len(values)} given")
        count += len(values)
        found[name] = values
    if count > MAX_INPUT_VALUES:
        raise BadRequestError(f"A trial takes at most {MAX_INPUT_VALUES} input values; {count} given")
    return found


def set_parameters(node: dict, raw: Any) -> dict:
    """A copy of the draft with the trial's values set by parameter name (`_cacheable` forced false); a 400
    naming each unknown name, system parameter or value that does not fit its type."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadRequestError('`parameters` must be an object: {"<parameter name>": value}')
    changed = copy.deepcopy(node)
    by_name = {p["name"]: p for p in changed.get("parameters", [])}
    problems = []
    for name, value in raw.items():
        parameter = by_name.get(name)
        if str(name).startswith("_"):
            problems.append(f"`{name}` is a system parameter: set it in the operation itself")
        elif parameter is None:
            problems.append(f"the operation has no parameter `{name}`")
        elif parameter.get("parameter_type") == ParameterTypes.LIST_NODE:
            problems.append(f"`{name}` is a composite's operations, not a value")
        elif len(repr(value)) > MAX_VALUE_CHARS:
            problems.append(f"`{name}`: the value is over {MAX_VALUE_CHARS} characters")
        else:
            try:
                parameter["value"] = typed_value(parameter, value)
            except (ParameterValueError, TypeError, ValueError) as exc:
                problems.append(f"`{name}` ({parameter.get('parameter_type')}): {exc}")
    if problems:
        names = sorted(n for n in by_name if not n.startswith("_"))
        raise BadRequestError(f"Trial parameters refused: {'; '.join(problems[:20])}; the operation's parameters: "
                              f"{names or 'none'}")
    if CACHEABLE in by_name:
        by_name[CACHEABLE]["value"] = False
    else:
        changed.setdefault("parameters", []).append(
            {"name": CACHEABLE, "parameter_type": ParameterTypes.BOOL, "value": False, "mutable_type": False,
             "removable": False, "publicable": False, "widget": None})
    return changed


def build_graph(node: dict, inputs: dict[str, list[tuple[str, str]]], user: str) -> dict:
    """The trial's graph: a file node for each input value, wired to the operation (given its values)."""
    if node.get("base_node_name") not in BaseNodeNames.OPERATIONS:
        raise BadRequestError(f"Only an operation ({sorted(BaseNodeNames.OPERATIONS)}) can be tried; this node is "
                              f"`{node.get('base_node_name')}`")
    operation = copy.deepcopy(node)
    operation.update(x=320, y=40, node_status=operation.get("node_status"))
    files: list[dict] = []
    for entry in operation.get("inputs", []):
        entry["values"] = []
        for resource_id, kind in inputs.get(entry["name"], []):
            file = default_node(BaseNodeNames.FILE, user)
            file.update(title=f"{entry['name']} {len(entry['values']) + 1}", x=20, y=40 + 90 * len(files),
                        node_status="READY")
            file["outputs"][0].update(file_type=kind, resource_id=resource_id)
            files.append(file)
            entry["values"].append({"node_id": file["_id"], "output_id": "out", "resource_id": None})
    title = (node.get("title") or "operation")[:200]
    return {"_id": new_id(), "_version": None, "title": f"Trial of {title}", "description": node["_id"],
            "author": str(user), "nodes": [*files, operation]}
