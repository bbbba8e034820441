"""Run one operation in a private temp dir the way the seed describes: inputs in, script, outputs out."""
from __future__ import annotations

import atexit
import builtins
import importlib.machinery
import io
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
import types
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jinja2

from chalicelib.domain import config
from chalicelib.domain.enums import BaseNodeNames
from chalicelib.domain.resource_kinds import resource_class
from chalicelib.domain.scripts import PathList, SecurityError, script_text
from chalicelib.engine.live_logs import Stopped
from chalicelib.resource_types.base import NodeResources_INPUT, NodeResources_OUTPUT, ResourceError, unwrap


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
        border = "#" * 40
        body = "\n".join(f"# {line}" for line in text.splitlines() or [""])
        with open(self.logs["worker"], "a", encoding="utf-8") as log:
            log.write(f"{border}\n{body}\n{border}\n")


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
            download: Callable[[str, str], None], input_types: dict[str, list[str]] | None = None) -> Workspace:
    """Download inputs and prepare them by resource type; create outputs and log files."""
    space = Workspace(workdir)
    for log in node.get("logs", []) or [{"name": name} for name in ("stderr", "stdout", "worker")]:
        space.logs[log["name"]] = os.path.join(workdir, f"l_{log['name']}")
        open(space.logs[log["name"]], "wb").close()
    space.logs.setdefault("worker", os.path.join(workdir, "l_worker"))
    for index, node_input in enumerate(node.get("inputs", [])):
        kind = input_kind(node_input, (input_types or {}).get(node_input["name"]))
        cls = resource_class(kind)
        values: list[Any] = []
        for i, resource_id in enumerate(input_ids.get(node_input["name"], [])):
            path = os.path.join(workdir, f"i_{index}_{i}_{_safe(node_input['name'])}")
            download(resource_id, path)
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


class ForkedScript:
    """A python operation run in a forked child of this warm runner: its own process, no interpreter start-up.

    What `_wait` and `execute` use of Popen (pid, args, wait). Forking is safe only while the runner has a
    single thread (the Lambda runtime, Fargate's `python -m runners`, the local warm runner).
    """

    def __init__(self, script_path: str, workdir: str, stdout: io.IOBase, stderr: io.IOBase) -> None:
        self.args = [sys.executable, "-u", script_path]
        self.returncode: int | None = None
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # nothing of the runner's own output may be written again by the child
        read_end, write_end = os.pipe()  # the child holds the write end: EOF when it exits
        self.pid = os.fork()
        if self.pid == 0:
            os.close(read_end)
            _child(script_path, workdir, stdout.fileno(), stderr.fileno(), write_end)
        os.close(write_end)
        try:  # readable when the child exits, whatever its own children do
            self._exited = os.pidfd_open(self.pid)
            os.close(read_end)
        except (AttributeError, OSError):  # no pidfd here: the pipe (which a grandchild may hold open)
            self._exited = read_end

    def wait(self, timeout: float | None = None) -> int:
        """The exit code (negative: killed by that signal); subprocess.TimeoutExpired after `timeout`."""
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.0
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
                os.close(self._exited)
                break
            left = 0.25 if deadline is None else min(0.25, deadline - time.monotonic())
            if left <= 0:
                raise subprocess.TimeoutExpired(self.args, timeout)
            if pause:  # the fd has said all it can: poll, briefly at first
                time.sleep(min(pause, left))
                pause = min(pause * 2, 0.05)
            elif select.select([self._exited], [], [], left)[0]:
                pause = 0.0002  # the child is exiting (or closed the pipe itself): reap it soon
        return self.returncode


def _child(script_path: str, workdir: str, stdout: int, stderr: int, exit_pipe: int) -> None:
    """In the forked child: become `python -u script` in its own session, then exit with its code."""
    code = 1
    try:
        os.setsid()  # its own process group: a timeout kills everything it started
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        # as Popen's close_fds: the script gets none of the runner's files and SDK sockets
        os.closerange(3, exit_pipe)
        os.closerange(exit_pipe + 1, max(os.sysconf("SC_OPEN_MAX"), exit_pipe + 1))
        code = _run_script(script_path, workdir)
    except BaseException:  # noqa: BLE001 - the child must never return into the runner
        try:
            os.write(2, traceback.format_exc().encode("utf-8", "backslashreplace"))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


_KEEP: list = []  # the runner's own standard streams: kept alive, never flushed or closed by the child


def _fresh_interpreter_state(script_path: str, workdir: str) -> None:
    """What a new interpreter would have: unbuffered std streams on fds 0-2, argv, path, signals, no handlers."""
    _KEEP.extend([sys.stdin, sys.stdout, sys.stderr, sys.__stdin__, sys.__stdout__, sys.__stderr__])
    encoding = getattr(sys.stdout, "encoding", None) or "utf-8"
    errors = getattr(sys.stdout, "errors", None) or "strict"
    sys.stdin = sys.__stdin__ = io.TextIOWrapper(io.BufferedReader(io.FileIO(0, "r", closefd=False)),
                                                 encoding=encoding, errors=errors)
    sys.stdout = sys.__stdout__ = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding=encoding,
                                                   errors=errors, write_through=True)
    sys.stderr = sys.__stderr__ = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding=encoding,
                                                   errors="backslashreplace", write_through=True)
    os.chdir(workdir)
    sys.argv = [script_path]
    sys.path[0] = os.path.dirname(script_path)
    for number in signal.valid_signals():
        if number in (signal.SIGKILL, signal.SIGSTOP):
            continue
        wanted = {signal.SIGINT: signal.default_int_handler, signal.SIGPIPE: signal.SIG_IGN,
                  signal.SIGXFSZ: signal.SIG_IGN}.get(number, signal.SIG_DFL)
        if signal.getsignal(number) != wanted:
            try:
                signal.signal(number, wanted)
            except (OSError, ValueError, RuntimeError):
                pass
    atexit._clear()
    root = logging.getLogger()
    for handler in list(root.handlers):  # a runtime's log handler would swallow the script's logging
        root.removeHandler(handler)
    root.setLevel(logging.WARNING)


def _run_script(script_path: str, workdir: str) -> int:
    """Run the script as __main__ the way the interpreter would; its exit code."""
    _fresh_interpreter_state(script_path, workdir)
    code = 0
    try:
        _run_main(script_path)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException as exc:  # noqa: BLE001 - reported as the interpreter reports it
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename != script_path:
            tb = tb.tb_next  # from the script's frame on, as `python script.py` shows it
        traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        code = 1
    for thread in threading.enumerate():  # the interpreter waits for non-daemon threads at exit
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def _run_main(script_path: str) -> None:
    """Run the file as the interpreter runs its script: module `__main__`, no future flags of ours."""
    with open(script_path, "rb") as stream:
        code = compile(stream.read(), script_path, "exec", dont_inherit=True)
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=script_path, __cached__=None, __package__=None, __spec__=None,
                           __loader__=importlib.machinery.SourceFileLoader("__main__", script_path),
                           __builtins__=builtins)
    sys.modules["__main__"] = module
    exec(code, module.__dict__)  # noqa: S102 - the operation's own code, in its own process


def _exit_code(value: object) -> int:
    """SystemExit's code as the interpreter turns it into an exit status."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def _wait(process: subprocess.Popen | ForkedScript, timeout: float | None,
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
            publish: Callable[[dict[str, str]], None] | None = None) -> bool:
    """Run the operation's script with stdout/stderr to its logs; True when it exited 0 in time.

    `publish(logs)` is called with the log files every few seconds while the script runs.
    """
    try:
        script, command = render(node, space)
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
    with open(space.logs["stdout"], "ab") as out, open(space.logs["stderr"], "ab") as err:
        process: subprocess.Popen | ForkedScript
        if command[0] == sys.executable and threading.active_count() == 1:
            process = ForkedScript(script_path, space.workdir, out, err)
        else:
            process = subprocess.Popen(
                [*command, script_path], cwd=space.workdir, stdout=out, stderr=err,
                stdin=subprocess.DEVNULL, start_new_session=True,
            )
        try:
            code = _wait(process, timeout, publish, space)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            space.worker_log(f"JOB FAILED\nTimed out after {timeout} seconds")
            return False
        except Stopped as exc:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            space.worker_log(f"JOB STOPPED\n{exc}")
            return False
    if code != 0:
        space.worker_log(f"JOB FAILED\nProcess returned non-zero value {code}")
        return False
    try:
        postprocess(space)
    except ResourceError as exc:
        space.worker_log(f"JOB FAILED\n{exc}")
        return False
    space.worker_log("JOB SUCCEEDED")
    return True
