"""Warm runner processes, as Lambda keeps warm containers: the runner imported once, each worker reused.

The local stack's main process serves moto, the API and the UI on one interpreter lock; running the runner
there too (its SDK calls, its operations) made every operation wait for that lock. Here the runner lives in
processes of its own. A template process imports the runner and builds its SDK clients (sending nothing,
so no connection is shared across forks); each worker is a fork of it, as a new Lambda container starts
from the function's image. Like a warm container, a worker serves one invocation at a time and keeps its
connections and caches for the next; more workers start when all are busy, up to the concurrency limit.
Operations are never forks of a worker (it holds the role's keys and SDK clients): the template starts the
runner's clean zygote (runners/zygote.py) before it forks any worker, and every worker sends its operations
there (as root; otherwise each worker starts its own).

Protocol: one Unix-socket connection per worker (the template forks a worker for each connection it
accepts), multiprocessing.connection framing; the front sends ``{"event", "function_name",
"function_arn", "timeout"}`` and reads back ``{"ok", "payload"}``.
"""
from __future__ import annotations

import gc
import importlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

from . import breakdown, direct, scratch

RUNNER_MODULE = "runners.handler"
RUNNER_PACKAGES = ("runners", "chalicelib", "stepfunctions")  # what the runner imports from the project
_REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class WarmRunner:
    """The front's side: starts the template process and hands invocations to idle workers (thread-safe).

    The runner's code may change while the stack runs (a developer's edit): when a source file of the
    project's runner is newer than the template, a new template is started and workers of the old one
    are retired as they become idle, as Lambda does after an update of the function.
    """

    def __init__(self, concurrency: int, module: str = RUNNER_MODULE,
                 packages: tuple[str, ...] = RUNNER_PACKAGES, direct: bool = False) -> None:
        self._module, self._packages = module, packages
        self._dir = tempfile.mkdtemp(prefix="plynx-runner-")  # 0700: the stack's user's alone
        # `direct`: the workers send their SDK requests to moto over this socket, served by the stack's
        # direct.Channel (infra/local/direct.py), not HTTP; the stack opens it before the first invocation
        self.direct_address = os.path.join(self._dir, "direct.sock") if direct else None
        # the workers' /tmp, as big as the cloud runner's
        self._storage_mb = scratch.storage_mb()
        self.scratch = scratch.make(self._storage_mb)
        self._scratch_environment = scratch.environment(self.scratch, self._storage_mb)
        self._slots = threading.BoundedSemaphore(max(1, concurrency))
        self._lock = threading.Lock()
        self._idle: list[tuple[int, Connection]] = []  # (generation, worker); last in, first out: the warmest
        self._generation = 0
        self._templates: list[subprocess.Popen] = []
        self._checked = 0.0
        self._stamp = _code_stamp(packages)
        self.tally: breakdown.Tally | None = None  # what invocations spent, when asked for (breakdown.py)
        self._start_template()

    def _start_template(self) -> None:
        self._generation += 1
        self.address = os.path.join(self._dir, f"runner-{self._generation}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.address)
        listener.listen(512)
        environment = dict(os.environ)
        if self.direct_address:
            environment[direct.ADDRESS_VARIABLE] = self.direct_address
        environment.update(self._scratch_environment)
        self._templates.append(subprocess.Popen(
            [sys.executable, "-m", "infra.local.warm_runner", str(listener.fileno()), self._module],
            cwd=_REPO, pass_fds=[listener.fileno()], start_new_session=True, env=environment,
        ))
        listener.close()  # the template accepts; we connect by address

    def _refresh(self) -> None:
        """A new template when the runner's code changed (checked at most once a second)."""
        now = time.monotonic()
        if now - self._checked < 1.0:
            return
        self._checked = now
        stamp = _code_stamp(self._packages)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        try:
            os.kill(self._templates[-1].pid, signal.SIGKILL)  # its busy workers finish their invocation
        except ProcessLookupError:
            pass
        self._start_template()
        stale, self._idle = self._idle, []
        for _, worker in stale:
            worker.close()

    def _worker(self) -> tuple[int, Connection]:
        with self._lock:
            self._refresh()
            if self._idle:
                return self._idle.pop()
            generation, address = self._generation, self.address
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(address)
        except OSError:
            sock.close()
            raise
        return generation, Connection(sock.detach())

    def invoke(self, event: Any, function_name: str, function_arn: str, timeout: int) -> tuple[bool, Any]:
        """Run one invocation on an idle (or new) worker: (handled, result or Lambda's error payload)."""
        request = json.dumps({"event": event, "function_name": function_name, "function_arn": function_arn,
                              "timeout": timeout}).encode()
        with self._slots:
            generation, worker = self._worker()
            try:
                worker.send_bytes(request)
                reply = json.loads(worker.recv_bytes())
            except (EOFError, OSError) as exc:
                worker.close()
                return False, {"errorMessage": f"The runner process exited without a reply ({exc!r})",
                               "errorType": "Runtime.ExitError", "stackTrace": []}
            spent = reply.get("breakdown")
            if spent and self.tally is not None:
                self.tally.merge(spent, prefix="runner ")
            with self._lock:
                if generation == self._generation:
                    self._idle.append((generation, worker))
                else:
                    worker.close()
        return bool(reply["ok"]), reply["payload"]

    def stop(self) -> None:
        """Stop the templates and every worker (an invocation still running ends without a reply)."""
        for template in self._templates:
            try:
                os.killpg(template.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            template.wait()
        with self._lock:
            for _, worker in self._idle:
                worker.close()
            self._idle.clear()
        shutil.rmtree(self._dir, ignore_errors=True)
        shutil.rmtree(self.scratch, ignore_errors=True)


def _code_stamp(packages: tuple[str, ...]) -> float:
    """The newest modification time of the runner's python sources."""
    newest = 0.0
    for package in packages:
        for folder, _, files in os.walk(os.path.join(_REPO, package)):
            for name in files:
                if name.endswith(".py"):
                    try:
                        newest = max(newest, os.stat(os.path.join(folder, name)).st_mtime)
                    except OSError:
                        pass
    return newest


# -- the warm process ---------------------------------------------------------------------------


def _warm_up() -> None:
    """Build what every invocation needs (SDK clients, config) once, before any fork; no request is sent.

    pynamodb gives each model's connection a botocore session of its own, each loading DynamoDB's
    models again: one shared session makes this process (which every fork copies) 40% smaller."""
    import botocore.session
    from pynamodb.models import Model

    from chalicelib.domain import config
    from chalicelib.store import aws, models, together

    for service in ("s3", "stepfunctions"):
        aws.client(service)
    session = botocore.session.get_session()
    for value in vars(models).values():
        if isinstance(value, type) and issubclass(value, Model) and getattr(getattr(value, "Meta", None),
                                                                              "table_name", None):
            connection = value._get_connection().connection
            connection._local.session = session  # noqa: SLF001 - the session its client is built from
            connection.client  # noqa: B018 - built on first access
    connection = together.connection()  # an operation's end: one transaction (chalicelib/store/together.py)
    connection._local.session = session  # noqa: SLF001
    connection.client  # noqa: B018
    config.setting("runner", "log_upload_seconds", 2)


def _answer(request: dict, handler: Any) -> bytes:
    """Run the handler on one request; the reply, with the error as Lambda reports it (and, when asked for,
    what the invocation spent: infra/local/breakdown.py)."""
    if not breakdown.enabled():
        return _reply(request, handler)
    event = request["event"]
    action = str(event.get("action")) if isinstance(event, dict) else "?"
    reply, spent = breakdown.timed_invocation(action, lambda: _reply(request, handler))
    return reply[:-1] + b', "breakdown": ' + json.dumps(spent).encode() + b"}"


def _reply(request: dict, handler: Any) -> bytes:
    from .lambda_front import LambdaContext, error_payload

    context = LambdaContext(request["function_name"], request["function_arn"], int(request["timeout"]))
    try:
        result = handler.lambda_handler(request["event"], context)
    except BaseException as exc:  # noqa: BLE001 - every runner error becomes a Lambda function error
        return json.dumps({"ok": False, "payload": error_payload(exc, skip=__file__)}).encode()
    try:
        return json.dumps({"ok": True, "payload": result}).encode()
    except (TypeError, ValueError) as exc:
        return json.dumps({"ok": False, "payload": {"errorMessage": f"Unable to marshal response: {exc}",
                                                    "errorType": "Runtime.MarshalError", "stackTrace": []}}).encode()


def _work(connection: Connection, handler: Any) -> None:
    """A worker: one invocation at a time until the front closes the connection."""
    start = getattr(handler, "warm_start", None)
    if start is not None:
        start()  # sealed, and its operations' zygote starting before the first invocation comes
    while True:
        try:
            request = json.loads(connection.recv_bytes())
        except EOFError:
            return
        connection.send_bytes(_answer(request, handler))


def serve(listener: socket.socket, module: str) -> None:
    """Fork a worker per accepted connection, until the stack's process is gone."""
    gc.disable()  # what it imports lives as long as it does: one collection at the end, not one per 700 objects
    address, endpoint = os.environ.get(direct.ADDRESS_VARIABLE), os.environ.get("PLYNX_AWS_ENDPOINT")
    if address and endpoint:  # before any SDK client is built
        direct.install_client(address, endpoint)
    handler = importlib.import_module(module)
    from . import lambda_front  # noqa: F401 - what _reply uses: imported once here, not by each new worker (55 ms)

    if module == RUNNER_MODULE:
        from runners import executors

        # one zygote for every worker, ready before the first operation; it tells the operations' leftovers
        # apart by their uids, which only a root runner gives them: otherwise each worker has its own
        executors.prestart(shared=os.geteuid() == 0)
        _warm_up()
        if breakdown.enabled():
            breakdown.instrument_runner()
    gc.collect()
    gc.freeze()  # what the workers share stays shared: no collection touches (and so copies) its pages
    gc.enable()
    parent = os.getppid()
    while True:
        if select.select([listener], [], [], 1.0)[0]:
            sock, _ = listener.accept()
            sys.stdout.flush()
            sys.stderr.flush()
            if os.fork() == 0:
                code = 0
                try:
                    listener.close()
                    _work(Connection(sock.detach()), handler)
                except BaseException:  # noqa: BLE001 - a worker never returns into the accept loop
                    code = 1
                finally:
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
            sock.close()
        _reap()
        if os.getppid() != parent:
            return  # the stack's process died without stopping us


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(argv: list[str]) -> int:
    """`python -m infra.local.warm_runner LISTENER_FD [MODULE]`: the template process."""
    from runners import zygote

    zygote.make_undumpable()  # first: its environment holds the role's keys, which every worker inherits
    try:
        serve(socket.socket(fileno=int(argv[0])), argv[1] if len(argv) > 1 else RUNNER_MODULE)
    except KeyboardInterrupt:  # Ctrl-C in `make up` reaches the whole process group; the stack stops us anyway
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
