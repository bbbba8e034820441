"""Python operations run as a fork of the warm runner behave as `python -u script.py` in their own session."""
from __future__ import annotations

import os
import signal
import subprocess
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from runners import executors
from runners.executors import ForkedScript


def run(tmp_path: Path, code: str, timeout: float | None = 60) -> tuple[Any, str, str, int]:
    script = tmp_path / "exec.py"
    script.write_text(textwrap.dedent(code))
    with open(tmp_path / "out", "wb") as out, open(tmp_path / "err", "wb") as err:
        process = ForkedScript(str(script), str(tmp_path), out, err)
        try:
            code_or_timeout: Any = process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
            code_or_timeout = "timeout"
    return code_or_timeout, (tmp_path / "out").read_text(), (tmp_path / "err").read_text(), process.pid


def test_runs_as_main_in_its_workdir_with_its_own_streams(tmp_path: Path) -> None:
    code, out, err, pid = run(tmp_path, """
        import os, sys
        print(__name__, sys.argv[0] == __file__, os.getcwd(), os.getpgid(0) == os.getpid() != os.getppid())
        print("to stderr", file=sys.stderr)
        print(sys.stdin.read() == "")
    """)
    assert code == 0
    assert out.splitlines() == [f"__main__ True {tmp_path} True", "True"]
    assert err == "to stderr\n"
    assert pid != os.getpid()


def test_the_script_compiles_as_the_interpreter_compiles_it(tmp_path: Path) -> None:
    code, out, _, _ = run(tmp_path, """
        import pickle, sys
        def f(x: int): pass
        class Point:
            pass
        print(f.__annotations__["x"] is int, sys.modules["__main__"].Point is Point, type(pickle.loads(pickle.dumps(Point()))).__name__)
    """)
    assert code == 0 and out == "True True Point\n"  # no future flags of the runner's; __main__ is the script


def test_exit_codes_are_the_interpreters(tmp_path: Path) -> None:
    assert run(tmp_path, "raise SystemExit(3)")[0] == 3
    code, _, err, _ = run(tmp_path, "raise SystemExit('bye')")
    assert code == 1 and err == "bye\n"
    code, _, err, _ = run(tmp_path, "x = 1\n1 / 0\n")
    assert code == 1
    assert err.startswith("Traceback (most recent call last):\n") and f'File "{tmp_path}/exec.py", line 2' in err
    assert "runpy" not in err and err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert run(tmp_path, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")[0] == -signal.SIGKILL


def test_exit_waits_for_threads_and_runs_atexit(tmp_path: Path) -> None:
    code, out, _, _ = run(tmp_path, """
        import atexit, threading, time
        atexit.register(lambda: print("atexit"))
        threading.Thread(target=lambda: (time.sleep(0.2), print("thread"))).start()
    """)
    assert code == 0 and out == "thread\natexit\n"


def test_logging_starts_unconfigured(tmp_path: Path) -> None:
    import logging

    logging.getLogger().addHandler(logging.NullHandler())  # as a runtime's own log handler would be
    try:
        code, _, err, _ = run(tmp_path, "import logging\nlogging.warning('careful')\n")
    finally:
        logging.getLogger().handlers.pop()
    assert code == 0 and err == "WARNING:root:careful\n"


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    code, out, _, _ = run(tmp_path, """
        import subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        print(child.pid, flush=True)
        time.sleep(60)
    """, timeout=1)
    assert code == "timeout"
    grandchild = int(out.split()[0])
    with pytest.raises(ProcessLookupError):
        for _ in range(200):  # the group's kill reached the grandchild too: it is gone once init reaps it
            os.kill(grandchild, 0)
            time.sleep(0.05)


def test_a_grandchild_holding_the_streams_does_not_hold_the_wait(tmp_path: Path) -> None:
    code, out, _, _ = run(tmp_path, """
        import os, time
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        print(child, "parent done")
    """, timeout=20)
    os.kill(int(out.split()[0]), signal.SIGKILL)
    assert code == 0 and out.endswith(" parent done\n")


def test_execute_forks_python_when_single_threaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    monkeypatch.setattr(executors, "ForkedScript", lambda *a, **k: started.append("fork") or ForkedScript(*a, **k))
    monkeypatch.setattr(executors.threading, "active_count", lambda: 1)
    node = {"base_node_name": "python", "title": "t", "inputs": [], "outputs": [{"name": "out", "file_type": "file"}],
            "parameters": [{"name": "_cmd", "parameter_type": "code",
                            "value": {"mode": "python", "value": "open(outputs['out'], 'w').write('done')\n"}}]}
    space = executors.prepare(node, {}, str(tmp_path), lambda *_: None)
    assert executors.execute(node, space, timeout=60)
    assert started == ["fork"]
    assert Path(space.outputs["out"]).read_text() == "done"
    monkeypatch.setattr(executors.threading, "active_count", lambda: 2)  # threads: a fresh interpreter instead
    space = executors.prepare(node, {}, str(tmp_path), lambda *_: None)
    assert executors.execute(node, space, timeout=60) and started == ["fork"]


def test_the_script_gets_none_of_the_runners_open_files(tmp_path: Path) -> None:
    secret = open(tmp_path / "runner-file", "w")  # noqa: SIM115 - an open file of the runner's
    try:
        code, out, err, _ = run(tmp_path, f"""
            import os
            print(sorted(int(fd) for fd in os.listdir("/proc/self/fd")) [:3], {secret.fileno()} in
                  [int(fd) for fd in os.listdir("/proc/self/fd")])
        """)
    finally:
        secret.close()
    assert code == 0, err
    assert out.split("]")[0] == "[0, 1, 2" and out.strip().endswith("False"), out
