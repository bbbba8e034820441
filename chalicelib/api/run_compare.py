"""Two runs of one graph side by side: their parameters, and per operation its status, duration, attempts and
outputs (resource ids are SHA-256 digests of the bytes, so equal ids are equal outputs).

Who may compare is who may see both runs (each a 404 otherwise, worded as for an id nobody stored).
"""
from __future__ import annotations

from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.errors import BadRequestError

from . import runs

def _side(node: dict | None) -> dict | None:
    if node is None:
        return None
    return {"status": node.get("node_running_status"), "started": node.get("started"), "ended": node.get("ended"),
            "duration_seconds": node.get("duration_seconds", 0.0), "attempts": node.get("attempts", 0),
            "placement": node.get("placement"), "restored_from": node.get("restored_from"),
            "outputs": {o["name"]: o.get("resource_id") for o in node.get("outputs", [])}}


def _operations(run: dict) -> dict[str, dict]:
    return {node["_id"]: node for node in run["graph"]["nodes"] if node["base_node_name"] != BaseNodeNames.FILE}


def compare(run_id: str, other_id: str, user: str) -> dict:
    """`GET /runs/{run_id}/compare/{other_run_id}`: both runs' records, and what differs between them."""
    left, right = runs.get_run(run_id, user), runs.get_run(other_id, user)
    if left["graph_id"] != right["graph_id"]:
        raise BadRequestError(f"Runs `{run_id}` and `{other_id}` are of different graphs: only runs of one graph "
                              "are compared")
    parameters = []
    given_left, given_right = left["parameters"] or {}, right["parameters"] or {}
    for name in sorted(set(given_left) | set(given_right)):
        parameters.append({"name": name, "left": given_left.get(name), "right": given_right.get(name),
                           "same": given_left.get(name) == given_right.get(name)})
    nodes = []
    ops_left, ops_right = _operations(left), _operations(right)
    for node_id in [*ops_left, *(n for n in ops_right if n not in ops_left)]:
        a, b = _side(ops_left.get(node_id)), _side(ops_right.get(node_id))
        title = (ops_left.get(node_id) or ops_right[node_id]).get("title", "")
        nodes.append({"node_id": node_id, "title": title, "left": a, "right": b,
                      "same_status": bool(a and b and a["status"] == b["status"]),
                      "same_outputs": bool(a and b and a["outputs"] == b["outputs"])})
    summary = {key: value for key, value in left.items() if key != "graph"}, \
        {key: value for key, value in right.items() if key != "graph"}
    return {"graph_id": left["graph_id"], "left": summary[0], "right": summary[1], "parameters": parameters,
            "nodes": nodes}
