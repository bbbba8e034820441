"""Users CLI: `python -m chalicelib.api.user_cli [--endpoint URL] create|list|approve|activate|deactivate|policies ...`.

Against the local stack: `make users ARGS="create alice --admin"`; `make users ARGS="list --pending"`
shows the accounts waiting for approval, `make users ARGS="approve alice"` lets one in.
`backfill-owners` records who holds what was stored before resource owners were recorded (an upgrade).
"""
from __future__ import annotations

import argparse
import getpass
import json
import os
import sys


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.api.user_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="AWS endpoint (the local stack's moto, e.g. http://127.0.0.1:5010)")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create a user")
    create.add_argument("username")
    create.add_argument("--password", help="asked for when not given (at least 8 characters)")
    create.add_argument("--email")
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="grant IS_ADMIN on top of the default policies")
    listing = commands.add_parser("list", help="list users")
    listing.add_argument("--pending", action="store_true", help="only the accounts waiting for approval")
    commands.add_parser("approve", help="let a pending account sign in").add_argument("username")
    for name in ("activate", "deactivate"):
        commands.add_parser(name, help=f"{name} a user (deactivating revokes their tokens)").add_argument("username")
    policies = commands.add_parser("policies", help="set a user's policies (IAMPolicies names)")
    policies.add_argument("username")
    policies.add_argument("policies", nargs="*")
    commands.add_parser("backfill-owners", help="record who holds what was stored before owner records existed")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.endpoint:
        os.environ["PLYNX_AWS_ENDPOINT"] = args.endpoint
    # Settings are read at import, so the endpoint is set first.
    from chalice import ChaliceViewError

    from chalicelib.domain.accounts import with_admin
    from chalicelib.store.settings import SETTINGS

    from . import accounts, resource_access

    try:
        if args.command == "create":
            password = args.password if args.password is not None else getpass.getpass("Password: ")
            policies = with_admin(SETTINGS.default_policies) if args.admin else None
            result: object = accounts.create_user(args.username, password, args.email, args.display_name, policies)
        elif args.command == "list":
            result = accounts.list_users(pending_only=args.pending)
        elif args.command == "approve":
            result = accounts.approve(args.username)
        elif args.command == "backfill-owners":
            result = {"owner_records": resource_access.backfill()}
        elif args.command in ("activate", "deactivate"):
            result = accounts.set_active(args.username, args.command == "activate")
        else:
            result = accounts.set_policies(args.username, args.policies)
    except ChaliceViewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
