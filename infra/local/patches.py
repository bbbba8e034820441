"""In-process patches of moto's Step Functions interpreter (moto 5.2.5), applied while a stack runs.

1. ``boto_client_for`` signs with made-up keys ("ak"), which the local moto refuses (infra/local/auth.py):
   the patch signs with the control plane's key, as the state machine's role would. It also builds a
   new boto3 client for every Task state; building one costs more CPU than the Task itself. The patch
   caches one client per (region, service, endpoint). boto3 clients are thread-safe; the pool is sized
   for wide Parallel states. Lambda's ``invoke`` goes straight to the stack's Lambda front
   (lambda_front.DirectLambdaClient) once it is registered.
2. ``states:startExecution[.sync[:2]]`` and ``ecs:runTask[.sync]`` integrations pass the ASL's
   PascalCase parameter names straight to boto3 (``Input``, ``StateMachineArn``...) and read its
   camelCase answers as if they were PascalCase. The base class's ``_to_boto_request`` /
   ``_from_boto_response`` already convert names using botocore's shapes; moto just never calls
   them. The patch calls them for the Step Functions and ECS integrations only, and turns boto3's
   datetimes into epoch milliseconds (as AWS does) so the state's output stays JSON.

3. ``ecs:runTask[.sync]`` on the local cluster (a name ending in ``/plynx-local``) runs the Fargate
   entry point itself, ``python -m runners`` with the container's environment overrides and a task
   role credential URI (as the ECS agent gives a task), in a subprocess of its own (as a Fargate task
   is), and answers with the stopped task and its exit code.
   Other clusters go to moto's ECS as before.

4. A Parallel branch that fails with a ``States.*`` error (``States.TaskFailed`` from a failed child
   execution, ``States.Timeout``...) makes moto's Parallel raise ValueError (it wraps every branch
   error as a custom error name, which may not start with ``States.``), so the Parallel's Catch never
   runs and the execution dies. The patch keeps ``States.*`` names as the states errors they are.

5. CreateStateMachine parses the whole definition with moto's ANTLR parser only to validate it, and
   StartExecution parses it again: the parse is done once (infra/local/fast_paths.py, with moto's other
   hot paths: DynamoDB responses, JSONPaths).

6. moto's DynamoDB applies a conditional or update write as read, check, modify, write, with no
   lock: two requests on one item in two server threads can lose an update (an UpdateItem that
   creates the item even replaces it whole). DynamoDB makes each single-item write atomic, and the
   engine's dependency waits rely on it (chalicelib/engine/waits.py). The patch serialises moto's
   DynamoDB writes under one lock, and each DynamoDB request's handling too: an update changes its item
   in place, so a read served meanwhile could see half of it (or fail: "dictionary changed size during
   iteration", seen in a Query while the runner ended an operation).

7. Write-once artifacts (:func:`write_once`, applied once the stack knows its bucket). On AWS the roles'
   policies and the artifacts bucket's policy refuse a PutObject or CompleteMultipartUpload under
   ``resources/`` without ``If-None-Match: *`` (the ``s3:if-none-match`` and ``s3:ObjectCreationOperation``
   condition keys), and every CopyObject there (UploadPartCopy, like UploadPart, creates no object). moto 5.2.5 does evaluate a bucket policy, but ignores its
   conditions (only StringEquals, and only for AssumeRole), so the template's Deny would refuse every
   write; IAM identity policies it enforces only for its own IAM users, not per role. The patch refuses
   those requests with the 403 AccessDenied AWS answers. moto itself honours ``If-None-Match: *``
   (412 PreconditionFailed on an existing key) on both calls.

8. moto's CompleteMultipartUpload checks whether the upload was completed already (S3 answers a repeated
   complete with the object) and then takes the upload from the bucket, with no lock: two completes of
   one upload at once both passed the check and the second failed on the missing upload (a KeyError,
   a 500). The patch serialises the completes of each upload id; the second sees the first's object.

9. The interpreter appends every thread it starts (one per Task state, per Parallel branch, per execution)
   to a module-level list, ``TMP_THREADS``, that nothing reads or empties: a long-running stack kept every
   finished thread with its locks and events (about 70 threads and 700 objects per fan-out of 20), and every
   full garbage collection walked them. The patch gives those modules a list that keeps nothing.

1's keys, 2, 3, 4, 6, 7, 8 and 9 make moto behave as AWS does; 1's cache and 5 (and the stack's keep-alive
connections to moto) only make it faster, and ``PLYNX_LOCAL_FAST=0`` turns them off, so the tests can show
the engine does not depend on them. The patches reach into moto's internals: they refuse to apply to another moto version than the one
they were written for (MOTO_VERSION). All are undone by :func:`unpatch`.
"""
from __future__ import annotations

import datetime
import functools
import os
import sys
import threading
from collections.abc import Callable
from typing import Any

from botocore.exceptions import UnknownServiceError

_LOCK = threading.Lock()
_MISSING = object()
_ORIGINALS: list[tuple[Any, str, Any]] = []
_CLIENTS: dict[tuple, Any] = {}
_LAMBDA_FRONT: list[Any] = []  # the stack's Lambda front, which serves the interpreter's invocations directly


MOTO_VERSION = "5.2.5"  # what these patches were written and tested against (requirements-dev.txt pins it)
# The speed-ups (patches 1 and 5, keep-alive): on unless PLYNX_LOCAL_FAST=0.
FAST = os.environ.get("PLYNX_LOCAL_FAST", "1").strip() != "0"
LOCAL_TASK_DEFINITION = "plynx-runner-local"


def local_cluster_arn(region: str, account: str = "123456789012") -> str:
    """The local "Fargate" cluster: the stack runs its tasks itself (patch 3)."""
    return f"arn:aws:ecs:{region}:{account}:cluster{LOCAL_CLUSTER_SUFFIX}"


def check_moto_version(version: str | None = None) -> None:
    """Refuse a moto these patches were not written for: they would patch the wrong code, or nothing."""
    if version is None:
        from moto import __version__ as version
    if version != MOTO_VERSION:
        raise RuntimeError(f"infra/local patches moto {MOTO_VERSION}'s internals, but moto {version} is installed; "
                           f"install moto=={MOTO_VERSION} (make install) or port the patches")


def _set(owner: Any, name: str, value: Any) -> None:
    _ORIGINALS.append((owner, name, vars(owner).get(name, _MISSING)))
    setattr(owner, name, value)


def patch(connect_host: str = "localhost") -> None:
    """Apply the patches (idempotent)."""
    with _LOCK:
        if _ORIGINALS:
            return
        check_moto_version()
        _patch_boto_client_for(connect_host, cached=FAST)
        _patch_param_casing()
        _patch_local_ecs()
        _patch_branch_error_names()
        if FAST:
            from . import fast_paths

            fast_paths.apply(_set, BIG_DEFINITION_BYTES)
        _patch_dynamodb_atomic_writes()
        _patch_one_complete_per_upload()
        _patch_forget_threads()


def store_bodies_on_disk(body_directory: str, fsync: str = "always") -> None:
    """S3 object bodies as files under `body_directory` (infra/local/s3_bodies.py); undone by unpatch."""
    from . import s3_bodies

    with _LOCK:
        s3_bodies.install(body_directory, _set, fsync)
        s3_bodies.patch_streaming_complete(_set)
        s3_bodies.patch_streaming_reads(_set)


def journal_writes(journal: Any) -> None:
    """Hook moto's backends so each request's changes reach `journal` (infra/local/journal.py); undone by unpatch."""
    from . import journal as journal_module

    with _LOCK:
        journal_module.install(journal, _set)


def serve_lambda_directly(front: Any) -> None:
    """The interpreter's Lambda Tasks call `front` in-process (patch 1), not through HTTP; undone by unpatch."""
    _LAMBDA_FRONT.append(front)


def dispatch_directly(front: Any, endpoint: str) -> None:
    """This process's SDK requests to moto (`endpoint`) call `front` on their own thread, without HTTP
    (infra/local/direct.py); undone by unpatch."""
    from . import direct

    with _LOCK:
        direct.install(front, endpoint, _set)


def unpatch() -> None:
    from . import journal as journal_module

    with _LOCK:
        journal_module.uninstall()
        _LAMBDA_FRONT.clear()
        while _ORIGINALS:
            owner, name, value = _ORIGINALS.pop()
            if value is _MISSING:
                delattr(owner, name)
            else:
                setattr(owner, name, value)
        _CLIENTS.clear()


# -- 1. one boto3 client per (region, service) ------------------------------------------------------


def _patch_boto_client_for(connect_host: str, cached: bool = True) -> None:
    """The interpreter's service clients sign with the control plane's key (moto's sign with "ak", which the
    local moto refuses: infra/local/auth.py); `cached`: one client per service, reused (a speed-up)."""
    # Import every module that imported boto_client_for by name, then swap it in each of them.
    import moto.stepfunctions.parser.asl.component.state.exec.state_map.item_reader.eval.resource_eval_s3
    import moto.stepfunctions.parser.asl.component.state.exec.state_map.result_writer.resource_eval.resource_eval_s3
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.lambda_eval_utils
    import moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_factory  # noqa: F401
    import moto.stepfunctions.parser.asl.utils.boto_client as boto_client_module

    original = boto_client_module.boto_client_for
    replacement = _make_cached_boto_client_for(original, connect_host) if cached else _make_signed_boto_client_for(original)
    for module in list(sys.modules.values()):
        if module is None or not getattr(module, "__name__", "").startswith("moto.stepfunctions"):
            continue
        if getattr(module, "boto_client_for", None) is original:
            _set(module, "boto_client_for", replacement)


def _make_signed_boto_client_for(original: Callable) -> Callable:
    """moto's own boto_client_for (a new client per call), with the control plane's key instead of "ak"."""
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    from .auth import process_key

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled:  # inside mock_aws: keep moto's own behaviour
            return original(region=region, service=service, state_credentials=state_credentials)
        key_id, secret = process_key()
        return boto3.client(
            service_name=service, region_name=region, endpoint_url=f"http://localhost:{moto_server_port()}",
            aws_access_key_id=key_id, aws_secret_access_key=secret,
            config=Config(parameter_validation=False, retries={"max_attempts": 0, "total_max_attempts": 1},
                          connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                          read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS),
        )

    return boto_client_for


def _make_cached_boto_client_for(original: Callable, connect_host: str) -> Callable:
    import boto3
    from botocore.config import Config
    from moto.core.models import botocore_stubber
    from moto.settings import moto_server_port
    from moto.stepfunctions.parser.asl.component.common.timeouts.timeout import TimeoutSeconds

    @functools.wraps(original)
    def boto_client_for(region: str, service: str, state_credentials: Any = None) -> Any:
        if botocore_stubber.enabled:  # inside mock_aws: keep moto's own behaviour
            return original(region=region, service=service, state_credentials=state_credentials)
        endpoint = f"http://{connect_host}:{moto_server_port()}"
        if service == "lambda" and _LAMBDA_FRONT:
            front = _LAMBDA_FRONT[-1]
            key = (region, service, endpoint, id(front))
            client = _CLIENTS.get(key)
            if client is None:
                from .lambda_front import DirectLambdaClient

                client = _CLIENTS.setdefault(key, DirectLambdaClient(front, _client(region, service, endpoint)))
            return client
        return _client(region, service, endpoint)

    def _client(region: str, service: str, endpoint: str) -> Any:
        key = (region, service, endpoint)
        client = _CLIENTS.get(key)
        if client is None:
            with _LOCK:
                client = _CLIENTS.get(key)
                if client is None:
                    from .auth import process_key

                    control_plane_key = process_key()
                    client = boto3.session.Session().client(
                        service_name=service,
                        region_name=region,
                        endpoint_url=endpoint,
                        aws_access_key_id=control_plane_key[0],  # moto refuses unknown keys (auth.py)
                        aws_secret_access_key=control_plane_key[1],
                        config=Config(
                            parameter_validation=False,
                            # Step Functions retries its own service calls' transient failures; a keep-alive
                            # connection the server dropped under load is one (seen at a 10,000-node start)
                            retries={"mode": "standard", "total_max_attempts": 3},
                            connect_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                            read_timeout=TimeoutSeconds.DEFAULT_TIMEOUT_SECONDS,
                            max_pool_connections=256,
                        ),
                    )
                    _CLIENTS[key] = client
        return client

    boto_client_for.cached = True  # type: ignore[attr-defined]
    return boto_client_for


# -- 2. parameter/response name casing for states:startExecution and ecs:runTask -----------------


@functools.cache
def _operation_model(service: str, snake_action: str) -> Any:
    import botocore.session
    from botocore import xform_name

    try:
        service_model = botocore.session.get_session().get_service_model(service)
    except UnknownServiceError:
        return None
    for operation in service_model.operation_names:
        if xform_name(operation) == snake_action:
            return service_model.operation_model(operation)
    return None


def _timestamps_to_epoch_millis(value: Any) -> Any:
    """boto3 parses timestamps; a state's output must be JSON (AWS gives epoch milliseconds)."""
    if isinstance(value, datetime.datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, dict):
        for key, item in value.items():
            value[key] = _timestamps_to_epoch_millis(item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            value[index] = _timestamps_to_epoch_millis(item)
    return value


def _patch_param_casing() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import (
        state_task_service_ecs,
        state_task_service_sfn,
    )

    for cls in (state_task_service_sfn.StateTaskServiceSfn, state_task_service_ecs.StateTaskServiceEcs):
        _patch_class(cls)


def _patch_class(cls: type) -> None:
    original_parameters = cls._normalise_parameters
    original_response = cls._normalise_response

    def _normalise_parameters(self, parameters, boto_service_name=None, service_action_name=None):  # type: ignore[no-untyped-def]
        original_parameters(
            self, parameters, boto_service_name=boto_service_name, service_action_name=service_action_name
        )
        model = _operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if model is not None and model.input_shape is not None:
            self._to_boto_request(parameters, model.input_shape)

    def _normalise_response(self, response, boto_service_name=None, service_action_name=None):  # type: ignore[no-untyped-def]
        original_response(
            self, response, boto_service_name=boto_service_name, service_action_name=service_action_name
        )
        model = _operation_model(
            self._get_boto_service_name(boto_service_name), self._get_boto_service_action(service_action_name)
        )
        if model is not None and model.output_shape is not None:
            self._from_boto_response(response, model.output_shape)
        _timestamps_to_epoch_millis(response)

    _set(cls, "_normalise_parameters", _normalise_parameters)
    _set(cls, "_normalise_response", _normalise_response)


# -- 3. ecs:runTask on the local cluster runs the runner's Fargate entry point ---------------------------

LOCAL_CLUSTER_SUFFIX = "/plynx-local"


def _pick(mapping: dict, *names: str) -> Any:
    """A field under its PascalCase or boto3 camelCase name (before or after the casing patch)."""
    for name in names:
        if name in mapping:
            return mapping[name]
    return None


def task_environment(parameters: dict) -> dict[str, str]:
    """The container's environment: this process's, the task's overrides, and (as the ECS agent gives every
    Fargate task) the task role's credential URI, which the runner must keep from its operations."""
    import os
    import uuid

    environment = dict(os.environ)
    environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"] = f"/v2/credentials/{uuid.uuid4()}"
    overrides = _pick(parameters, "Overrides", "overrides") or {}
    containers = _pick(overrides, "ContainerOverrides", "containerOverrides") or [{}]
    for variable in _pick(containers[0], "Environment", "environment") or []:
        environment[_pick(variable, "Name", "name")] = str(_pick(variable, "Value", "value"))
    return environment


def _run_local_task(parameters: dict) -> dict:
    """Run the Fargate task's command here; the stopped task, as DescribeTasks shows it to .sync."""
    import os
    import subprocess
    import uuid

    cluster = _pick(parameters, "Cluster", "cluster")
    overrides = _pick(parameters, "Overrides", "overrides") or {}
    containers = _pick(overrides, "ContainerOverrides", "containerOverrides") or [{}]
    environment = task_environment(parameters)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-m", "runners"], cwd=repo, env=environment, capture_output=True,
                          check=False)
    task_arn = f"{cluster.replace(':cluster/', ':task/')}/{uuid.uuid4().hex}"
    container = {"Name": _pick(containers[0], "Name", "name") or "runner", "ExitCode": done.returncode,
                 "LastStatus": "STOPPED"}
    return {"Tasks": [{"TaskArn": task_arn, "ClusterArn": cluster, "LastStatus": "STOPPED",
                       "StopCode": "EssentialContainerExited", "Containers": [container]}], "Failures": []}


def _patch_local_ecs() -> None:
    from moto.stepfunctions.parser.asl.component.state.exec.state_task.service import state_task_service_ecs

    cls = state_task_service_ecs.StateTaskServiceEcs
    original_eval = cls._eval_service_task
    original_resolver = cls._build_sync_resolver

    def _is_local(parameters: dict) -> bool:
        cluster = _pick(parameters, "Cluster", "cluster")
        return isinstance(cluster, str) and cluster.endswith(LOCAL_CLUSTER_SUFFIX)

    def _eval_service_task(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
        if self._get_boto_service_action() == "run_task" and _is_local(normalised_parameters):
            env.stack.append(_run_local_task(normalised_parameters))
            return
        original_eval(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    def _build_sync_resolver(self, env, resource_runtime_part, normalised_parameters, state_credentials):  # type: ignore[no-untyped-def]
        if _is_local(normalised_parameters):
            task = env.stack.pop()["Tasks"][0]
            return lambda: task  # already stopped
        return original_resolver(self, env, resource_runtime_part, normalised_parameters, state_credentials)

    _set(cls, "_eval_service_task", _eval_service_task)
    _set(cls, "_build_sync_resolver", _build_sync_resolver)


# -- 4. Parallel branches failing with States.* errors --------------------------------------------------


def _patch_branch_error_names() -> None:
    from moto.stepfunctions.parser.asl.component.common.error_name.custom_error_name import CustomErrorName
    from moto.stepfunctions.parser.asl.component.common.error_name.states_error_name import StatesErrorName
    from moto.stepfunctions.parser.asl.component.state.exec.state_parallel import branches_decl

    def error_name(error_name: str | None = None) -> Any:
        if error_name is not None and error_name.startswith("States."):
            try:
                return StatesErrorName.from_name(error_name)
            except Exception:  # noqa: BLE001 - an unknown States.* name: report it as a task failure
                return StatesErrorName.from_name("States.TaskFailed")
        return CustomErrorName(error_name=error_name)

    _set(branches_decl, "CustomErrorName", error_name)


# -- 5. one parse, not two, of a definition (fast_paths) ----------------------------------------------

BIG_DEFINITION_BYTES = 64 * 1024  # over this, not parsed at CreateStateMachine at all


# -- 6. atomic DynamoDB writes ---------------------------------------------------------------------------

_DYNAMODB_WRITES = threading.RLock()  # re-entrant: a batch or transaction calls the single-item writes


def dynamodb_write_lock() -> Any:
    """The lock moto's DynamoDB writes run under (the journal reads an item's image under it)."""
    return _DYNAMODB_WRITES


def _patch_dynamodb_atomic_writes() -> None:
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action

    def whole_items(self: Any) -> Any:  # a request reads items that no write is changing meanwhile
        with _DYNAMODB_WRITES:
            return call_action(self)

    functools.update_wrapper(whole_items, call_action)
    _set(DynamoHandler, "call_action", whole_items)

    for name in ("put_item", "update_item", "delete_item", "transact_write_items"):
        original = getattr(DynamoDBBackend, name)

        def locked(self: Any, *args: Any, __original: Callable = original, **kwargs: Any) -> Any:
            with _DYNAMODB_WRITES:
                return __original(self, *args, **kwargs)

        functools.update_wrapper(locked, original)
        _set(DynamoDBBackend, name, locked)


# -- 7. write-once artifacts ----------------------------------------------------------------------------


def write_once(bucket: str, prefix: str) -> None:
    """Refuse writes under `prefix` of `bucket` that could replace an object (undone by unpatch)."""
    from moto.s3.exceptions import S3AccessDeniedError
    from moto.s3.responses import S3Response

    def guarded(bucket_name: str, key_name: str) -> bool:
        return bucket_name == bucket and key_name.startswith(prefix)

    def unconditional(self: Any) -> bool:
        return self.headers.get("If-None-Match") != "*"

    put, post = S3Response._key_response_put, S3Response._key_response_post

    def key_response_put(self: Any, query: dict, key_name: str) -> Any:
        if guarded(self.bucket_name, key_name):
            part = bool(query.get("uploadId") and query.get("partNumber"))
            # UploadPartCopy creates no object (s3:ObjectCreationOperation false), as UploadPart: allowed
            if not part and ("x-amz-copy-source" in self.headers or unconditional(self)):
                raise S3AccessDeniedError()  # CopyObject, or a PutObject that may overwrite
        return put(self, query, key_name)

    def key_response_post(self: Any, request: Any, body: bytes, bucket_name: str, query: dict,
                          key_name: str) -> Any:
        if guarded(bucket_name, key_name) and query.get("uploadId") and unconditional(self):
            raise S3AccessDeniedError()  # a CompleteMultipartUpload that may overwrite
        return post(self, request, body, bucket_name, query, key_name)

    with _LOCK:
        _set(S3Response, "_key_response_put", key_response_put)
        _set(S3Response, "_key_response_post", key_response_post)


# -- 8. one CompleteMultipartUpload of an upload at a time --------------------------------------------


def _patch_one_complete_per_upload() -> None:
    import weakref

    from moto.s3.responses import S3Response

    post = S3Response._key_response_post
    locks: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
    locks_lock = threading.Lock()

    def one_at_a_time(self: Any, request: Any, body: bytes, bucket_name: str, query: dict,
                      key_name: str) -> Any:
        upload_id = (query.get("uploadId") or [None])[0]
        if upload_id is None:
            return post(self, request, body, bucket_name, query, key_name)
        with locks_lock:
            lock = locks.setdefault((bucket_name, upload_id), threading.Lock())
        with lock:
            return post(self, request, body, bucket_name, query, key_name)

    functools.update_wrapper(one_at_a_time, post)
    _set(S3Response, "_key_response_post", one_at_a_time)


# -- 9. no list of every thread the interpreter ever started ----------------------------------------------


class _NoThreads(list):
    """A list that keeps nothing appended to it: moto's TMP_THREADS, which nothing reads."""

    def append(self, thread: Any) -> None:
        pass


# The modules that import TMP_THREADS by name (moto 5.2.5), besides the one that defines it.
_THREAD_LISTERS = (
    "moto.stepfunctions.parser.asl.component.program.program",
    "moto.stepfunctions.parser.asl.component.test_state.program.test_state_program",
    "moto.stepfunctions.parser.asl.component.state.exec.state_map.iteration.inline_iteration_component",
    "moto.stepfunctions.parser.asl.component.state.exec.state_task.service.state_task_service_callback",
    "moto.stepfunctions.parser.asl.component.state.exec.state_parallel.branch_worker",
    "moto.stepfunctions.parser.asl.component.state.exec.execute_state",
    "moto.stepfunctions.parser.backend.execution_worker",
)


def _patch_forget_threads() -> None:
    import importlib

    from moto.stepfunctions.parser import utils

    forget = _NoThreads()
    _set(utils, "TMP_THREADS", forget)
    for name in _THREAD_LISTERS:
        module = importlib.import_module(name)
        if isinstance(vars(module).get("TMP_THREADS"), list):
            _set(module, "TMP_THREADS", forget)
