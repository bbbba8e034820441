"""The command line of `plynx`: commands, their arguments, and the connection options every command takes."""
from __future__ import annotations

import argparse
import json
from typing import Any

import plynx

from . import admin, automation, commands, execute, exits, lifecycle, schedules, trial


def parse_assignment(text: str) -> tuple[str, Any]:
    """`name=value`: the value as JSON when it parses (4, 1.5, true, [1,2], "x"), else the text itself."""
    name, sep, raw = text.partition("=")
    if not sep or not name.strip():
        raise argparse.ArgumentTypeError(f"`{text}` is not NAME=VALUE")
    try:
        value = json.loads(raw)
    except ValueError:
        value = raw
    return name.strip(), value


def run_parameter(text: str) -> tuple[str, Any]:
    """A run parameter: `NODE_ID.NAME=VALUE` (the server's `{"parameters": {"<node_id>.<name>": value}}`)."""
    name, value = parse_assignment(text)
    node_id, dot, parameter = name.partition(".")
    if not dot or not node_id or not parameter:
        raise argparse.ArgumentTypeError(f"`{text}`: a run parameter is NODE_ID.NAME=VALUE")
    return name, value


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"`{text}` must be more than 0")
    return value


def _connection() -> argparse.ArgumentParser:
    """Options every command takes, before or after its name (SUPPRESS: a later default never hides them)."""
    common = argparse.ArgumentParser(add_help=False)
    group = common.add_argument_group("connection")
    group.add_argument("--api", dest="api", metavar="URL", default=argparse.SUPPRESS,
                       help="the API's base URL, e.g. https://<id>.execute-api.<region>.amazonaws.com/api/plynx/api/v0 "
                            "(default: $PLYNX_API, $PLYNX_API_URL, else http://localhost:5005/plynx/api/v0)")
    group.add_argument("-u", "--user", dest="user", metavar="USER[:PASSWORD]", default=argparse.SUPPRESS,
                       help="sign in as curl does; the password is asked for when left out "
                            "(default: $PLYNX_TOKEN as a Bearer token, else $PLYNX_REFRESH_TOKEN, renewing access "
                            "tokens from it, else $PLYNX_USER:$PLYNX_PASSWORD, else default:)")
    group.add_argument("--token", dest="token", metavar="TOKEN", default=argparse.SUPPRESS,
                       help="an access token (GET /token) instead of a password (default: $PLYNX_TOKEN)")
    return common


def _watching(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-w", "--watch", action="store_true",
                        help="wait for the run with a progress bar; the exit code is the run's status")
    parser.add_argument("--timeout", type=_positive, metavar="SECONDS", help="stop watching after this long")
    parser.add_argument("--poll", type=_positive, default=1.0, metavar="SECONDS", help="seconds between polls")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def build_parser() -> argparse.ArgumentParser:
    """The whole command line."""
    common = _connection()
    parser = argparse.ArgumentParser(
        prog="plynx", parents=[common], formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run PLynx graphs and read their runs through the REST API.", epilog=exits.TABLE)
    parser.add_argument("--version", action="version", version=f"plynx {plynx.__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, handler: Any) -> argparse.ArgumentParser:
        child = sub.add_parser(name, parents=[common], help=help_text, description=help_text,
                               formatter_class=argparse.RawDescriptionHelpFormatter, epilog=exits.TABLE)
        child.set_defaults(handler=handler)
        return child

    run = command("run", "run a saved graph (its id), or a graph JSON file (saved first)", commands.run)
    run.add_argument("graph", metavar="GRAPH", help="a graph id, or the path of a JSON file with a graph")
    run.add_argument("-p", "--param", dest="params", action="append", type=run_parameter, default=[],
                     metavar="NODE_ID.NAME=VALUE", help="a run parameter (repeatable); VALUE is JSON or text")
    _watching(run)

    runs = command("runs", "list a graph's runs, newest first", commands.runs)
    runs.add_argument("graph", metavar="GRAPH", help="the graph's id")
    runs.add_argument("-n", "--limit", type=int, default=20, help="how many (default 20)")
    runs.add_argument("--offset", type=int, default=0, help="skip this many of the newest")
    runs.add_argument("--json", action="store_true", help="the records as JSON")

    show = command("show", "a run's status and its operations", commands.show)
    show.add_argument("run", metavar="RUN", help="the run's id")
    show.add_argument("--json", action="store_true", help="GET /runs/{run_id} as JSON")

    logs = command("logs", "print the logs of a run's operations (or of one)", commands.logs)
    logs.add_argument("run", metavar="RUN", help="the run's id")
    logs.add_argument("node", metavar="NODE", nargs="?", help="a node's id or title (default: every operation)")
    logs.add_argument("--log", dest="log_names", action="append", metavar="NAME",
                      help="only this log: stdout, stderr or worker (repeatable)")

    outputs = command("outputs", "list (or download) what an operation of a run produced", commands.outputs)
    outputs.add_argument("run", metavar="RUN", help="the run's id")
    outputs.add_argument("node", metavar="NODE", help="a node's id or title")
    outputs.add_argument("--download", metavar="DIR", help="write each output to DIR/<output name>")
    outputs.add_argument("--name", dest="names", action="append", metavar="OUTPUT", help="only this output")

    retry = command("retry", "run a failed or canceled run again from its failure", commands.retry)
    retry.add_argument("run", metavar="RUN", help="the run's id")
    _watching(retry)

    cancel = command("cancel", "stop a run (or a graph's current run with --graph)", commands.cancel)
    target = cancel.add_mutually_exclusive_group(required=True)
    target.add_argument("run", metavar="RUN", nargs="?", help="the run's id")
    target.add_argument("--graph", metavar="GRAPH", help="cancel this graph's current run instead")

    schedule = command("schedule", "a graph's schedules: list, add, pause, resume, delete", None)
    schedules.add_schedule_commands(schedule, common, run_parameter)

    users = command("users", "accounts (admins): list, create, approve, activate, deactivate, policies", None)
    admin.add_users_commands(users, common)

    trigger = command("trigger", "a graph's webhook trigger (create, rotate, revoke, fire) and file triggers", None)
    automation.add_trigger_commands(trigger, common, run_parameter)
    notify = command("notify", "your notifications of a graph's runs' ends (show, set, off)", None)
    automation.add_notify_commands(notify, common)

    cache = command("cache", "the operation cache: an operator command (see --help)", admin.cache)
    cache.add_argument("mode", choices=["list", "clean"], help="list or clean cache entries")
    cache.add_argument("--start-datetime", "-s")
    cache.add_argument("--end-datetime", "-e")

    run_one = command("execute", "run one operation from a JSON file with local inputs", execute.execute)
    run_one.add_argument("file", metavar="FILE", help="the operation (a node as POST /nodes takes it, or "
                                                      '{"node": ..., "inputs": {...}, "parameters": {...}})')
    run_one.add_argument("-i", "--input", dest="inputs", action="append", type=parse_assignment, default=[],
                         metavar="NAME=PATH", help="a local file for an input (repeatable; several for an array)")
    run_one.add_argument("-p", "--param", dest="params", action="append", type=parse_assignment, default=[],
                         metavar="NAME=VALUE", help="set a parameter of the operation (repeatable)")
    run_one.add_argument("--download", metavar="DIR", default=".",
                         help="where its outputs are written (default: the current directory)")
    run_one.add_argument("--timeout", type=_positive, metavar="SECONDS", help="stop watching after this long")
    run_one.add_argument("--poll", type=_positive, default=1.0, metavar="SECONDS", help="seconds between polls")
    run_one.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    tried = command("try", "try an operation's draft once before approving it (a trial: not cached, not in the "
                           "library)", trial.try_operation)
    tried.add_argument("file", metavar="FILE", help="the operation, as for `plynx execute`")
    tried.add_argument("-i", "--input", dest="inputs", action="append", type=parse_assignment, default=[],
                       metavar="NAME=PATH|RESOURCE_ID", help="a local file (uploaded) or a resource id you may read, "
                                                            "for an input (repeatable; several for an array)")
    tried.add_argument("-p", "--param", dest="params", action="append", type=parse_assignment, default=[],
                       metavar="NAME=VALUE", help="set a parameter of the operation (repeatable)")
    tried.add_argument("--download", metavar="DIR", default=".",
                       help="where its outputs are written (default: the current directory)")
    tried.add_argument("--no-wait", action="store_true", help="print the trial id and exit; read it with `plynx "
                                                               "show`, `plynx logs`, `plynx outputs`")
    tried.add_argument("--timeout", type=_positive, metavar="SECONDS", help="stop watching after this long")
    tried.add_argument("--poll", type=_positive, default=1.0, metavar="SECONDS", help="seconds between polls")
    tried.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    command("whoami", "the signed-in user (GET /user)", admin.whoami)
    lifecycle.add_commands(command)
    return parser
