"""The operation cache: a run whose key was seen before is restored instead of run (RESTORED).

The key (chalicelib/domain/cache_key.py) covers what decides an operation's results. Planning happens at APPROVE: every
operation whose inputs are known then (files, or operations restored themselves) is looked up, and a
hit is compiled out of the state machine, so no runner is invoked for it. The runner looks up again
for operations whose inputs only exist at run time.

CLI (the seed's `plynx cache`): `python -m chalicelib.engine.cache list|clean [--start-datetime D] [--end-datetime D]`.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable

from chalicelib.domain.cache_key import key
from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.graph import cacheable, dependencies
from chalicelib.domain.permissions import RunPrincipal
from chalicelib.domain.util import now
from chalicelib.store.models import CacheModel

LISTING = "cache"
RETRY_PREFIX = "retry:"  # the key of what a retry keeps of the run it restarts (preparation.carried_over): no cache entry
_BATCH = 100  # DynamoDB's BatchGetItem limit


def lookup(cache_key: str, principal: RunPrincipal) -> CacheModel | None:
    """The entry for a key, if there is one `principal` may restore (one whose author's workflows they
    may view: restoring is reading its outputs)."""
    try:
        entry = CacheModel.get(cache_key, consistent_read=True)
    except CacheModel.DoesNotExist:
        return None
    return entry if principal.may_restore(entry.author) else None


def entry(cache_key: str, node: dict, outputs: dict[str, str], logs: dict[str, str], graph_id: str,
          run_id: str, author: str) -> CacheModel:
    """A successful run's results under its key, with whose run it was, not yet written (the runner writes it
    with the operation's end: transitions.finish_node)."""
    return CacheModel(cache_key, insertion_date=now(), outputs=outputs, logs=logs, graph_id=graph_id,
                      node_id=node["_id"], run_id=run_id, title=node.get("title") or "", author=author)


def put(cache_key: str, node: dict, outputs: dict[str, str], logs: dict[str, str], graph_id: str,
        run_id: str, author: str) -> None:
    """Remember a successful run's results under its key, with whose run it was."""
    entry(cache_key, node, outputs, logs, graph_id, run_id, author).save()


def source(entry: CacheModel) -> dict[str, str] | None:
    """Where a restored operation's results came from (the run that stored them; `kind` "retry": kept from
    the run a retry restarts, not the cache), for the UI to say so."""
    if not entry.run_id:
        return None
    kind = "retry" if entry.key.startswith(RETRY_PREFIX) else "cache"
    return {"run_id": entry.run_id, "graph_id": entry.graph_id or "", "date": entry.insertion_date or "", "kind": kind}


def _known_outputs(node: dict) -> dict[str, str] | None:
    """A file's outputs are known before any run."""
    if node["base_node_name"] != BaseNodeNames.FILE:
        return None
    return {o["name"]: o["resource_id"] for o in node.get("outputs", []) if o.get("resource_id")}


def _input_ids(node: dict, known: dict[str, dict[str, str]]) -> dict[str, list[str]] | None:
    resolved: dict[str, list[str]] = {}
    for node_input in node.get("inputs", []):
        ids = []
        for value in node_input.get("values", []):
            resource_id = known.get(value["node_id"], {}).get(value["output_id"])
            if resource_id is None:
                return None
            ids.append(resource_id)
        resolved[node_input["name"]] = ids
    return resolved


def plan_restores(graph: dict, principal: RunPrincipal) -> dict[str, CacheModel]:
    """Operations of a graph the cache can restore for `principal` right now, wave by wave from the files
    down (entries of authors whose workflows they may not view do not count)."""
    nodes = {node["_id"]: node for node in graph["nodes"]}
    known: dict[str, dict[str, str]] = {}
    for node_id, node in nodes.items():
        outputs = _known_outputs(node)
        if outputs is not None:
            known[node_id] = outputs
    restored: dict[str, CacheModel] = {}
    pending = {node_id for node_id, node in nodes.items() if node_id not in known and cacheable(node)}
    while True:
        wave: dict[str, str] = {}
        for node_id in sorted(pending):
            if all(dep in known for dep in dependencies(nodes[node_id])):
                input_ids = _input_ids(nodes[node_id], known)
                if input_ids is not None:
                    wave[node_id] = key(nodes[node_id], input_ids)
        pending -= wave.keys()
        hits = _batch_lookup(set(wave.values()))
        found = False
        for node_id, cache_key in wave.items():
            entry = hits.get(cache_key)
            wanted = {o["name"] for o in nodes[node_id].get("outputs", [])}
            if entry is not None and principal.may_restore(entry.author) and set(entry.outputs) >= wanted:
                restored[node_id] = entry
                known[node_id] = entry.outputs
                found = True
        if not found:
            return restored


def _batch_lookup(keys: set[str]) -> dict[str, CacheModel]:
    found: dict[str, CacheModel] = {}
    ordered = sorted(keys)
    for i in range(0, len(ordered), _BATCH):
        for entry in CacheModel.batch_get(ordered[i:i + _BATCH], consistent_read=True):
            found[entry.key] = entry
    return found


def entries(start: str | None = None, end: str | None = None) -> Iterable[CacheModel]:
    """Cache entries inserted in [start, end], oldest first (dates as `YYYY-MM-DD[ HH:MM:SS]`)."""
    condition = None
    if start and end:
        condition = CacheModel.insertion_date.between(start, end + "\uffff")
    elif start:
        condition = CacheModel.insertion_date >= start
    elif end:
        condition = CacheModel.insertion_date <= end + "\uffff"
    return CacheModel.by_listing.query(LISTING, condition)


def clean(start: str | None = None, end: str | None = None) -> int:
    """Delete the entries of a date range; later runs of those operations run again. Returns the count."""
    count = 0
    with CacheModel.batch_write() as batch:
        for entry in entries(start, end):
            batch.delete(entry)
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    """`python -m chalicelib.engine.cache list|clean`: the seed's `plynx cache` on the cache table."""
    parser = argparse.ArgumentParser(prog="python -m chalicelib.engine.cache", description="List or clean the cache.")
    parser.add_argument("command", choices=["list", "clean"])
    parser.add_argument("--start-datetime", "-s", help="from this date (YYYY-MM-DD[ HH:MM:SS]), inclusive")
    parser.add_argument("--end-datetime", "-e", help="until this date, inclusive")
    args = parser.parse_args(argv)
    if args.command == "list":
        for entry in entries(args.start_datetime, args.end_datetime):
            print(json.dumps({"key": entry.key, "insertion_date": entry.insertion_date, "title": entry.title,
                              "graph_id": entry.graph_id, "node_id": entry.node_id, "author": entry.author,
                              "outputs": entry.outputs}))
        return 0
    print(f"Removed {clean(args.start_datetime, args.end_datetime)} cache entries")
    return 0


if __name__ == "__main__":
    sys.exit(main())
