"""Users CLI: `python -m chalicelib.api.user_cli [--endpoint URL] create|list|activate|deactivate|policies ...`.

Against the local stack: `make users ARGS="create alice --password secret --admin"`.
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
    create.add_argument("--password", help="asked for when not given")
    create.add_argument("--email")
    create.add_argument("--display-name")
    create.add_argument("--admin", action="store_true", help="grant IS_ADMIN on top of the default policies")
    commands.add_parser("list", help="list users")
    for name in ("activate", "deactivate"):
        commands.add_parser(name, help=f"{name} a user").add_argument("username")
    policies = commands.add_parser("policies", help="set a user's policies (IAMPolicies names)")
    policies.add_argument("username")
    policies.add_argument("policies", nargs="*")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.endpoint:
        os.environ["PLYNX_AWS_ENDPOINT"] = args.endpoint
    # Settings are read at import, so the endpoint is set first.
    from chalice import ChaliceViewError

    from chalicelib.domain.enums import IAMPolicies

    from . import users

    try:
        if args.command == "create":
            password = args.password if args.password is not None else getpass.getpass("Password: ")
            policies = [*IAMPolicies.DEFAULT, IAMPolicies.IS_ADMIN] if args.admin else None
            result: object = users.create_user(args.username, password, args.email, args.display_name, policies)
        elif args.command == "list":
            result = users.list_users()
        elif args.command in ("activate", "deactivate"):
            result = users.set_active(args.username, args.command == "activate")
        else:
            result = users.set_policies(args.username, args.policies)
    except ChaliceViewError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
