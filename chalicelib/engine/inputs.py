"""What an operation reads: the resources and types behind its inputs, from the nodes upstream."""
from __future__ import annotations

from chalicelib.store.graph_items import node_from_item
from chalicelib.store.models import GraphNodeModel


def upstream_nodes(graph_id: str, node: dict) -> dict[str, dict]:
    """The nodes an operation reads, by id, with their results (one BatchGet)."""
    upstream_ids = {v["node_id"] for i in node["inputs"] for v in i["values"]}
    return {
        item.node_id: node_from_item(item)
        for item in GraphNodeModel.batch_get([(graph_id, node_id) for node_id in upstream_ids],
                                             consistent_read=True)
    }


def input_resources(graph_id: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The resource ids behind each input of a node, from the nodes it reads (`upstream`, if read already)."""
    if upstream is None:
        upstream = upstream_nodes(graph_id, node)
    resolved: dict[str, list[str]] = {}
    for node_input in node["inputs"]:
        ids = []
        for value in node_input["values"]:
            source = upstream.get(value["node_id"])
            output = next((o for o in (source or {}).get("outputs", []) if o["name"] == value["output_id"]), None)
            if output is None or not output.get("resource_id"):
                raise LookupError(
                    f"Input `{node_input['name']}`: output `{value['output_id']}` of node "
                    f"`{value['node_id']}` has no resource"
                )
            ids.append(output["resource_id"])
        resolved[node_input["name"]] = ids
    return resolved


def upstream_types(graph_id: str, node: dict, upstream: dict[str, dict] | None = None) -> dict[str, list[str]]:
    """The file_type of each output an operation's inputs read, so each input is prepared as what it is.

    `upstream`: the nodes read, by id, when the caller has them already (the runner)."""
    from chalicelib.store.graph_items import node_from_item
    from chalicelib.store.models import GraphNodeModel

    upstream_ids = {v["node_id"] for i in node.get("inputs", []) for v in i["values"]}
    if not upstream_ids:
        return {}
    if upstream is None:
        upstream = {item.node_id: node_from_item(item) for item in GraphNodeModel.batch_get(
            [(graph_id, node_id) for node_id in upstream_ids], consistent_read=True)}
    types: dict[str, list[str]] = {}
    for node_input in node.get("inputs", []):
        for value in node_input["values"]:
            source = upstream.get(value["node_id"], {})
            output = next((o for o in source.get("outputs", []) if o["name"] == value["output_id"]), None)
            types.setdefault(node_input["name"], []).append(output["file_type"] if output else "file")
    return types
