"""Operations whose inputs would not fit on the runner Lambda's disk go to Fargate, when that is known
at APPROVE and the user left `_placement` to the platform.

Inputs known at APPROVE are files' and those of operations the cache restores; their sizes come from
S3 (HeadObject). An operation whose inputs only exist at run time is checked by its runner instead,
which fails it before it runs when they do not fit (runners/handler.Room).
"""
from __future__ import annotations

import os

from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.graph import is_composite, placement_choice
from chalicelib.store import storage
from chalicelib.store.models import CacheModel

MIB = 1024 * 1024
# Room a runner keeps free beside an operation's inputs: the script, the logs, small outputs.
DISK_MARGIN_BYTES = 64 * MIB
# The runner's own disk cap (the template sets it on the runner Lambda to its EphemeralStorage).
RUNNER_STORAGE_VARIABLE = "PLYNX_RUNNER_STORAGE_MB"
# The runner Lambda's EphemeralStorage as the API plans with it (unset: no operation is moved for its size).
LAMBDA_STORAGE_VARIABLE = "PLYNX_LAMBDA_RUNNER_STORAGE_MB"


def lambda_room() -> int | None:
    """Bytes of inputs an operation may have on the runner Lambda; None when the API is not told its disk."""
    configured = os.environ.get(LAMBDA_STORAGE_VARIABLE, "").strip()
    if not configured.isdigit():
        return None
    return int(configured) * MIB - DISK_MARGIN_BYTES


def too_big_for_lambda(graph: dict, restored: dict[str, CacheModel]) -> frozenset[str]:
    """The operations (top level, placement automatic) whose inputs, known now, exceed the Lambda's disk."""
    room = lambda_room()
    if room is None:
        return frozenset()
    known: dict[str, dict[str, str]] = {node_id: dict(entry.outputs) for node_id, entry in restored.items()}
    for node in graph["nodes"]:
        if node.get("base_node_name") == BaseNodeNames.FILE:
            known[node["_id"]] = {o["name"]: o["resource_id"] for o in node.get("outputs", []) if o.get("resource_id")}
    sizes: dict[str, int] = {}
    moved = set()
    for node in graph["nodes"]:
        if (node.get("base_node_name") not in BaseNodeNames.OPERATIONS or is_composite(node)
                or node["_id"] in restored or placement_choice(node) is not None):
            continue
        ids = [known.get(value["node_id"], {}).get(value["output_id"])
               for node_input in node.get("inputs", []) for value in node_input.get("values", [])]
        total = 0
        for resource_id in ids:
            if resource_id is None or not storage.is_resource_id(resource_id):
                continue  # exists only at run time: its runner checks it
            if resource_id not in sizes:
                sizes[resource_id] = storage.size(resource_id)
            total += sizes[resource_id]
        if total > room:
            moved.add(node["_id"])
    return frozenset(moved)
