"""The `plynx` command: run graphs and read their runs on a PLynx server, over its REST API only.

A client, like curl: it needs the API's URL and the user's credentials (`-u user:password` or a token),
never AWS credentials. Exit codes say how a run (or the request) ended, for scripts and CI.
"""
from __future__ import annotations

import sys

import requests

from plynx.api.client import PlynxError

from . import exits
from .parser import build_parser

__all__ = ["main"]


def main(argv: list[str] | None = None) -> int:
    """Parse the command line, run the command and return its exit code (`plynx --help` lists them)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args) or exits.OK)
    except PlynxError as exc:
        print(f"plynx: {exc}", file=sys.stderr)
        if exc.details:
            print(exits.describe_details(exc.details), file=sys.stderr)
        return exits.for_error(exc)
    except requests.ConnectionError as exc:
        print(f"plynx: cannot reach the PLynx API at {getattr(args, 'api_url', '?')}: {exc.__class__.__name__}"
              " (set --api or PLYNX_API)", file=sys.stderr)
        return exits.UNREACHABLE
    except requests.RequestException as exc:
        print(f"plynx: request failed: {exc}", file=sys.stderr)
        return exits.UNREACHABLE
    except exits.NotFound as exc:
        print(f"plynx: {exc}", file=sys.stderr)
        return exits.NOT_FOUND
    except exits.UsageError as exc:
        print(f"plynx: {exc}", file=sys.stderr)
        return exits.USAGE
    except TimeoutError as exc:
        print(f"plynx: {exc}", file=sys.stderr)
        return exits.TIMEOUT
    except KeyboardInterrupt:
        print("\nplynx: interrupted; a run started goes on (`plynx cancel RUN` stops it)", file=sys.stderr)
        return exits.INTERRUPTED


def entry_point() -> None:
    """The console script `plynx`."""
    sys.exit(main())
