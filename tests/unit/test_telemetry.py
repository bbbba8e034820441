"""chalicelib/store/telemetry.py on its own: readable lines, EMF blobs, and the Tracer only where Lambda traces."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

from tests.conftest import REPO

# A runner invocation as Lambda runs it with active tracing: its trace header in _X_AMZN_TRACE_ID, the X-Ray
# daemon's address in AWS_XRAY_DAEMON_ADDRESS (here a UDP socket of the test, standing in for the daemon).
TRACED = """
from chalicelib.store import telemetry
log = telemetry.logger("plynx-runner")
with telemetry.invocation(log, "plynx-runner", "runner", graph_id="g-1", run_id="r-1", node_id="n-1"):
    pass
print(type(telemetry.tracer("plynx-runner")).__name__)
"""


def _run(script: str, **env: str) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_LAMBDA", "LAMBDA_", "_X_AMZN", "PLYNX_"))}
    return subprocess.run([sys.executable, "-c", script], cwd=REPO, env={**clean, **env}, capture_output=True,
                          text=True, timeout=60, check=False)


def test_on_lambda_the_tracer_annotates_the_invocation_with_its_ids() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as daemon:
        daemon.bind(("127.0.0.1", 0))
        daemon.settimeout(20)
        port = daemon.getsockname()[1]
        done = _run(TRACED, LAMBDA_TASK_ROOT=REPO, AWS_LAMBDA_FUNCTION_NAME="plynx-test-runner",
                    _X_AMZN_TRACE_ID="Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
                    AWS_XRAY_DAEMON_ADDRESS=f"127.0.0.1:{port}", POWERTOOLS_LOG_LEVEL="WARNING")
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == ["Tracer"]
        datagram = daemon.recv(65536).decode()
    header, _, body = datagram.partition("\n")
    assert json.loads(header) == {"format": "json", "version": 1}
    subsegment = json.loads(body)
    assert subsegment["name"] == "## runner"
    assert subsegment["annotations"] == {"graph_id": "g-1", "run_id": "r-1", "node_id": "n-1"}
    assert subsegment["trace_id"] == "1-5759e988-bd862e3fe1be46a994272793"


def test_elsewhere_no_tracer_is_made_and_nothing_is_said_about_it() -> None:
    done = _run(TRACED + "import sys; print('aws_xray_sdk' in sys.modules)\n", POWERTOOLS_LOG_LEVEL="DEBUG")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["NoneType", "False"]
    assert done.stderr == ""


def test_a_readable_line_has_time_level_service_ids_message_and_the_rest() -> None:
    from chalicelib.store import telemetry

    line = telemetry.render_text({"level": "INFO", "location": "run_node:12", "message": "Operation SUCCESS",
                                  "timestamp": "2026-12-01 01:14:13,925+0000", "service": "plynx-runner",
                                  "stage": "local", "graph_id": "g", "run_id": "r", "node_id": "n",
                                  "duration_ms": 4.5})
    assert line == ("2026-12-01 01:14:13,925+0000 INFO    plynx-runner graph=g run=r node=n Operation SUCCESS "
                    "duration_ms=4.5")
    failed = telemetry.render_text({"level": "ERROR", "message": "boom", "service": "plynx-api",
                                    "exception": "Traceback (most recent call last):\nValueError: x"})
    assert failed.splitlines() == ["ERROR   plynx-api boom", "  Traceback (most recent call last):",
                                   "  ValueError: x"]


def test_the_stage_comes_from_the_table_prefix(monkeypatch) -> None:
    from chalicelib.store import telemetry

    monkeypatch.delenv("PLYNX_STAGE", raising=False)
    monkeypatch.setenv("PLYNX_TABLE_PREFIX", "plynx-prod")
    assert telemetry.stage() == "prod"
    monkeypatch.setenv("PLYNX_TABLE_PREFIX", "plynx")
    assert telemetry.stage() == "local"


def test_an_api_request_logs_one_json_line_with_the_graph_id_of_its_path_and_nothing_of_its_body() -> None:
    import io
    import types

    from aws_lambda_powertools import Logger

    from chalicelib.api import observe
    from chalicelib.store import telemetry

    stream = io.StringIO()
    log = Logger(service="plynx-api-under-test", stream=stream, level="INFO")
    request = types.SimpleNamespace(method="POST", path="/plynx/api/v0/graphs/{graph_id}/approve",
                                    uri_params={"graph_id": "g-42"}, context={"requestId": "req-1"},
                                    raw_body=b'{"password": "hunter2"}')

    def respond(event: object) -> object:
        log.warning("inside the route")  # any line while the request runs carries its ids
        return types.SimpleNamespace(status_code=202)

    answer = telemetry.observe_request(log, observe.SERVICE, request.method, request.path, request.uri_params,
                                       request.context["requestId"], lambda: respond(request))
    assert answer.status_code == 202
    inside, line = [json.loads(text) for text in stream.getvalue().splitlines()]
    assert inside["graph_id"] == line["graph_id"] == "g-42" and inside["correlation_id"] == "req-1"
    assert line["message"] == "POST /plynx/api/v0/graphs/{graph_id}/approve"
    assert line["status"] == 202 and line["duration_ms"] >= 0 and "run_id" not in line
    assert "hunter2" not in stream.getvalue()
    # the next request of this thread starts without them
    telemetry.observe_request(log, observe.SERVICE, "GET", "/plynx/api/v0/health", None, None,
                              lambda: types.SimpleNamespace(status_code=200))
    assert "graph_id" not in json.loads(stream.getvalue().splitlines()[-1])
