"""The local stack in one process: embedded moto, the Chalice API, the static UI, and persistence.

    moto_port  werkzeug (threaded) ── LambdaFront ─┬─ POST /2015-03-31/functions/<fn>/invocations
                                                    │     → warm runner process: fork → runners.handler.lambda_handler
                                                    └─ everything else → moto DomainDispatcherApplication
    api_port   chalice.local server ── the Chalice app (routes under /plynx/api/v0)
    ui_port    http.server ── ui/dist or ui/, SPA fallback, generated /config.json

The project's modules read their endpoints from the environment at import time
(chalicelib/store/settings.py), so :func:`start_stack` sets the environment first and imports them lazily.
"""
from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import shutil
import socket
import sys
import tempfile
import threading
import time
from typing import Any, Callable

from . import collector, patches  # import neither moto nor the project's modules

LOG = logging.getLogger(__name__)

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
API_PREFIX = "/plynx/api/v0"
# moto's backends, its config and the interpreter patches are process-wide: one stack at a time.
_RUNNING_LOCK = threading.Lock()
_RUNNING: "LocalStack | None" = None
BODY_DIR = "s3-bodies"  # in the data dir: one file per S3 object version and upload part
METRICS_FILE = "metrics.jsonl"  # in the data dir: the EMF blobs the API and runner write (README)


def free_port() -> int:
    """A port nothing listens on now, for a stack (or a test's second stack) on spare ports."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def running_stack() -> "LocalStack | None":
    """The stack running in this process, if any."""
    return _RUNNING


class _ServerThread:
    """A socketserver-style server (serve_forever/shutdown/server_close) running in a daemon thread."""

    def __init__(self, name: str, server: Any) -> None:
        self.name = name
        self.server = server
        self.thread = threading.Thread(target=server.serve_forever, name=f"local-{name}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
            self.thread.join(timeout)
        self.server.server_close()


GC_INTERVAL_SECONDS = 86400.0  # the cloud's rate(1 day)
FULL_COLLECTION_SECONDS = 30.0  # the interpreter's full garbage collections, at most this often (collector.py)


class LocalStack:
    """A running local stack. ``stop()`` (or leaving the ``with`` block) shuts it down and saves."""

    def __init__(
        self,
        *,
        host: str,
        api_port: int,
        ui_port: int,
        moto_port: int,
        data_dir: str | None,
        ui_dir: str,
    ) -> None:
        public_host = _public_host(host)
        self.host = host
        self.api_port = api_port
        self.ui_port = ui_port
        self.moto_port = moto_port
        self.api_url = f"http://{public_host}:{api_port}{API_PREFIX}"
        self.ui_url = f"http://{public_host}:{ui_port}"
        self.moto_url = f"http://{public_host}:{moto_port}"
        self.data_dir = data_dir
        self.ui_dir = ui_dir
        self.snapshot_path: str | None = None
        self.credentials: tuple[str, str] = ("", "")  # the control plane's IAM key in moto (id, secret)
        self.credentials_path: str | None = None  # ... as a shared credentials file, in data_dir
        self.restored = False
        self.journal: Any = None  # infra/local/journal.py, when data_dir is set
        self.restore_seconds = 0.0  # loading the snapshot and replaying the journal
        self.replayed = 0  # journal records replayed at start
        self.startup_seconds = 0.0
        self.lambda_front: Any = None
        self.scheduler: Any = None  # infra/local/scheduler.py: fires the schedules EventBridge would
        self._servers: list[_ServerThread] = []
        self._snapshotter: Any = None
        self._undo: list[Callable[[], None]] = []
        self._stopped = False
        self._stop_lock = threading.Lock()

    def __enter__(self) -> "LocalStack":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop serving (API and UI first, then moto), save the snapshot, join threads, undo patches."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        errors: list[BaseException] = []
        if self.scheduler is not None:
            self.scheduler.stop()  # before moto and the API it calls go
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                errors.append(exc)
        if self._snapshotter is not None:
            try:
                self._snapshotter.stop()
            except Exception as exc:  # noqa: BLE001
                LOG.exception("final snapshot failed")
                errors.append(exc)
        while self._undo:
            try:
                self._undo.pop()()
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)
        _release(self)
        gc.unfreeze()  # what start() froze may be garbage now (a test process starts many stacks)
        if errors:
            raise errors[0]

    @property
    def snapshot_saves(self) -> int:
        return self._snapshotter.saves if self._snapshotter is not None else 0


def start_stack(
    api_port: int,
    ui_port: int,
    moto_port: int,
    data_dir: str | None,
    host: str = "127.0.0.1",
    *,
    app: Any = None,
    lambda_handler: Callable[[Any, Any], Any] | None = None,
    bootstrap: bool = True,
    snapshot_interval: float = 30.0,
    quiet: bool = True,
) -> LocalStack:
    """Start moto, the API and the UI on the given ports (threads of this process) and return the stack.

    app:            the Chalice app; default ``app.app`` from the repository root, imported after the env is set.
    lambda_handler: serves Lambda Invoke in this process; default ``runners.handler.lambda_handler`` in a
                    warm runner process, forked per invocation (infra/local/warm_runner.py).
    bootstrap:      create the tables, the bucket, the state machine role and the default user
                    (with chalicelib); tests that bring their own app may turn it off.
    data_dir:       where moto's state persists (snapshot, journal, S3 bodies); None = nothing persists.
    snapshot_interval: seconds between folds of the journal into a new snapshot (when something changed).
    quiet:          no per-request access logs from moto and the UI (the API keeps chalice's).
    """
    global _RUNNING
    started = time.monotonic()
    stack = LocalStack(
        host=host, api_port=api_port, ui_port=ui_port, moto_port=moto_port, data_dir=data_dir, ui_dir=""
    )
    with _RUNNING_LOCK:
        if _RUNNING is not None:
            raise RuntimeError(
                f"a local stack is already running in this process (moto on {_RUNNING.moto_url}); "
                "moto's state is process-wide, so stop it first"
            )
        _RUNNING = stack
    # Start-up builds about a million objects (moto, botocore's models, the app) that live as long as the
    # stack: the collector's passes over them while they were built took 1.3 of start-up's 3 s, and found
    # next to nothing. One full collection at the end instead, then they are frozen (below).
    collecting = gc.isenabled()
    gc.disable()
    try:
        _start(stack, app, lambda_handler, bootstrap, snapshot_interval, quiet)
    except BaseException:
        try:
            stack.stop()
        except Exception:  # noqa: BLE001 - report the original error
            LOG.exception("cleaning up a stack that failed to start")
        raise
    finally:
        if collecting:
            gc.enable()
    gc.collect()  # nothing dead is frozen with the rest
    # What start-up built lives as long as the stack: out of the collector's sight, a full collection no
    # longer walks it (they took 200-300 ms, stalling every thread).
    gc.freeze()
    stack.startup_seconds = time.monotonic() - started
    stack._undo.append(collector.full_collections_every(FULL_COLLECTION_SECONDS))
    return stack


def _release(stack: LocalStack) -> None:
    global _RUNNING
    with _RUNNING_LOCK:
        if _RUNNING is stack:
            _RUNNING = None


def _start(
    stack: LocalStack,
    app: Any,
    lambda_handler: Callable[[Any, Any], Any] | None,
    bootstrap: bool,
    snapshot_interval: float,
    quiet: bool,
) -> None:
    host, moto_port = stack.host, stack.moto_port
    connect_host = _connect_host(host)
    moto_endpoint = f"http://{connect_host}:{moto_port}"

    # 1. Environment, before moto or any project module is imported.
    _set_env(
        stack,
        {
            "MOTO_PORT": str(moto_port),
            "PLYNX_AWS_ENDPOINT": moto_endpoint,
            "PLYNX_UI_URL": f"http://localhost:{stack.ui_port}",
            # Long operations go to "Fargate": the local cluster, whose tasks the stack runs itself (patches.py)
            "PLYNX_FARGATE_CLUSTER": patches.local_cluster_arn(
                os.environ.get("AWS_DEFAULT_REGION") or "us-east-1", os.environ.get("PLYNX_ACCOUNT_ID", "123456789012")),
            "PLYNX_FARGATE_TASK_DEFINITION": patches.LOCAL_TASK_DEFINITION,
            # Notification webhooks may reach this machine's receivers (tests, a developer's listener); the
            # cloud's sender refuses loopback like every other non-public address.
            "PLYNX_NOTIFY_ALLOW_LOOPBACK": "true",
        },
        force=True,
    )
    # The operator's logs as readable lines on the console (PLYNX_LOG_FORMAT=json for Lambda's JSON lines);
    # the metrics' EMF blobs into a file of the data dir, not onto the console (chalicelib/store/telemetry.py).
    metrics_file = os.path.join(os.path.abspath(stack.data_dir), METRICS_FILE) if stack.data_dir else os.devnull
    _set_env(stack, {"PLYNX_LOG_FORMAT": "text", "PLYNX_METRICS_FILE": metrics_file}, force=False)
    if not os.environ.get("PLYNX_SECRET_KEY"):
        # No key: the laptop's single-user mode, asked for explicitly (the API refuses to run keyless otherwise).
        _set_env(stack, {"PLYNX_SINGLE_USER": "true"}, force=False)
    _set_env(stack, {"AWS_DEFAULT_REGION": os.environ.get("AWS_REGION") or "us-east-1"}, force=False)
    # The control plane signs with its own IAM key (infra/local/auth.py); made-up keys are refused.
    from . import auth

    from runners import zygote

    zygote.make_undumpable()  # this process holds the key: its memory and environment are closed to operations
    key_id, secret = auth.process_key()
    stack.credentials = (key_id, secret)
    _set_env(stack, {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}, force=True)
    for name in ("AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE"):
        if name in os.environ:
            stack._undo.append(_env_restorer(name, os.environ.pop(name)))
    if REPO_ROOT not in sys.path:
        sys.path.insert(0, REPO_ROOT)
    if bootstrap:
        _check_settings_not_stale(moto_endpoint)

    # 2. moto: Step Functions execution on, patches, snapshot, server.
    from moto.core.config import default_user_config

    previous_sfn_config = dict(default_user_config.get("stepfunctions", {}))
    default_user_config["stepfunctions"] = {**previous_sfn_config, "execute_state_machine": True}
    stack._undo.append(lambda: default_user_config.__setitem__("stepfunctions", previous_sfn_config))

    from . import journal as journal_module
    from . import s3_bodies, snapshot

    patches.patch(connect_host)
    stack._undo.append(patches.unpatch)

    # S3 bodies are files (in the data dir, or a temporary one): the stack's memory does not grow with them.
    if stack.data_dir is not None:
        stack.data_dir = os.path.abspath(stack.data_dir)
        os.makedirs(stack.data_dir, exist_ok=True)
        body_directory = os.path.join(stack.data_dir, BODY_DIR)
    else:
        body_directory = tempfile.mkdtemp(prefix="plynx-s3-bodies-")
        stack._undo.append(lambda: shutil.rmtree(body_directory, ignore_errors=True))
    fsync = _fsync_mode() if stack.data_dir is not None else "off"
    patches.store_bodies_on_disk(body_directory, fsync)

    journal = None
    if stack.data_dir is not None:
        stack.snapshot_path = os.path.join(stack.data_dir, snapshot.SNAPSHOT_FILE)
        journal_directory = os.path.join(stack.data_dir, journal_module.JOURNAL_DIR)
        restore_started = time.monotonic()
        journal_from = snapshot.load(stack.snapshot_path)
        if journal_from is None:
            snapshot.reset_backends()
        # every change acknowledged since the snapshot, then what it made unreachable
        replayed, next_segment = journal_module.replay(journal_directory, journal_from or 0)
        stack.restored = journal_from is not None or replayed > 0
        snapshot.abort_interrupted_executions()
        dropped = s3_bodies.drop_keys_without_bodies()
        if dropped:
            LOG.warning("%d S3 object(s) lost their bytes to a power cut (PLYNX_LOCAL_FSYNC=%s) and were dropped: %s",
                        len(dropped), fsync, ", ".join(dropped[:20]))
        s3_bodies.collect(s3_bodies.live_names())
        stack.restore_seconds, stack.replayed = time.monotonic() - restore_started, replayed
        journal = journal_module.Journal(journal_directory, next_segment, journal_module.dumps_with(snapshot.pickler),
                                         fsync=fsync)
        stack.journal = journal
        journal.start_syncer()
        stack._undo.append(journal.close)
        patches.journal_writes(journal)
    else:
        snapshot.reset_backends()
    auth.install()
    if stack.data_dir is not None:
        stack.credentials_path = auth.credentials_file(stack.data_dir, stack.credentials)

    front = _make_lambda_front(stack, lambda_handler)
    front.journal = journal
    stack.lambda_front = front
    if patches.FAST:
        patches.serve_lambda_directly(front)
        patches.dispatch_directly(front, moto_endpoint)
    _notifier(stack, front)
    _serve(stack, "moto", _make_moto_server(host, moto_port, front, quiet))

    # 3. Tables, bucket, role, default user; the bucket's artifacts are write-once, as on AWS.
    if bootstrap:
        from .bootstrap import bootstrap as make_resources

        make_resources(moto_endpoint)
        from chalicelib.store import storage
        from chalicelib.store.settings import SETTINGS

        patches.write_once(SETTINGS.bucket, storage.PREFIX)

    # Folding starts once the bootstrap is done; what the journal did not cover of it is saved now.
    if journal is not None:
        snapshotter = snapshot.Snapshotter(stack.snapshot_path, journal, interval=snapshot_interval)
        stack._snapshotter = snapshotter
        if journal.unjournaled or not os.path.exists(stack.snapshot_path):
            snapshotter.save_now()
        journal.on_unjournaled = lambda operation: snapshotter.save_now()  # on disk before its answer
        snapshotter.start()

    # The daily EventBridge rule's stand-in (app.py's collect_garbage): the same pass, each day the stack runs.
    if bootstrap:
        from chalicelib.engine import gc

        stack._undo.append(gc.every(GC_INTERVAL_SECONDS))

    # 4. The API, and the schedules' firer (app.py's schedule_fired, as EventBridge Scheduler invokes it).
    if app is None:
        module = importlib.import_module("app")
        app = module.app
        if bootstrap:
            _fire_schedules(stack, module.schedule_fired)
    _serve(stack, "api", _make_api_server(app, host, stack.api_port, quiet))

    # 5. The UI.
    from .ui_server import make_ui_server, ui_directory

    stack.ui_dir = ui_directory(REPO_ROOT)
    api_url_for_browser = f"http://localhost:{stack.api_port}{API_PREFIX}"
    _serve(stack, "ui", make_ui_server(host, stack.ui_port, stack.ui_dir, api_url_for_browser, quiet=quiet))


def _fire_schedules(stack: LocalStack, handler: Callable[[Any, Any], Any]) -> None:
    from chalicelib.store import aws
    from chalicelib.store.settings import SETTINGS

    from .scheduler import LocalScheduler

    stack.scheduler = LocalScheduler(handler, aws.client("scheduler"), SETTINGS.schedule_group)
    stack.scheduler.start()
    stack._undo.append(stack.scheduler.stop)


def _serve(stack: LocalStack, name: str, server: Any) -> None:
    runner = _ServerThread(name, server)
    stack._servers.append(runner)
    runner.start()


# -- environment ----------------------------------------------------------------------------------


def _fsync_mode() -> str:
    """PLYNX_LOCAL_FSYNC: always (1), interval (the default), off (0): see infra/local/journal.py."""
    from .journal import FSYNC_MODES

    value = os.environ.get("PLYNX_LOCAL_FSYNC", "interval").strip().lower()
    value = {"1": "always", "0": "off", "": "interval"}.get(value, value)
    if value not in FSYNC_MODES:
        raise RuntimeError(f"PLYNX_LOCAL_FSYNC must be one of {', '.join(FSYNC_MODES)} (or 1, 0), not {value!r}")
    return value


def _set_env(stack: LocalStack, values: dict[str, str], force: bool) -> None:
    for key, value in values.items():
        previous = os.environ.get(key)
        if previous and not force:
            continue
        os.environ[key] = value
        stack._undo.append(_env_restorer(key, previous))


def _env_restorer(key: str, previous: str | None) -> Callable[[], None]:
    def restore() -> None:
        if previous is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = previous

    return restore


def _check_settings_not_stale(moto_endpoint: str) -> None:
    """chalicelib reads its endpoint at import: imported earlier with another one, it would miss moto."""
    settings = sys.modules.get("chalicelib.store.settings")
    if settings is None:
        return
    current = getattr(getattr(settings, "SETTINGS", None), "endpoint_url", None)
    if current != moto_endpoint:
        raise RuntimeError(
            f"chalicelib was imported before the local stack started (endpoint {current!r}, "
            f"the stack needs {moto_endpoint!r}); start the stack before importing the project's modules"
        )


def _public_host(host: str) -> str:
    return "localhost" if host in ("", "0.0.0.0", "::", "127.0.0.1") else host


def _connect_host(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::", "localhost") else host


# -- moto -----------------------------------------------------------------------------------------


def _make_lambda_front(stack: LocalStack, lambda_handler: Callable[[Any, Any], Any] | None) -> Any:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    from . import scratch
    from .lambda_front import DEFAULT_CONCURRENCY, LambdaFront
    from .warm_runner import WarmRunner

    # APPROVE plans with the local "Lambda" runner's storage as the cloud's API with its function's
    _set_env(stack, {scratch.LAMBDA_STORAGE_VARIABLE: str(scratch.storage_mb())}, force=False)
    moto_app = DomainDispatcherApplication(create_backend_app)
    if patches.FAST:  # the direct transport's requests answered without Flask's request cycle
        from .moto_dispatch import Dispatcher

        moto_app = Dispatcher(moto_app)
    if lambda_handler is not None:  # a test's own handler, called in this process
        front = LambdaFront(moto_app, lambda: lambda_handler, authenticate=True)
    else:
        # The runner in a warm process of its own (forked per invocation), off this process's interpreter lock.
        warm = WarmRunner(DEFAULT_CONCURRENCY, direct=patches.FAST)
        stack._undo.append(warm.stop)
        front = LambdaFront(moto_app, None, warm_runner=warm, authenticate=True)
        if warm.direct_address:  # the workers' SDK requests, without HTTP (infra/local/direct.py)
            from .direct import Channel

            stack._undo.append(Channel(front, warm.direct_address).stop)
    _preparation(front)
    return front


def _preparation(front: Any) -> None:
    """The run preparation APPROVE invokes asynchronously (app.py's prepare_run), by the name the API invokes
    (PLYNX_PREPARE_FUNCTION): served on a thread of this process, which holds the control plane's key."""
    from chalicelib.store.settings import SETTINGS

    from .lambda_front import parse_function_name

    def handler() -> Callable[[Any, Any], Any]:
        from chalicelib.engine import preparation

        return preparation.lambda_handler

    front.functions[parse_function_name(SETTINGS.prepare_function)[0]] = handler


def _notifier(stack: LocalStack, front: Any) -> None:
    """Runs' ends go to the notifier function as EventBridge would send them (infra/local/execution_events.py)."""
    from . import execution_events

    name = os.environ.get("PLYNX_NOTIFY_FUNCTION", "plynx-notify")

    def handler() -> Callable[[Any, Any], Any]:
        from runners import notifier

        return notifier.lambda_handler

    front.functions[name] = handler
    execution_events.install(lambda event: front.deliver(name, event))
    stack._undo.append(execution_events.uninstall)


def _make_moto_server(host: str, port: int, wsgi_app: Any, quiet: bool) -> Any:
    from moto.moto_server.werkzeug_app import MotoRequestHandler
    from werkzeug.serving import make_server

    from .keep_alive import keep_alive

    handler_cls = MotoRequestHandler
    if quiet:

        class QuietMotoRequestHandler(MotoRequestHandler):
            def log_request(self, code: Any = "-", size: Any = "-") -> None:
                pass

        handler_cls = QuietMotoRequestHandler
    if patches.FAST:
        handler_cls = keep_alive(handler_cls)
    return make_server(host, port, wsgi_app, threaded=True, request_handler=handler_cls)


# -- the API --------------------------------------------------------------------------------------


def _per_thread_requests(app: Any) -> None:
    """Give each server thread its own `app.current_request` (and `lambda_context`).

    Chalice keeps them in one attribute of the app, which is right on Lambda (one request per container
    at a time) but not under the threaded dev server: two concurrent requests read each other's body.
    """
    if getattr(type(app), "per_thread_requests", False):
        return
    local = threading.local()

    def field(name: str) -> property:
        return property(lambda _: getattr(local, name, None), lambda _, value: setattr(local, name, value))

    app.__class__ = type(f"PerThread{type(app).__name__}", (type(app),), {
        "per_thread_requests": True, "current_request": field("current_request"),
        "lambda_context": field("lambda_context")})


def _make_api_server(app: Any, host: str, port: int, quiet: bool) -> Any:
    from chalice.config import Config
    from chalice.local import ChaliceRequestHandler, LocalDevServer

    from .api_guard import guarded, origin_of

    _per_thread_requests(app)

    # The UI's origin, as the app reads it (PLYNX_UI_URL, set in step 1; chalicelib/store/settings.py's default
    # otherwise): the only one whose preflights pass.
    ui_origin = origin_of(os.environ.get("PLYNX_UI_URL", "http://localhost:3001"))

    class NoDelayHandler(guarded(ChaliceRequestHandler, ui_origin, host)):  # type: ignore[misc]
        # Headers and body are separate writes: with Nagle's algorithm on, a keep-alive client's
        # delayed ACK held every response for 40 ms.
        disable_nagle_algorithm = True

        def log_request(self, code: Any = "-", size: Any = "-") -> None:
            pass  # the API logs each request itself, with its ids (chalicelib/api/observe.py)

        def handle_one_request(self) -> None:
            # chalice local writes 127.0.0.1 as every request's `requestContext.identity.sourceIp`; API
            # Gateway writes the connection's peer, and so does this (sign-in throttling counts by it).
            self.local_gateway.event_converter.LOCAL_SOURCE_IP = self.client_address[0]
            super().handle_one_request()

    config_from_disk: dict = {}
    config_path = os.path.join(REPO_ROOT, ".chalice", "config.json")
    if os.path.exists(config_path):
        try:
            with open(config_path, encoding="utf-8") as stream:
                config_from_disk = json.load(stream)
        except (OSError, ValueError):
            LOG.warning("ignoring unreadable %s", config_path)
    # Like `chalice local`, minus its environment_variables: locally the endpoints come from here.
    config = Config(
        chalice_stage="dev",
        user_provided_params={
            "chalice_app": app,
            "app_name": getattr(app, "app_name", "plynx"),
            "project_dir": REPO_ROOT,
        },
        config_from_disk=config_from_disk,
    )
    return LocalDevServer(app, config, host, port, handler_cls=NoDelayHandler).server
