"""`plynx execute FILE`: run one operation from a JSON file with local inputs, as the seed's `plynx execute`.

The seed's worker ran the node in place; here the server runs it (the client holds no runner and no AWS
credentials): the local files are uploaded, a graph of them and the operation is run, and the operation's
stdout and stderr are printed and its outputs written to a local directory when it ends.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from typing import Any

from plynx.api import Graph
from plynx.api.client import Client, PlynxError

from . import commands, exits

SMALL_UPLOAD = 5 * 1024 * 1024  # POST /upload_file carries the bytes through the API: under Lambda's 6 MB payload


def load_spec(path: str) -> tuple[dict, dict[str, list[Any]], dict[str, Any], str]:
    """The file's operation (or stored operation id), inputs, parameters, and the folder its paths are in.

    Either a node (as `POST /nodes` takes it, `GET /nodes/{id}` answers it or `to_node` makes it), or
    `{"node": {...} | "node_id": "...", "inputs": {"name": "path" | ["path", ...] | {"value": v}},
    "parameters": {"name": value}}`.
    """
    try:
        with open(path, encoding="utf-8") as handle:
            body = json.load(handle)
    except ValueError as exc:
        raise exits.UsageError(f"{path} is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise exits.UsageError(f"{path}: an operation is a JSON object")
    if "base_node_name" in body:
        body = {"node": body}
    elif isinstance(body.get("data"), dict) and "base_node_name" in body["data"]:
        body = {"node": body["data"]}  # a GET /nodes/{id} answer
    node = body.get("node") if "node" in body else ({"node_id": body["node_id"]} if "node_id" in body else None)
    if not isinstance(node, dict):
        raise exits.UsageError(f'{path}: no operation: give a node, or {{"node": {{...}}}} or {{"node_id": "..."}}')
    inputs = body.get("inputs") or {}
    parameters = body.get("parameters") or {}
    if not isinstance(inputs, dict) or not isinstance(parameters, dict):
        raise exits.UsageError(f"{path}: `inputs` and `parameters` are JSON objects keyed by name")
    listed = {name: value if isinstance(value, list) else [value] for name, value in inputs.items()}
    return node, listed, parameters, os.path.dirname(os.path.abspath(path))


def _input_kind(node_input: dict) -> str:
    kinds = node_input.get("file_types") or ["file"]
    return kinds[0] if len(kinds) == 1 else "file"


def _upload(api: Client, value: Any, kind: str, base: str, quiet: bool) -> dict:
    """A file node for one input value: a local file uploaded, or `{"value": v}` stored as that kind's value."""
    if isinstance(value, dict) and "value" in value:
        return api.upload(json.dumps(value["value"]).encode(), title="value", file_type=kind)
    if not isinstance(value, str):
        raise exits.UsageError(f"an input is a local path or {{\"value\": ...}}, not {json.dumps(value)}")
    path = os.path.join(base, os.path.expanduser(value))
    if not os.path.isfile(path):
        raise exits.UsageError(f"no such file: {path}")
    if os.path.getsize(path) <= SMALL_UPLOAD:
        with open(path, "rb") as handle:
            return api.upload(handle.read(), title=os.path.basename(path), file_type=kind)
    return api.upload_file(path, file_type=kind, progress=not quiet)


def build_graph(api: Client, node: dict, inputs: dict[str, list[tuple[Any, str]]], parameters: dict[str, Any],
                quiet: bool) -> tuple[Graph, str]:
    """The graph: a file node per input value (value, folder its path is relative to), wired to the operation."""
    declared = {i["name"]: i for i in node.get("inputs") or []}
    unknown = sorted(set(inputs) - set(declared))
    if unknown:
        raise exits.UsageError(f"`{node.get('title')}` has no input {unknown}; it has {sorted(declared)}")
    names = {p["name"] for p in node.get("parameters") or []}
    wrong = sorted(set(parameters) - names)
    if wrong:
        raise exits.UsageError(f"`{node.get('title')}` has no parameter {wrong}; it has "
                               f"{sorted(n for n in names if not n.startswith('_'))}")
    graph = Graph(title=f"plynx execute: {node.get('title', 'operation')}")
    bindings: dict[str, Any] = dict(parameters)
    for name, values in inputs.items():
        kind = _input_kind(declared[name])
        refs = [graph.add(_upload(api, value, kind, base, quiet), title=name) for value, base in values]
        bindings[name] = [ref["out"] for ref in refs]
    operation = graph.add(node, node_id=secrets.token_hex(12), **bindings)
    return graph, operation.id


def spec_and_arguments(api: Any, args: argparse.Namespace) -> tuple[dict, dict[str, list[tuple[Any, str]]], dict]:
    """The operation (fetched when the file names a stored one), its input values each with the folder its paths
    are relative to, and its parameters: the file's, with the command line's `-i`/`-p` in place of them."""
    node, inputs, parameters, base = load_spec(args.file)
    if "base_node_name" not in node:
        node = api.call("GET", f"nodes/{node['node_id']}")["data"]
    values = {name: [(value, base) for value in listed] for name, listed in inputs.items()}
    given: dict[str, list[tuple[Any, str]]] = {}
    for name, value in args.inputs:  # the command line's paths are the current directory's; they replace the file's
        given.setdefault(name, []).append((value, os.getcwd()))
    values.update(given)
    parameters.update(dict(args.params))
    return node, values, parameters


def execute(args: argparse.Namespace) -> int:
    """Upload the inputs, run the operation, print its output streams, write its outputs; exit by its status."""
    api = commands.client(args)
    node, values, parameters = spec_and_arguments(api, args)
    graph, node_id = build_graph(api, node, values, parameters, args.quiet)
    graph_id = api.save(graph)
    run_id = api.start(graph_id)
    print(f"running `{node.get('title')}`: graph {graph_id}, run {run_id}", file=sys.stderr)
    run = api.wait_run(run_id, progress=not args.quiet, poll=args.poll, timeout=args.timeout)
    return finish(api, run, node_id, node.get("title"), run_id, args.download)


def finish(api: Client, run: Any, node_id: str, title: str | None, run_id: str, download: str) -> int:
    """Print the operation's output streams, write its outputs to `download`; the exit code of its status."""
    done = run.node(node_id)
    for name, stream in (("stdout", sys.stdout), ("stderr", sys.stderr)):
        stream.write(run.log(node_id, name) if any(log["name"] == name for log in done.get("logs") or []) else "")
        stream.flush()
    if run.status != "SUCCESS":
        worker = run.log(node_id, "worker") if any(log["name"] == "worker" for log in done.get("logs") or []) else ""
        sys.stderr.write(worker)
        print(f"`{title}` ended {done['node_running_status']} (run {run_id})", file=sys.stderr)
        return exits.for_status(run.status)
    os.makedirs(download, exist_ok=True)
    for output in done.get("outputs") or []:
        if not output.get("resource_id"):
            continue
        target = os.path.join(download, commands.file_name(output))
        try:
            data = api.resource(output["resource_id"])
        except PlynxError as exc:
            raise PlynxError(f"output `{output['name']}`: {exc}", status_code=exc.status_code) from exc
        with open(target, "wb") as handle:
            handle.write(data)
        print(f"{output['name']}: {target} ({len(data)} bytes)", file=sys.stderr)
    return exits.OK
