"""`plynx trigger …` and `plynx notify …`: a graph's webhook and file triggers and your notification settings,
through the REST API (/graphs/{id}/triggers, /triggers/{token}, /graphs/{id}/notifications)."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import requests

from . import commands, exits


def add_trigger_commands(trigger: argparse.ArgumentParser, common: argparse.ArgumentParser,
                         run_parameter: Any) -> None:
    """`plynx trigger show|create|rotate|revoke|watch|unwatch|fire`."""
    sub = trigger.add_subparsers(dest="trigger_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: Any, graph: bool = True) -> argparse.ArgumentParser:
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        child.set_defaults(handler=handler)
        if graph:
            child.add_argument("graph", metavar="GRAPH", help="the graph's id")
        return child

    action("show", "the graph's triggers (never the token)", show)
    action("create", "make the graph's webhook trigger; prints its URL (shown this once)", create)
    action("rotate", "a new URL for the webhook trigger; the old one is a 404 at once", rotate)
    action("revoke", "revoke the webhook trigger", revoke)
    action("watch", "run the graph on each new version of a file", watch).add_argument(
        "file", metavar="FILE", help="the file node's id")
    action("unwatch", "stop running the graph on new versions of a file", unwatch).add_argument(
        "file", metavar="FILE", help="the file node's id")
    fire_ = action("fire", "start a run through a trigger URL (no credentials: the URL is the secret)", fire,
                   graph=False)
    fire_.add_argument("url", metavar="URL", help="the trigger's URL (or its token, with --api)")
    fire_.add_argument("-p", "--param", dest="params", action="append", type=run_parameter, default=[],
                       metavar="NODE_ID.NAME=VALUE", help="a run parameter (repeatable); VALUE is JSON or text")


def add_notify_commands(notify: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """`plynx notify show|set|off`."""
    sub = notify.add_subparsers(dest="notify_command", required=True, metavar="ACTION")
    for name, help_text, handler in (("show", "your notification settings for the graph (and your secret)", notify_show),
                                     ("off", "no notifications of the graph for you", notify_off)):
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        child.set_defaults(handler=handler)
        child.add_argument("graph", metavar="GRAPH", help="the graph's id")
    child = sub.add_parser("set", parents=[common], help="when and where you are told of the graph's runs' ends",
                           description="when and where you are told of the graph's runs' ends")
    child.set_defaults(handler=notify_set)
    child.add_argument("graph", metavar="GRAPH", help="the graph's id")
    child.add_argument("--on", choices=["success", "failure", "both", "never"], default="both")
    child.add_argument("--webhook", metavar="URL", help="POST a signed JSON body here")
    child.add_argument("--email", metavar="ADDRESS", help="mail this address")
    child.add_argument("--rotate-secret", action="store_true", help="a new signing secret")


def _print(data: Any) -> None:
    print(json.dumps(data, indent=2, sort_keys=True))


def show(args: argparse.Namespace) -> int:
    _print(commands.client(args).call("GET", f"graphs/{args.graph}/triggers")["data"])
    return exits.OK


def _made(args: argparse.Namespace, path: str, what: str) -> int:
    api = commands.client(args)
    data = api.call("POST", path, json={})["data"]
    print(f"{api.url}/triggers/{data['token']}")
    print(f"{what}: keep this URL secret; it is not shown again (curl -X POST URL [-d '{{\"parameters\": ...}}'])",
          file=sys.stderr)
    return exits.OK


def create(args: argparse.Namespace) -> int:
    return _made(args, f"graphs/{args.graph}/triggers/webhook", "webhook trigger created")


def rotate(args: argparse.Namespace) -> int:
    return _made(args, f"graphs/{args.graph}/triggers/webhook/rotate", "webhook trigger rotated")


def revoke(args: argparse.Namespace) -> int:
    commands.client(args).call("DELETE", f"graphs/{args.graph}/triggers/webhook")
    print(f"graph {args.graph}: webhook trigger revoked", file=sys.stderr)
    return exits.OK


def watch(args: argparse.Namespace) -> int:
    _print(commands.client(args).call("POST", f"graphs/{args.graph}/triggers/files", json={"file_id": args.file})["data"])
    return exits.OK


def unwatch(args: argparse.Namespace) -> int:
    commands.client(args).call("DELETE", f"graphs/{args.graph}/triggers/files/{args.file}")
    return exits.OK


def fire(args: argparse.Namespace) -> int:
    """No credentials are sent, whatever the connection options say: the URL is the secret."""
    url = args.url
    if "/" not in url:
        url = f"{commands.client(args).url}/triggers/{url}"
    body = {"parameters": dict(args.params)} if args.params else {}
    response = requests.post(url, json=body, timeout=30)
    if response.status_code == 404:
        raise exits.NotFound("no such trigger (unknown or revoked)")
    if response.status_code >= 400:
        print(f"plynx: {response.status_code} {response.text[:500]}", file=sys.stderr)
        return exits.REFUSED
    print(response.json()["run_id"])
    return exits.OK


def notify_show(args: argparse.Namespace) -> int:
    _print(commands.client(args).call("GET", f"graphs/{args.graph}/notifications")["data"])
    return exits.OK


def notify_set(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {"on": args.on, "webhook_url": args.webhook, "email": args.email}
    if args.rotate_secret:
        body["rotate_secret"] = True
    _print(commands.client(args).call("PUT", f"graphs/{args.graph}/notifications", json=body)["data"])
    return exits.OK


def notify_off(args: argparse.Namespace) -> int:
    commands.client(args).call("DELETE", f"graphs/{args.graph}/notifications")
    return exits.OK
