"""An operation run's cache key: equal keys, equal results, so a later run may restore instead of run.

The key is the SHA-256 of the operation's kind, its parameters (its code among them) except the ones
that do not change results, the content ids of its inputs and the names and kinds of its outputs. A composite's
key covers its sub-graph's operations and links, not positions, titles or run results.
"""
from __future__ import annotations

import hashlib
import json

from .enums import BaseNodeNames
from .graph import NODES_PARAMETER, RUN_PARAMETERS

# Parameters that do not change an operation's results (the seed's IGNORED_CACHE_PARAMETERS and ours).
IGNORED_PARAMETERS = RUN_PARAMETERS


def _parameters(node: dict) -> list:
    """The parameters that decide results, a composite's `_nodes` as its structure."""
    return sorted(
        (p["name"], p.get("parameter_type"), _structure(p["value"]) if p["name"] == NODES_PARAMETER
         and isinstance(p.get("value"), list) else p.get("value"))
        for p in node.get("parameters", []) if p.get("name") not in IGNORED_PARAMETERS)


def _structure(nodes: list[dict]) -> list:
    """A composite's sub-graph as far as results depend on it: not positions, titles or run results."""
    return sorted(
        (n.get("_id"), n.get("base_node_name"),
         sorted((i["name"], sorted((v["node_id"], v["output_id"]) for v in i.get("values", [])))
                for i in n.get("inputs", [])),
         sorted((o["name"], o.get("file_type"), o.get("resource_id") if n.get("base_node_name") == BaseNodeNames.FILE
                 else None) for o in n.get("outputs", [])),
         _parameters(n))
        for n in nodes)


def key(node: dict, input_ids: dict[str, list[str]]) -> str:
    """The cache key of one operation run."""
    material = {
        "kind": node.get("base_node_name"),
        "parameters": _parameters(node),
        "inputs": {name: list(ids) for name, ids in sorted(input_ids.items())},
        # an output's kind decides how the runner prepares and post-processes its file (a directory is zipped)
        "outputs": sorted((o["name"], o.get("file_type")) for o in node.get("outputs", [])),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
