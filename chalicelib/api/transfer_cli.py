"""Export and import CLI: `python -m chalicelib.api.transfer_cli [--endpoint URL] export|import|check DIR`.

Runs with the control plane's credentials (the tables and the bucket), against the local stack
(`make export DIR=...`, `make import DIR=...`) or a deployed stage (PLYNX_TABLE_PREFIX, PLYNX_BUCKET).
The layout of DIR is chalicelib/api/transfer.py's.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m chalicelib.api.transfer_cli", description=__doc__.splitlines()[0])
    parser.add_argument("--endpoint", help="AWS endpoint (the local stack's moto, e.g. http://127.0.0.1:5010)")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("export", help="write graphs, operations, files, users, runs and contents to DIR").add_argument(
        "directory")
    commands.add_parser("import", help="check DIR whole, then write it (ids kept; twice changes nothing)").add_argument(
        "directory")
    commands.add_parser("check", help="check DIR as import would, writing nothing").add_argument("directory")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.endpoint:
        os.environ["PLYNX_AWS_ENDPOINT"] = args.endpoint
    # Settings are read at import, so the endpoint is set first.
    from . import transfer

    started = time.monotonic()
    try:
        if args.command == "export":
            result = transfer.export(args.directory)
        elif args.command == "import":
            result = transfer.import_(args.directory)
        else:
            result = transfer.check(args.directory)
    except transfer.TransferError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    result["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
