"""`plynx schedule list|add|pause|resume|delete`: a graph's schedules (GET/POST /graphs/{id}/schedules,
PATCH/DELETE /schedules/{id})."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from . import exits
from .commands import client, table


def add_schedule_commands(parent: argparse.ArgumentParser, common: argparse.ArgumentParser,
                          run_parameter: Any) -> None:
    """The sub-commands of `plynx schedule`."""
    sub = parent.add_subparsers(dest="schedule_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        child.set_defaults(handler=handler)
        return child

    listed = action("list", "a graph's schedules with their next fire times and last fire", list_schedules)
    listed.add_argument("graph", metavar="GRAPH", help="the graph's id")
    listed.add_argument("--json", action="store_true", help="the schedules as JSON")

    add = action("add", "add a schedule to a graph (EventBridge Scheduler syntax)", add_schedule)
    add.add_argument("graph", metavar="GRAPH", help="the graph's id")
    add.add_argument("expression", metavar="EXPRESSION",
                     help="`rate(5 minutes)`, `cron(0 8 ? * MON-FRI *)` or `at(2027-01-01T08:00:00)`")
    add.add_argument("-z", "--timezone", default="UTC", help="an IANA time zone name (default UTC)")
    add.add_argument("-p", "--param", dest="params", action="append", type=run_parameter, default=[],
                     metavar="NODE_ID.NAME=VALUE", help="a run parameter of each fire (repeatable)")
    add.add_argument("--paused", action="store_true", help="add it paused")

    for name, help_text, handler in (("pause", "pause a schedule (it stops firing)", pause),
                                     ("resume", "resume a paused schedule", resume),
                                     ("delete", "delete a schedule", delete)):
        child = action(name, help_text, handler)
        child.add_argument("schedule", metavar="SCHEDULE", help="the schedule's id (plynx schedule list GRAPH)")


def _line(item: dict) -> str:
    state = "enabled" if item["enabled"] else "paused"
    return f"schedule {item['_id']} of graph {item['graph_id']}: {item['expression']} ({item['timezone']}), {state}"


def list_schedules(args: argparse.Namespace) -> int:
    body = client(args).call("GET", f"graphs/{args.graph}/schedules")
    if args.json:
        print(json.dumps({"items": body["items"], "total_count": body["total_count"]}, indent=2))
        return exits.OK
    rows = [["SCHEDULE", "EXPRESSION", "ZONE", "STATE", "NEXT", "LAST FIRE", "BY"]]
    for item in body["items"]:
        last = item.get("last_fire") or {}
        rows.append([item["_id"], item["expression"], item["timezone"], "enabled" if item["enabled"] else "paused",
                     (item["next_fire_times"] or ["-"])[0],
                     f"{last.get('outcome')} {last.get('run_id') or ''}".strip() if last else "-", item["author"]])
    print(table(rows))
    print(f"{body['total_count']} schedule(s) of at most {body.get('max_schedules')}", file=sys.stderr)
    return exits.OK


def add_schedule(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"expression": args.expression, "timezone": args.timezone, "enabled": not args.paused}
    if args.params:
        body["parameters"] = dict(args.params)
    made = client(args).call("POST", f"graphs/{args.graph}/schedules", json=body)["data"]
    print(made["_id"])
    print(_line(made) + (f"; next: {', '.join(made['next_fire_times'][:3])}" if made["next_fire_times"] else ""),
          file=sys.stderr)
    return exits.OK


def _set(args: argparse.Namespace, enabled: bool) -> int:
    changed = client(args).call("PATCH", f"schedules/{args.schedule}", json={"enabled": enabled})["data"]
    print(_line(changed), file=sys.stderr)
    return exits.OK


def pause(args: argparse.Namespace) -> int:
    return _set(args, False)


def resume(args: argparse.Namespace) -> int:
    return _set(args, True)


def delete(args: argparse.Namespace) -> int:
    client(args).call("DELETE", f"schedules/{args.schedule}")
    print(f"schedule {args.schedule} deleted", file=sys.stderr)
    return exits.OK
