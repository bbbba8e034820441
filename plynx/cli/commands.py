"""The run commands: run, runs, show, logs, outputs, retry, cancel (GET/POST /graphs/{id}/..., /runs/{id}/...)."""
from __future__ import annotations

import argparse
import datetime
import getpass
import json
import os
import sys
from typing import Any

from plynx.api.client import Client, PlynxError, Run
from plynx.node.typing import PRIMITIVE_KINDS

from . import exits

LOG_NAMES = ("stdout", "stderr", "worker")


def client(args: argparse.Namespace) -> Client:
    """The API client the connection options (or the environment) describe; never AWS credentials."""
    user, password = None, None
    if getattr(args, "user", None):
        user, sep, password = args.user.partition(":")
        if not sep:  # curl's way: `-u alice` asks for the password
            password = getpass.getpass(f"Password for {user}: ")
    made = Client(getattr(args, "api", None), user=user, password=password, token=getattr(args, "token", None))
    args.api_url = made.url
    return made


def _run_missing(exc: PlynxError, what: str) -> PlynxError:
    """A 404 from a run route of a server that keeps no run records says so, not just `not found`."""
    if exc.status_code in (403, 404) and "not found" not in str(exc).lower():
        return PlynxError(f"{exc}\nThis server has no run records ({what}): it is older than the `plynx` "
                          "client; `plynx run GRAPH --watch` and `plynx cancel --graph GRAPH` still work.",
                          status_code=404)
    return exc


def _get_run(api: Client, run_id: str) -> Run:
    try:
        return api.get_run(run_id)
    except PlynxError as exc:
        raise _run_missing(exc, "GET /runs/{run_id}") from exc


def _watch(api: Client, run_id: str, args: argparse.Namespace) -> int:
    """Wait for a run with a progress bar on stderr; the exit code its status gives."""
    run = api.wait_run(run_id, progress=not args.quiet, poll=args.poll, timeout=args.timeout)
    print(f"run {run_id} ended {run.status}", file=sys.stderr)
    for node in run.graph["nodes"]:
        if node["node_running_status"] == "FAILED":
            print(f"  FAILED {node['title']} ({node['_id']}): plynx logs {run_id} {node['_id']}", file=sys.stderr)
    if run.record and run.record.get("error"):
        print(f"  {run.record['error']}", file=sys.stderr)
    return exits.for_status(run.status)


def _graph_from_file(api: Client, path: str) -> str:
    """Save the graph a JSON file holds (as POST /graphs takes it, or as GET /graphs/{id} answers); its id."""
    with open(path, encoding="utf-8") as handle:
        try:
            body = json.load(handle)
        except ValueError as exc:
            raise exits.UsageError(f"{path} is not JSON: {exc}") from exc
    graph = body.get("graph") or body.get("data") or body if isinstance(body, dict) else None
    if not isinstance(graph, dict) or not isinstance(graph.get("nodes"), list):
        raise exits.UsageError(f"{path}: a graph is a JSON object with `nodes` (or {{\"graph\": {{...}}}})")
    saved = api.call("POST", "graphs", json={"graph": graph, "actions": ["SAVE"]})
    if saved["status"] != "SUCCESS":
        raise PlynxError(f"{path}: {saved.get('message')}", saved.get("validation_error"))
    print(f"saved graph {saved['graph']['_id']} from {path}", file=sys.stderr)
    return saved["graph"]["_id"]


def run(args: argparse.Namespace) -> int:
    """`plynx run GRAPH`: start a run; prints its id on stdout; --watch waits and exits with its status."""
    api = client(args)
    graph_id = _graph_from_file(api, args.graph) if os.path.isfile(args.graph) else args.graph
    parameters = dict(args.params)
    run_id = api.start(graph_id, parameters or None)
    print(run_id)
    print(f"started run {run_id} of graph {graph_id}" + (f" with {json.dumps(parameters)}" if parameters else ""),
          file=sys.stderr)
    return _watch(api, run_id, args) if args.watch else exits.OK


def _when(value: Any) -> str:
    if not value:
        return "-"
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return str(value)


def _duration(start: Any, end: Any) -> str:
    try:
        first = datetime.datetime.fromisoformat(str(start).replace("Z", "+00:00"))
        last = datetime.datetime.fromisoformat(str(end).replace("Z", "+00:00"))
    except ValueError:
        return "-"
    return f"{(last - first).total_seconds():.1f}s"


def table(rows: list[list[str]]) -> str:
    """Rows as aligned columns (the first row is the header)."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows)


def runs(args: argparse.Namespace) -> int:
    """`plynx runs GRAPH`: the graph's kept runs, newest first."""
    api = client(args)
    try:
        items, total = api.runs(args.graph, offset=args.offset, per_page=args.limit)
    except PlynxError as exc:
        raise _run_missing(exc, "GET /graphs/{graph_id}/runs") from exc
    if args.json:
        print(json.dumps({"items": items, "total_count": total}, indent=2))
        return exits.OK
    rows = [["RUN", "STATUS", "STARTED", "DURATION", "HOW", "BY", "VERSION"]]
    for item in items:
        rows.append([item["_id"] + (" *" if item.get("latest") else ""), str(item["run_status"]),
                     _when(item.get("start")), _duration(item.get("start"), item.get("end")) if item.get("end") else "-",
                     str(item.get("how") or "-"), str(item.get("started_by") or "-"), str(item.get("graph_version"))])
    print(table(rows))
    print(f"{len(items)} of {total} run(s); * the latest", file=sys.stderr)
    return exits.OK


def show(args: argparse.Namespace) -> int:
    """`plynx show RUN`: the run's record and each operation's status, attempts and time."""
    api = client(args)
    found = _get_run(api, args.run)
    if args.json:
        print(json.dumps(found.record, indent=2))
        return exits.OK
    record = found.record or {}
    print(f"run {record.get('_id')} of graph {record.get('graph_id')} (version {record.get('graph_version')}): "
          f"{found.status}, started {_when(record.get('start'))} by {record.get('started_by')} ({record.get('how')})")
    if record.get("parameters"):
        print(f"parameters: {json.dumps(record['parameters'])}")
    rows = [["NODE", "TITLE", "STATUS", "ATTEMPTS", "DURATION"]]
    for node in found.graph["nodes"]:
        if node["base_node_name"] == "file":
            continue
        rows.append([node["_id"], node["title"], node["node_running_status"], str(node.get("attempts", "-")),
                     _duration(node.get("started"), node.get("ended")) if node.get("ended") else "-"])
    print(table(rows))
    return exits.OK


def find_node(found: Run, name: str) -> dict:
    """A node of the run by id, else by its title (which must then be unique)."""
    nodes = found.graph["nodes"]
    for node in nodes:
        if node["_id"] == name:
            return node
    titled = [node for node in nodes if node.get("title") == name]
    if len(titled) == 1:
        return titled[0]
    if titled:
        raise exits.UsageError(f"{len(titled)} nodes are titled `{name}`: name one by id: "
                               + ", ".join(node["_id"] for node in titled))
    raise exits.NotFound(f"run {found.run_id} has no node `{name}`; its operations: "
                         + ", ".join(f"{n['_id']} ({n['title']})" for n in nodes if n["base_node_name"] != "file"))


def logs(args: argparse.Namespace) -> int:
    """`plynx logs RUN [NODE]`: the logs of one operation, or of each operation of the run in turn."""
    api = client(args)
    found = _get_run(api, args.run)
    nodes = [find_node(found, args.node)] if args.node else [
        node for node in found.graph["nodes"] if node["base_node_name"] != "file"]
    wanted = args.log_names or list(LOG_NAMES)
    out = sys.stdout
    for node in nodes:
        for entry in node.get("logs") or []:
            if entry["name"] not in wanted:
                continue
            text = found.log(node["_id"], entry["name"]) if entry.get("resource_id") else ""
            if not text and not args.node:
                continue  # the whole run's logs: only those with something in them
            out.write(f"==> {node['title']} ({node['_id']}) {entry['name']} [{node['node_running_status']}] <==\n")
            out.write(text if text.endswith("\n") or not text else text + "\n")
    return exits.OK


def file_name(output: dict) -> str:
    """The name an output is written under: its own (no path parts), a directory as its zip."""
    name = os.path.basename(output["name"].replace("/", "_").replace("\\", "_")) or "output"
    name = "_" + name if name in (".", "..") else name
    return name + ".zip" if output.get("file_type") == "directory" else name


def outputs(args: argparse.Namespace) -> int:
    """`plynx outputs RUN NODE [--download DIR]`: the operation's outputs, values shown, files written."""
    api = client(args)
    found = _get_run(api, args.run)
    node = find_node(found, args.node)
    chosen = [o for o in node.get("outputs") or [] if not args.names or o["name"] in args.names]
    missing = sorted(set(args.names or ()) - {o["name"] for o in chosen})
    if missing:
        raise exits.NotFound(f"{node['title']} has no output {missing}; it has "
                             f"{[o['name'] for o in node.get('outputs') or []]}")
    if args.download:
        os.makedirs(args.download, exist_ok=True)
    rows = [["OUTPUT", "KIND", "RESOURCE", "VALUE" if not args.download else "WRITTEN TO"]]
    for output in chosen:
        resource_id = output.get("resource_id")
        shown = "-"
        if resource_id and args.download:
            shown = os.path.join(args.download, file_name(output))
            data = api.resource(resource_id)
            with open(shown, "wb") as handle:
                handle.write(data)
            shown += f" ({len(data)} bytes)"
        elif resource_id and output.get("file_type") in PRIMITIVE_KINDS:
            shown = api.resource(resource_id).decode("utf-8", "replace")[:200]
        rows.append([output["name"], str(output.get("file_type")), resource_id or "-", shown])
    print(table(rows))
    if node["node_running_status"] not in ("SUCCESS", "RESTORED"):
        print(f"{node['title']} is {node['node_running_status']}: outputs without a resource were not made",
              file=sys.stderr)
    return exits.OK


def retry(args: argparse.Namespace) -> int:
    """`plynx retry RUN`: a new run where what succeeded is restored and the failure runs again."""
    api = client(args)
    try:
        new = api.retry(args.run)
    except PlynxError as exc:
        raise _run_missing(exc, "POST /runs/{run_id}/retry") from exc
    print(new.run_id)
    print(f"run {args.run} retried as run {new.run_id}", file=sys.stderr)
    return _watch(api, str(new.run_id), args) if args.watch else exits.OK


def cancel(args: argparse.Namespace) -> int:
    """`plynx cancel RUN` (POST /runs/{run_id}/cancel) or `plynx cancel --graph GRAPH` (POST /graphs/{id}/cancel)."""
    api = client(args)
    if args.graph:
        body = api.call("POST", f"graphs/{args.graph}/cancel", json={})
        print(f"graph {args.graph}: {body['graph']['graph_running_status']}", file=sys.stderr)
        return exits.OK
    try:
        stopped = api.cancel_run(args.run)
    except PlynxError as exc:
        raise _run_missing(exc, "POST /runs/{run_id}/cancel") from exc
    print(f"run {args.run}: {stopped.status}", file=sys.stderr)
    return exits.OK
