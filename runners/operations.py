"""The orchestrator's side of the runner's zygote (runners/zygote.py): start it, hand it operations, watch them.

Kept apart from the zygote's own module, which the zygote runs as a script of the standard library only: what
is here lives in the orchestrating process, which holds the role.
"""
from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time

from . import zygote



class Operation:
    """A running operation, as its orchestrator sees it: what `_wait` and `execute` used of Popen."""

    def __init__(self, control: socket.socket, args: list[str]) -> None:
        self.args = args
        self.returncode: int | None = None
        self.pid: int | None = None  # the operation's process
        self._control = control

    def _read(self, timeout: float | None) -> bool:
        """Read the zygote's next message about this operation; False when none came within `timeout`."""
        if not select.select([self._control], [], [], timeout)[0]:
            return False
        try:
            data = self._control.recv(zygote.MAX_MESSAGE)
        except OSError:
            data = b""
        if not data:  # the zygote died without reporting (killed): the operation is killed with it
            self.returncode = -signal.SIGKILL if self.returncode is None else self.returncode
            self._control.close()
            return True
        message = json.loads(data)
        if "exit" in message:
            self.returncode = int(message["exit"])
            self._control.close()
        else:
            self.pid = message.get("pid")
        return True

    def started(self, timeout: float = 30.0) -> int:
        """The operation's pid, once a spare has taken the request."""
        deadline = time.monotonic() + timeout
        while self.pid is None and self.returncode is None:
            if not self._read(max(0.0, deadline - time.monotonic())):
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.pid or 0

    def wait(self, timeout: float | None = None) -> int:
        """The exit code (negative: killed by that signal) once the operation and all it started are gone."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not self._read(left):
                raise subprocess.TimeoutExpired(self.args, timeout)
        return self.returncode

    def kill(self) -> int:
        """Kill the operation and everything it started; its exit code."""
        if self.returncode is not None:
            return self.returncode
        try:
            self._control.send(b"kill")
        except OSError:
            pass
        try:
            return self.wait(zygote.KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:  # a zygote that does not answer: the operation itself
            if self.pid:
                try:
                    os.kill(self.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            return self.wait()


class Zygote:
    """The orchestrator's handle on its zygote process (thread-safe; started at once, ready when needed).

    `shared`: forks of this process use it too (a warm runner's workers): each request is one message and
    brings its own reply channel, so any number of processes may share one zygote.
    """

    def __init__(self, sys_path: list[str] | None = None, environment: dict[str, str] | None = None,
                 shared: bool = False) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._lock = threading.Lock()
        self._socket = ours
        self.owner = os.getpid()
        self.shared = shared
        env = zygote.operation_environment("/", environment)
        for name in ("HOME", "TMPDIR", "PWD"):
            env.pop(name)
        config = json.dumps({"path": list(sys.path if sys_path is None else sys_path)})
        self.process = subprocess.Popen(
            [sys.executable, "-s", os.path.abspath(zygote.__file__), str(theirs.fileno()), config],
            env=env, cwd="/", stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, pass_fds=[theirs.fileno()],
            start_new_session=True,  # a kill of the orchestrator's group leaves it to clean up after its operations
        )
        theirs.close()
        self.pid = self.process.pid

    def alive(self) -> bool:
        if self.owner == os.getpid():
            return self.process.poll() is None
        try:  # a fork's view of its parent's zygote (a warm runner's workers share the template's)
            os.kill(self.pid, 0)
            return True
        except ProcessLookupError:
            return False

    def spawn(self, kind: str, script_path: str, workdir: str, stdout: int, stderr: int,
              environment: dict[str, str], source: dict | None = None) -> Operation:
        """Start an operation: `kind` python (the script run as __main__) or bash (`bash script`).

        `source` ({"name", "line"}, python only): the script's lines from `line` on are the user's code, compiled
        under `name` and counted from 1, so that its tracebacks point where the user wrote them.
        """
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"kind": kind, "script": script_path, "workdir": workdir, "env": environment,
                              "source": source}).encode()
        try:
            with self._lock:
                socket.send_fds(self._socket, [request], [stdout, stderr, theirs.fileno()])
        finally:
            theirs.close()
        args = [sys.executable, "-u", script_path] if kind == "python" else ["bash", script_path]
        return Operation(ours, args)

    def stop(self) -> None:
        """Close the zygote's socket: it exits, killing what still runs, and its spares exit."""
        self._socket.close()
        if self.owner != os.getpid():
            return  # its owner waits for it
        try:
            self.process.wait(zygote.KILL_GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
