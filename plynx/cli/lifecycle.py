"""`plynx archive|restore|delete` (graphs, operations, files) and `plynx gc` (admins): the REST routes of
chalicelib/api/lifecycle.py."""
from __future__ import annotations

import argparse
import json

from . import commands, exits

KINDS = {"graph": "graphs", "node": "nodes"}


def add_commands(command: object) -> None:
    """The commands, on the parser's `command(name, help, handler)`."""
    for name, help_text in (("archive", "hide a graph, operation or file from lists and searches (still read "
                                        "and used by id)"),
                            ("restore", "show an archived graph, operation or file again"),
                            ("delete", "delete a graph, operation or file (its author or an admin)")):
        child = command(name, help_text, lifecycle)  # type: ignore[operator]
        child.add_argument("kind", choices=sorted(KINDS), help="graph, or node (an operation or a file)")
        child.add_argument("id", metavar="ID", help="its id")
    gc = command("gc", "garbage collection (admins): unreferenced content, run records past retention, "  # type: ignore[operator]
                       "leftovers of deleted graphs, unused state machines", collect)
    gc.add_argument("--dry-run", action="store_true", help="show what would go; change nothing")
    gc.add_argument("--json", action="store_true", help="the report as JSON")


def lifecycle(args: argparse.Namespace) -> int:
    """POST /graphs/{id}/<action> or /nodes/{id}/<action>."""
    body = commands.client(args).call("POST", f"{KINDS[args.kind]}/{args.id}/{args.command}", json={})
    print(body.get("message") or f"{args.kind} {args.id}: {args.command}")
    return exits.OK


def collect(args: argparse.Namespace) -> int:
    """POST /gc: what went (or, with --dry-run, would go)."""
    report = commands.client(args).call("POST", "gc", json={"dry_run": bool(args.dry_run)})["data"]
    if args.json:
        print(json.dumps(report, indent=2))
        return exits.OK
    verb = "would remove" if report["dry_run"] else "removed"
    print(f"Garbage collection {verb} (grace period {report['grace_hours']:g} h):")
    for label, names, count in (
            (f"resources ({report['resource_bytes']} bytes)", "resources", "resource_count"),
            ("run records past retention", "run_records", "run_record_count"),
            ("leftover partitions", "partitions", "partition_count"),
            ("state machines", "state_machines", "state_machine_count")):
        print(f"  {report[count]} {label}")
        for name in report[names]:
            print(f"    {name}")
        if report[count] > len(report[names]):
            print(f"    ... and {report[count] - len(report[names])} more")
    return exits.OK
