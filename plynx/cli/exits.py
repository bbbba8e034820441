"""Exit codes of the `plynx` command: a script or CI job tells a failed run from a refused request."""
from __future__ import annotations

import json
from typing import Any

from plynx.api.client import PlynxError

OK = 0            # the command did what it was asked; a watched run ended SUCCESS
FAILED = 1        # a watched run ended FAILED
USAGE = 2         # wrong arguments (argparse's own code), or a command this client cannot do
CANCELED = 3      # a watched run ended CANCELED
REFUSED = 4       # the API refused the request: 4xx/5xx, or the graph did not pass validation
NOT_FOUND = 5     # no such graph, run or node (for this user)
UNREACHABLE = 6   # no answer from the API's URL
TIMEOUT = 7       # --timeout passed while watching; the run goes on
INTERRUPTED = 130  # Ctrl-C (the shell's 128 + SIGINT); the run goes on

BY_STATUS = {"SUCCESS": OK, "FAILED": FAILED, "CANCELED": CANCELED}

TABLE = "\n".join([
    "exit codes:",
    f"  {OK}  success (a watched run ended SUCCESS)",
    f"  {FAILED}  a watched run ended FAILED",
    f"  {USAGE}  usage error",
    f"  {CANCELED}  a watched run ended CANCELED",
    f"  {REFUSED}  the API refused the request (or the graph did not pass validation)",
    f"  {NOT_FOUND}  no such graph, run or node",
    f"  {UNREACHABLE}  the API did not answer",
    f"  {TIMEOUT}  --timeout passed while watching (the run goes on)",
    f"  {INTERRUPTED}  interrupted (the run goes on)",
])


class UsageError(Exception):
    """An argument the parser accepted but the command cannot use (a bad --param, a node not in the run)."""


class NotFound(Exception):
    """Something named on the command line is not there (a node of a run, an output of a node)."""


def for_status(status: str) -> int:
    """The exit code of a run that ended with this status."""
    return BY_STATUS.get(status, FAILED)


def for_error(exc: PlynxError) -> int:
    """The exit code of a refused request: not found (404) apart from every other refusal."""
    return NOT_FOUND if exc.status_code == 404 else REFUSED


def describe_details(details: Any) -> str:
    """What the server said was wrong (a validation_error tree), for a human."""
    if hasattr(details, "graph"):  # a Run: its failed nodes were already named
        return ""
    try:
        return json.dumps(details, indent=2)
    except (TypeError, ValueError):
        return str(details)
