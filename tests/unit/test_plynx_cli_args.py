"""The `plynx` command's arguments and exit codes, without a server: the client's calls are recorded here.

tests/functional/test_plynx_cli.py runs the installed command against the real stack.
"""
from __future__ import annotations

import argparse
import io
import json
from typing import Any

import pytest
import requests

from plynx.api import client as client_module
from plynx.api.client import Client, PlynxError, Run
from plynx.cli import exits, main
from plynx.cli.parser import build_parser, parse_assignment, run_parameter


def test_assignments_take_json_values_else_text() -> None:
    assert parse_assignment("n=4") == ("n", 4)
    assert parse_assignment("coef=1.5") == ("coef", 1.5)
    assert parse_assignment("flag=true") == ("flag", True)
    assert parse_assignment("xs=[1, 2]") == ("xs", [1, 2])
    assert parse_assignment("word=hello world") == ("word", "hello world")
    assert parse_assignment('quoted="4"') == ("quoted", "4")
    assert parse_assignment("empty=") == ("empty", "")
    assert parse_assignment("expr=a=b") == ("expr", "a=b")  # the first `=` splits
    for bad in ("novalue", "=5", " =5"):
        with pytest.raises(argparse.ArgumentTypeError):
            parse_assignment(bad)


def test_run_parameters_name_a_node_and_a_parameter() -> None:
    assert run_parameter("abc123.word=hi") == ("abc123.word", "hi")
    assert run_parameter("abc.rate=0.5") == ("abc.rate", 0.5)
    for bad in ("word=hi", ".word=hi", "abc.=hi"):
        with pytest.raises(argparse.ArgumentTypeError, match="NODE_ID.NAME=VALUE"):
            run_parameter(bad)


def test_a_bad_run_parameter_is_a_usage_error(capsys) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["run", "g1", "--param", "word=hi"])
    assert stopped.value.code == exits.USAGE
    assert "NODE_ID.NAME=VALUE" in capsys.readouterr().err


def test_connection_options_go_before_or_after_the_command() -> None:
    before = build_parser().parse_args(["--api", "http://a/v0", "-u", "ann:pw", "runs", "g1"])
    after = build_parser().parse_args(["runs", "g1", "--api", "http://b/v0", "--token", "t"])
    neither = build_parser().parse_args(["runs", "g1"])
    assert (before.api, before.user, before.graph) == ("http://a/v0", "ann:pw", "g1")
    assert (after.api, after.token) == ("http://b/v0", "t")
    assert not hasattr(neither, "api") and not hasattr(neither, "user")
    nested = build_parser().parse_args(["users", "create", "bob", "--admin", "--api", "http://c/v0"])
    assert (nested.username, nested.admin, nested.api) == ("bob", True, "http://c/v0")
    assert nested.handler.__name__ == "create_user"


def test_credentials_come_from_options_then_the_environment(monkeypatch) -> None:
    from plynx.cli.commands import client

    monkeypatch.setenv("PLYNX_API", "http://env/v0/")
    monkeypatch.setenv("PLYNX_TOKEN", "env-token")
    made = client(build_parser().parse_args(["runs", "g"]))
    assert made.url == "http://env/v0" and made.session.headers["Authorization"] == "Bearer env-token"
    made = client(build_parser().parse_args(["runs", "g", "-u", "ann:secret", "--api", "http://opt/v0"]))
    assert made.url == "http://opt/v0" and made.session.auth == ("ann", "secret")
    assert "Authorization" not in made.session.headers  # a user given on the command line wins over the token
    monkeypatch.setattr("plynx.cli.commands.getpass.getpass", lambda prompt: "typed")
    made = client(build_parser().parse_args(["runs", "g", "-u", "ann"]))  # curl's way: the password is asked for
    assert made.session.auth == ("ann", "typed")
    monkeypatch.delenv("PLYNX_TOKEN")
    monkeypatch.delenv("PLYNX_API")
    monkeypatch.setenv("PLYNX_API_URL", "http://old/v0")
    made = client(build_parser().parse_args(["runs", "g"]))
    assert made.url == "http://old/v0" and made.session.auth == ("default", "")


class Recorder:
    """What the command asked the API for, and what it answers (a run ending with `status`)."""

    def __init__(self, status: str = "SUCCESS", parameters: dict | None = None) -> None:
        self.status = status
        self.parameters = parameters or {}
        self.calls: list[tuple[str, str, Any]] = []

    def call(self, method: str, path: str, **kwargs: Any) -> dict:
        self.calls.append((method, path, kwargs.get("json")))
        if path.endswith("/approve"):
            return {"status": "SUCCESS", "run_id": "run-1"}
        if path.startswith("runs/"):
            graph = {"graph_running_status": self.status, "nodes": [
                {"_id": "n1", "title": "Op", "base_node_name": "python", "node_running_status": self.status,
                 "logs": [], "outputs": []}]}
            return {"data": {"_id": "run-1", "graph": graph, "error": None, "parameters": self.parameters}}
        raise AssertionError(f"unexpected call {method} {path}")


@pytest.mark.parametrize(("status", "code"), [("SUCCESS", 0), ("FAILED", 1), ("CANCELED", 3)])
def test_a_watched_run_exits_with_its_status(monkeypatch, capsys, status, code) -> None:
    recorder = Recorder(status)
    monkeypatch.setattr(Client, "call", recorder.call)
    assert main(["run", "g1", "--watch", "--poll", "0.01", "--api", "http://x/v0"]) == code
    out = capsys.readouterr()
    assert out.out.strip() == "run-1" and f"run run-1 ended {status}" in out.err
    assert recorder.calls[0] == ("POST", "graphs/g1/approve", {})


def test_parameters_are_sent_with_the_approve(monkeypatch, capsys) -> None:
    recorder = Recorder(parameters={"n1.word": "hi", "n1.times": 3})
    monkeypatch.setattr(Client, "call", recorder.call)
    assert main(["run", "g1", "-p", "n1.word=hi", "-p", "n1.times=3"]) == 0
    assert recorder.calls == [("POST", "graphs/g1/approve", {"parameters": {"n1.word": "hi", "n1.times": 3}})]
    out = capsys.readouterr()
    assert out.out.strip() == "run-1"  # not watched: started, exit 0
    assert 'with {"n1.word": "hi", "n1.times": 3}' in out.err


def test_refused_parameters_are_the_apis_refusal(monkeypatch, capsys) -> None:
    def refuse(api: Client, method: str, path: str, **kwargs: Any) -> dict:
        raise PlynxError(f"{method} {path}: 400 Run parameters refused: `n1.times` (int): `x` is not an int",
                         status_code=400)

    monkeypatch.setattr(Client, "call", refuse)
    assert main(["run", "g1", "-p", "n1.times=x"]) == 4
    assert "`n1.times` (int): `x` is not an int" in capsys.readouterr().err


def test_refusals_and_failures_have_their_own_exit_codes(monkeypatch, capsys) -> None:
    def refuse(status: int) -> Any:
        def call(api: Client, method: str, path: str, **kwargs: Any) -> dict:
            raise PlynxError(f"{method} {path}: {status} nope", status_code=status)
        return call

    monkeypatch.setattr(Client, "call", refuse(404))
    assert main(["runs", "g1"]) == exits.NOT_FOUND
    monkeypatch.setattr(Client, "call", refuse(409))
    assert main(["cancel", "r1"]) == exits.REFUSED
    monkeypatch.setattr(Client, "call", refuse(403))
    assert main(["users", "list"]) == exits.REFUSED

    def unreachable(api: Client, method: str, path: str, **kwargs: Any) -> dict:
        raise requests.ConnectionError("refused")

    monkeypatch.setattr(Client, "call", unreachable)
    assert main(["runs", "g1", "--api", "http://127.0.0.1:9/v0"]) == exits.UNREACHABLE
    assert "cannot reach the PLynx API at http://127.0.0.1:9/v0" in capsys.readouterr().err


def test_watching_past_the_timeout_exits_7(monkeypatch, capsys) -> None:
    monkeypatch.setattr(Client, "call", Recorder("RUNNING").call)
    assert main(["run", "g1", "--watch", "--poll", "0.01", "--timeout", "0.05"]) == exits.TIMEOUT
    assert "still RUNNING" in capsys.readouterr().err


def test_a_validation_failure_is_refused(monkeypatch, capsys) -> None:
    def invalid(api: Client, method: str, path: str, **kwargs: Any) -> dict:
        return {"status": "VALIDATION_FAILED", "message": "Graph did not pass validation",
                "validation_error": {"validation_code": "IN_DEPENDENTS"}}

    monkeypatch.setattr(Client, "call", invalid)
    assert main(["run", "g1", "--watch"]) == exits.REFUSED
    assert "IN_DEPENDENTS" in capsys.readouterr().err


def test_operator_commands_say_where_they_run(capsys) -> None:
    assert main(["cache", "clean", "-s", "2026-01-01", "-e", "2026-06-30"]) == exits.USAGE
    err = capsys.readouterr().err
    assert "operator command" in err
    assert "python -m chalicelib.engine.cache clean --start-datetime 2026-01-01 --end-datetime 2026-06-30" in err
    assert main(["users", "backfill-owners"]) == exits.USAGE
    assert "make users ARGS=backfill-owners" in capsys.readouterr().err


def test_progress_line_of_a_run() -> None:
    graph = {"graph_running_status": "RUNNING", "nodes": [
        {"base_node_name": "file", "node_running_status": "READY"},
        {"base_node_name": "python", "node_running_status": "SUCCESS"},
        {"base_node_name": "python", "node_running_status": "RUNNING"}]}
    assert client_module.progress_line(graph, width=10) == "RUNNING  [#####.....] 1/2  RUNNING: 1  SUCCESS: 1"
    # APPROVE answered, the server still prepares the run: shown so, and not finished (wait polls on)
    queued = {"graph_running_status": "READY", "preparing": True, "nodes": [
        {"base_node_name": "python", "node_running_status": "IN_QUEUE"}]}
    assert client_module.progress_line(queued, width=4) == "preparing [....] 0/1  IN_QUEUE: 1"
    assert "READY" not in client_module._DONE
    run = Run(Client("http://x/v0"), graph, {"_id": "r"})
    assert (run.run_id, run.status) == ("r", "RUNNING")
    assert Run(Client("http://x/v0"), dict(graph, run_id="g-run")).run_id == "g-run"  # a graph's current run


def test_a_server_without_run_routes_is_named_as_such(monkeypatch, capsys) -> None:
    def old_server(api: Client, method: str, path: str, **kwargs: Any) -> dict:
        raise PlynxError(f"{method} {path}: 403 Missing Authentication Token", status_code=403)

    monkeypatch.setattr(Client, "call", old_server)
    assert main(["logs", "r1"]) == exits.NOT_FOUND
    assert "This server has no run records (GET /runs/{run_id})" in capsys.readouterr().err

    def no_such_run(api: Client, method: str, path: str, **kwargs: Any) -> dict:
        raise PlynxError(f"{method} {path}: 404 Run `r1` not found", status_code=404)

    monkeypatch.setattr(Client, "call", no_such_run)
    assert main(["outputs", "r1", "n1"]) == exits.NOT_FOUND
    err = capsys.readouterr().err
    assert "Run `r1` not found" in err and "no run records" not in err


def test_a_watch_in_a_log_writes_a_line_per_change(monkeypatch) -> None:
    statuses = iter(["RUNNING", "RUNNING", "RUNNING", "SUCCESS"])
    recorder = Recorder()

    def call(method: str, path: str, **kwargs: Any) -> dict:
        recorder.status = next(statuses)
        return recorder.call(method, path, **kwargs)

    monkeypatch.setattr(Client, "call", staticmethod(call))
    log = io.StringIO()  # not a terminal: no carriage returns, no repeated lines
    run = Client("http://x/v0").wait_run("run-1", poll=0.01, stream=log)
    assert run.status == "SUCCESS"
    assert log.getvalue() == ("RUNNING  [....................] 0/1  RUNNING: 1\n"
                              "SUCCESS  [####################] 1/1  SUCCESS: 1\n")


class Answer:
    """A response as the client reads it."""

    def __init__(self, status_code: int, body: dict) -> None:
        self.status_code = status_code
        self.body = body
        self.text = json.dumps(body)

    def json(self) -> dict:
        return self.body


def test_a_refresh_token_gets_and_renews_access_tokens(monkeypatch) -> None:
    issued: list[str] = []
    seen: list[str | None] = []

    def token(url: str, headers: dict, timeout: float) -> Answer:
        assert url == "http://x/v0/token"
        issued.append(headers["Authorization"])
        return Answer(200, {"access_token": f"access-{len(issued)}", "refresh_token": f"refresh-{len(issued)}"})

    def request(session: requests.Session, method: str, url: str, **kwargs: Any) -> Answer:
        seen.append(session.headers.get("Authorization"))
        if session.headers.get("Authorization") == "Bearer access-1" and len(seen) > 1:
            return Answer(401, {"Message": "Token expired"})
        return Answer(200, {"user": {"username": "ann"}})

    monkeypatch.setattr(client_module.requests, "get", token)
    monkeypatch.setattr(requests.Session, "request", request)
    monkeypatch.delenv("PLYNX_TOKEN", raising=False)
    monkeypatch.setenv("PLYNX_REFRESH_TOKEN", "refresh-0")
    api = Client("http://x/v0")
    assert api.session.auth is None  # no Basic `default:` beside the token
    assert api.call("GET", "user")["user"]["username"] == "ann"
    assert api.call("GET", "user")["user"]["username"] == "ann"  # expired on the way: renewed, asked again
    assert issued == ["Bearer refresh-0", "Bearer refresh-1"]
    assert seen == ["Bearer access-1", "Bearer access-1", "Bearer access-2"]
    assert Client("http://x/v0", user="bob", password="pw").refresh_token is None  # a user wins
