"""Run one operation in a private temp dir the way the seed describes: inputs in, script, outputs out."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2

from chalicelib.domain import config, scripts
from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.resource_kinds import resource_class
from chalicelib.domain.scripts import PathList, SecurityError, script_text
from chalicelib.engine.live_logs import Stopped
from chalicelib.resource_types.base import NodeResources_INPUT, NodeResources_OUTPUT, ResourceError, unwrap

from . import operations, zygote


@dataclass
class Workspace:
    """The files of one run: where inputs were put, outputs are expected and logs are written."""

    workdir: str
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, str] = field(default_factory=dict)
    logs: dict[str, str] = field(default_factory=dict)
    output_types: dict[str, str] = field(default_factory=dict)

    def worker_log(self, text: str) -> None:
        """Append a framed note to the worker log, as the seed's worker does."""
        with open(self.logs["worker"], "a", encoding="utf-8") as log:
            log.write(framed(text))


def framed(text: str) -> str:
    """A worker log note as the seed frames it."""
    border = "#" * 40
    body = "\n".join(f"# {line}" for line in text.splitlines() or [""])
    return f"{border}\n{body}\n{border}\n"


SUCCEEDED = "JOB SUCCEEDED"
EXPECTED_LOG_BYTES = 1024 * 1024  # the worker log told ahead (execute's `expect`) when at most this big


def is_array(node_input: dict) -> bool:
    """Inputs that accept other than exactly one value are lists (the seed's `is_array`)."""
    return node_input["max_count"] != 1


def input_kind(node_input: dict, actual: list[str] | None = None) -> str:
    """The resource type of an input: the upstream output's, else the one type the input accepts."""
    if actual and len(set(actual)) == 1:
        return actual[0]
    declared = node_input.get("file_types") or ["file"]
    return declared[0] if len(declared) == 1 else "file"


def prepare(node: dict, input_ids: dict[str, list[str]], workdir: str,
            download: Callable[[list[tuple[str, str]]], None],
            input_types: dict[str, list[str]] | None = None) -> Workspace:
    """Download inputs (`download([(resource id, path), ...])`: all at once) and prepare them by resource
    type; create outputs and log files."""
    space = Workspace(workdir)
    for log in node.get("logs", []) or [{"name": name} for name in ("stderr", "stdout", "worker")]:
        space.logs[log["name"]] = os.path.join(workdir, f"l_{log['name']}")
        open(space.logs[log["name"]], "wb").close()
    space.logs.setdefault("worker", os.path.join(workdir, "l_worker"))
    wanted = {(index, i): (resource_id, os.path.join(workdir, f"i_{index}_{i}_{_safe(node_input['name'])}"))
              for index, node_input in enumerate(node.get("inputs", []))
              for i, resource_id in enumerate(input_ids.get(node_input["name"], []))}
    download(list(wanted.values()))
    for index, node_input in enumerate(node.get("inputs", [])):
        kind = input_kind(node_input, (input_types or {}).get(node_input["name"]))
        cls = resource_class(kind)
        values: list[Any] = []
        for i, _ in enumerate(input_ids.get(node_input["name"], [])):
            path = wanted[(index, i)][1]
            try:
                values.append(unwrap(cls.prepare_input(path), NodeResources_INPUT))
            except ResourceError as exc:
                raise ResourceError(f"Input `{node_input['name']}` ({kind}): {exc}") from exc
        if not getattr(cls, "IS_PRIMITIVE", False):
            values = PathList(values)
        space.inputs[node_input["name"]] = values if is_array(node_input) else (values[0] if values else None)
    for index, output in enumerate(node.get("outputs", [])):
        path = os.path.join(workdir, f"o_{index}_{_safe(output['name'])}")
        kind = output.get("file_type", "file")
        space.outputs[output["name"]] = unwrap(resource_class(kind).prepare_output(path), NodeResources_OUTPUT)
        space.output_types[output["name"]] = kind
    return space


def _safe(name: str) -> str:
    """An input or output name as part of a file name (names are free text in the seed)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)[:80]


def postprocess(space: Workspace) -> None:
    """Turn each output into the one file to store (zip directories, check and canonicalise values)."""
    for name, path in list(space.outputs.items()):
        kind = space.output_types.get(name, "file")
        if os.path.islink(path):  # the runner would read (and store) what the link points at: its own files
            raise ResourceError(f"Output `{name}` ({kind}) is a symbolic link; write the file itself")
        try:
            space.outputs[name] = resource_class(kind).postprocess_output(path)
        except (ResourceError, OSError) as exc:
            raise ResourceError(f"Output `{name}` ({kind}): {exc}") from exc


def render(node: dict, space: Workspace) -> tuple[str, list[str]]:
    """The script file's text and the command that runs it."""
    script = script_text(node, space.inputs, space.outputs, space.logs)
    return script, [sys.executable, "-u"] if node["base_node_name"] == BaseNodeNames.PYTHON else ["bash"]


_ZYGOTE: list[operations.Zygote] = []  # this process's zygote (a fork of this process starts its own)
_ZYGOTE_LOCK = threading.Lock()
_DEDICATED: list[int] = []  # pids of processes that serve the runner alone (Lambda, Fargate, a warm runner)


def prestart(shared: bool = False) -> None:
    """Start this process's zygote now, so that it is ready (imports done) by the time an operation runs.

    `shared`: this process's forks will use it too (a warm runner's template, before it forks workers).
    """
    _zygote(shared=shared)


def _zygote(fresh: bool = False, shared: bool = False) -> operations.Zygote:
    with _ZYGOTE_LOCK:
        current = _ZYGOTE[0] if _ZYGOTE and (_ZYGOTE[0].owner == os.getpid() or _ZYGOTE[0].shared) else None
        if current is None or fresh or not current.alive():
            if current is not None:
                current.stop()
            _ZYGOTE[:] = [operations.Zygote(sys.path, shared=shared)]
        return _ZYGOTE[0]


def seal(dedicated: bool = False) -> None:
    """Make the orchestrating process unreadable to operations; `dedicated`: it serves the runner alone.

    Non-dumpable: /proc/<pid>/environ and mem and ptrace are closed to the same uid. A dedicated process
    (Lambda, Fargate, a local warm runner) is also a subreaper, so whatever an operation leaves behind after
    killing its zygote (which it can, under the same uid) comes back here to be killed.
    """
    zygote.make_undumpable()
    if dedicated and os.getpid() not in _DEDICATED:
        zygote.become_subreaper()
        _DEDICATED[:] = [os.getpid()]


def _spawn(kind: str, script_path: str, space: Workspace, out: int, err: int,
           source: dict | None = None) -> operations.Operation:
    environment = zygote.operation_environment(space.workdir)
    try:
        return _zygote().spawn(kind, script_path, space.workdir, out, err, environment, source)
    except OSError:  # the zygote died (killed by an operation of the same uid): a new one
        return _zygote(fresh=True).spawn(kind, script_path, space.workdir, out, err, environment, source)


def _sweep() -> None:
    """In a dedicated process: kill anything an operation left re-parented to us (all but the zygote)."""
    if _DEDICATED != [os.getpid()]:
        return
    keep = frozenset(z.pid for z in _ZYGOTE if z.owner == os.getpid() and z.alive())
    zygote.kill_children(keep)


def _wait(process: operations.Operation, timeout: float | None,
          publish: Callable[[dict[str, str]], None] | None, space: Workspace) -> int:
    """Wait for the process, publishing the logs every few seconds so a user can watch a long job."""
    interval = float(config.setting("runner", "log_upload_seconds", 2) or 2)
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = interval if publish else None
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise subprocess.TimeoutExpired(process.args, timeout)
            step = left if step is None else min(step, left)
        try:
            return process.wait(timeout=step)
        except subprocess.TimeoutExpired:
            if deadline is not None and time.monotonic() >= deadline:
                raise
            if publish:
                try:
                    publish(dict(space.logs))
                except Stopped:
                    raise  # canceled, or the run has ended: the operation must stop
                except Exception as exc:  # watching is best effort; the run goes on
                    space.worker_log(f"Could not publish live logs: {type(exc).__name__}: {exc}")


def execute(node: dict, space: Workspace, timeout: float | None,
            publish: Callable[[dict[str, str]], None] | None = None,
            expect: Callable[[bytes], None] | None = None) -> bool:
    """Run the operation's script with stdout/stderr to its logs; True when it exited 0 in time.

    `publish(logs)` is called with the log files every few seconds while the script runs. `expect(text)` is
    told, as the script starts, what the worker log will hold if it succeeds (so it can be stored meanwhile).
    """
    try:
        script, _ = render(node, space)
    except SecurityError as exc:  # nothing ran: the sandbox stopped the template while rendering it
        space.worker_log(f"JOB FAILED\nThe command template was stopped by the sandbox (templates may not "
                         f"reach Python internals): {exc}")
        return False
    except jinja2.TemplateError as exc:
        space.worker_log(f"JOB FAILED\nThe command template does not render: {exc}")
        return False
    suffix = ".py" if node["base_node_name"] == BaseNodeNames.PYTHON else ".sh"
    script_path = os.path.join(space.workdir, f"exec{suffix}")
    with open(script_path, "w", encoding="utf-8") as handle:
        handle.write(script)
    space.worker_log(f"Running script:\n{script}\nEnd script")
    if expect is not None and os.path.getsize(space.logs["worker"]) <= EXPECTED_LOG_BYTES:
        with open(space.logs["worker"], "rb") as log:
            expect(log.read() + framed(SUCCEEDED).encode())
    with open(space.logs["stdout"], "ab") as out, open(space.logs["stderr"], "ab") as err:
        kind = "python" if node["base_node_name"] == BaseNodeNames.PYTHON else "bash"
        # the user's code compiles under the operation's name from its own line 1: tracebacks point at it
        source = {"name": scripts.source_name(node), "line": scripts.user_code_line(script)} if kind == "python" else None
        process = _spawn(kind, script_path, space, out.fileno(), err.fileno(), source)
    try:
        code = _wait(process, timeout, publish, space)
    except subprocess.TimeoutExpired:
        process.kill()
        space.worker_log(f"JOB FAILED\nTimed out after {timeout} seconds")
        return False
    except Stopped as exc:
        process.kill()
        space.worker_log(f"JOB STOPPED\n{exc}")
        return False
    finally:
        process.kill()  # a no-op when it ended: the zygote has already killed all it started
        _sweep()
    if code != 0:
        space.worker_log(f"JOB FAILED\nProcess returned non-zero value {code}")
        return False
    try:
        postprocess(space)
    except ResourceError as exc:
        space.worker_log(f"JOB FAILED\n{exc}")
        return False
    space.worker_log(SUCCEEDED)
    return True
