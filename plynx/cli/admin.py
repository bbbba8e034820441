"""`plynx users` and `plynx whoami` through the REST API (/users, /user); `plynx cache`, an operator command.

Accounts are managed by admins through the API (`IS_ADMIN`), as the UI's admin view does. What needs the
control plane's AWS credentials (the cache table, backfilling owners) is not a client's: the command
says so and names the operator's command, which runs where those credentials are.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys

from . import commands, exits

OPERATOR_CACHE = """\
`plynx cache {mode}` is an operator command: the cache lives in the stage's DynamoDB table, which only the
control plane's AWS credentials reach, and the REST API has no cache route (a client never holds those keys).
Where those credentials are (a checkout of the project with `make install` done):
  the local stack (make up):
    PLYNX_AWS_ENDPOINT=http://127.0.0.1:5010 AWS_SHARED_CREDENTIALS_FILE=.local-data/aws-credentials \\
      .venv/bin/python -m chalicelib.engine.cache {mode}{dates}
  a deployed stage (the operator's AWS profile for its account and region):
    .venv/bin/python -m chalicelib.engine.cache {mode}{dates}
"""

OPERATOR_BACKFILL = """\
`plynx users backfill-owners` is an operator command (an upgrade step over the stage's tables, with the
control plane's AWS credentials; the REST API has no route for it). From a checkout of the project:
  the local stack:   make users ARGS=backfill-owners
  a deployed stage:  .venv/bin/python -m infra.deploy users --stage STAGE -- backfill-owners
"""


def add_users_commands(users: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """`plynx users list|show|create|approve|activate|deactivate|policies|backfill-owners`."""
    sub = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")

    def action(name: str, help_text: str, handler: object) -> argparse.ArgumentParser:
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        child.set_defaults(handler=handler)
        return child

    listing = action("list", "the accounts (GET /users, admins)", list_users)
    listing.add_argument("--pending", action="store_true", help="only the accounts waiting for approval")
    listing.add_argument("--json", action="store_true", help="the answer as JSON")
    action("show", "one account (GET /user/{username})", show_user).add_argument("username")
    create = action("create", "create an account (POST /users, admins)", create_user)
    create.add_argument("username")
    create.add_argument("--password", help="asked for when not given (at least 8 characters)")
    create.add_argument("--email")
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="IS_ADMIN on top of the stage's default policies")
    action("approve", "let a pending account sign in (POST /users/{username}/approve)", approve_user) \
        .add_argument("username")
    for name in ("activate", "deactivate"):
        action(name, f"{name} an account (POST /user; deactivating revokes its tokens)", set_active) \
            .add_argument("username")
    policies = action("policies", "set an account's policies (POST /user)", set_policies)
    policies.add_argument("username")
    policies.add_argument("policies", nargs="*", help="IAMPolicies names, e.g. CAN_VIEW_WORKFLOWS IS_ADMIN")
    action("backfill-owners", "an operator command (see --help)", backfill_owners)


def _print(value: object) -> None:
    """JSON for a person and for `jq` alike."""
    print(json.dumps(value, indent=2))


def whoami(args: argparse.Namespace) -> int:
    """`plynx whoami`: who the credentials sign in as, and their policies."""
    _print(commands.client(args).call("GET", "user")["user"])
    return exits.OK


def list_users(args: argparse.Namespace) -> int:
    """`plynx users list`: what the admin view lists (GET /users), as a table."""
    body = commands.client(args).call("GET", "users", params={"pending": "true"} if args.pending else None)
    if args.json:
        _print(body)
        return exits.OK
    rows = [["USERNAME", "ACTIVE", "PENDING", "ADMIN", "POLICIES"]]
    for user in body["users"]:
        policies = user.get("policies") or []
        rows.append([user["username"], str(user.get("active", "-")), str(bool(user.get("pending"))),
                     str("IS_ADMIN" in policies), " ".join(p for p in policies if p != "IS_ADMIN")])
    print(commands.table(rows))
    print(f"registration: {body.get('registration')}", file=sys.stderr)
    return exits.OK


def show_user(args: argparse.Namespace) -> int:
    """`plynx users show NAME`: one account (others see its public fields only)."""
    _print(commands.client(args).call("GET", f"user/{args.username}")["user"])
    return exits.OK


def create_user(args: argparse.Namespace) -> int:
    """`plynx users create NAME`: the way in when registration is closed (POST /users, admins)."""
    api = commands.client(args)
    password = args.password if args.password is not None else getpass.getpass(f"Password for {args.username}: ")
    body: dict = {"username": args.username, "password": password}
    if args.email:
        body["email"] = args.email
    if args.display_name:
        body["display_name"] = args.display_name
    if args.admin:  # the stage's default policies, and IS_ADMIN (as `make users ARGS="create NAME --admin"`)
        defaults = api.call("GET", "users")["default_policies"]
        body["policies"] = sorted(set(defaults) | {"IS_ADMIN"})
    _print(api.call("POST", "users", json=body)["user"])
    return exits.OK


def approve_user(args: argparse.Namespace) -> int:
    """`plynx users approve NAME`: let an account that registered in `approval` mode sign in."""
    _print(commands.client(args).call("POST", f"users/{args.username}/approve", json={})["user"])
    return exits.OK


def _update(args: argparse.Namespace, fields: dict) -> int:
    """POST /user for another account: what admins change there (`active`, `policies`)."""
    _print(commands.client(args).call("POST", "user", json={"user": {"username": args.username, **fields}})["user"])
    return exits.OK


def set_active(args: argparse.Namespace) -> int:
    """`plynx users activate|deactivate NAME`: deactivating revokes the account's tokens, keeps its work."""
    return _update(args, {"active": args.users_command == "activate"})


def set_policies(args: argparse.Namespace) -> int:
    """`plynx users policies NAME P...`: what the account may do from its next request."""
    return _update(args, {"policies": args.policies})


def backfill_owners(args: argparse.Namespace) -> int:
    """`plynx users backfill-owners`: an upgrade step over the tables, so it names the operator's command."""
    print(OPERATOR_BACKFILL, file=sys.stderr, end="")
    return exits.USAGE


def cache(args: argparse.Namespace) -> int:
    """`plynx cache list|clean`: says where the operator's command runs (the API has no cache route)."""
    dates = "".join(f" --{flag} {value}" for flag, value in (("start-datetime", args.start_datetime),
                                                             ("end-datetime", args.end_datetime)) if value)
    print(OPERATOR_CACHE.format(mode=args.mode, dates=dates), file=sys.stderr, end="")
    return exits.USAGE
