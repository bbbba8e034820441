"""`plynx try FILE`: try an operation's draft once before approving it (`POST /nodes/try`), as `plynx execute`
runs one, but recorded as a trial: not cached, not in the library, seen by its author only.

`plynx execute` saves a workflow of the files and the operation (listed with your workflows, cached like any
run); `plynx try` stores nothing but the trial. An input is a local path (uploaded) or a resource id you may
read (an upload, an output of a run you may see), so a trial can run on what an earlier run made.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from plynx.api.client import Client, PlynxError

from . import commands, execute, exits

RESOURCE_ID = re.compile(r"^[0-9a-f]{64}$")  # a content hash (chalicelib/store/storage.py)


def _value(api: Client, value: Any, kind: str, base: str, quiet: bool) -> dict:
    """One input value as POST /nodes/try takes it: a resource id as given, or a local file (or value) uploaded."""
    if isinstance(value, str) and RESOURCE_ID.match(value) and not os.path.exists(os.path.join(base, value)):
        return {"resource_id": value}
    node = execute._upload(api, value, kind, base, quiet)
    return {"resource_id": node["outputs"][0]["resource_id"], "file_type": node["outputs"][0]["file_type"]}


def try_operation(args: argparse.Namespace) -> int:
    """Start the trial, watch it, print its output streams and write its outputs; exit by its status."""
    api = commands.client(args)
    node, values, parameters = execute.spec_and_arguments(api, args)
    declared = {i["name"]: i for i in node.get("inputs") or []}
    unknown = sorted(set(values) - set(declared))
    if unknown:
        raise exits.UsageError(f"`{node.get('title')}` has no input {unknown}; it has {sorted(declared)}")
    body = {"node": node, "parameters": parameters, "inputs": {
        name: [_value(api, value, execute._input_kind(declared[name]), folder, args.quiet) for value, folder in listed]
        for name, listed in values.items()}}
    started = api.call("POST", "nodes/try", json=body)
    if started.get("status") != "SUCCESS":
        raise PlynxError(f"`{node.get('title')}`: {started.get('message')}", started.get("validation_error"))
    trial_id = started["trial_id"]
    print(f"trying `{node.get('title')}`: trial {trial_id}", file=sys.stderr)
    if args.no_wait:
        print(trial_id)
        return exits.OK
    run = api.wait_run(trial_id, progress=not args.quiet, poll=args.poll, timeout=args.timeout)
    return execute.finish(api, run, started["node_id"], node.get("title"), trial_id, args.download)
