"""Operations forked from the runner's clean zygote behave as `python -u script.py` (or `bash script`) in a
session, an environment and (as root) a uid of their own, and leave nothing running when they end."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from runners import executors, operations, zygote


@pytest.fixture(scope="module")
def forks() -> Iterator[operations.Zygote]:
    started = operations.Zygote(sys.path)
    yield started
    started.stop()


@pytest.fixture()
def workdir() -> Iterator[Path]:
    """A workdir as the runner makes them (under the temp dir, not pytest's private tree)."""
    path = Path(tempfile.mkdtemp(prefix="plynx-test-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


def run(forks: operations.Zygote, workdir: Path, code: str, timeout: float | None = 60,
        kind: str = "python") -> tuple[Any, str, str, operations.Operation]:
    script = workdir / ("exec.py" if kind == "python" else "exec.sh")
    script.write_text(textwrap.dedent(code))
    with open(workdir / "out", "wb") as out, open(workdir / "err", "wb") as err:
        process = forks.spawn(kind, str(script), str(workdir), out.fileno(), err.fileno(),
                              zygote.operation_environment(str(workdir)))
    try:
        code_or_timeout: Any = process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        code_or_timeout = "timeout"
    return code_or_timeout, (workdir / "out").read_text(), (workdir / "err").read_text(), process


def gone(pid: int) -> bool:
    """True once the process no longer exists (not even as a zombie)."""
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.02)
    return False


def test_runs_as_main_in_its_workdir_with_its_own_streams(forks: operations.Zygote, workdir: Path) -> None:
    code, out, err, process = run(forks, workdir, """
        import os, sys
        print(__name__, sys.argv[0] == __file__, os.getcwd(), os.getpgid(0) == os.getpid() == os.getsid(0))
        print("to stderr", file=sys.stderr)
        print(sys.stdin.read() == "", os.getpid())
    """)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == f"__main__ True {workdir} True"
    assert err == "to stderr\n"
    assert lines[1] == f"True {process.pid}" and process.pid not in (os.getpid(), forks.pid)


def test_the_script_compiles_as_the_interpreter_compiles_it(forks: operations.Zygote, workdir: Path) -> None:
    code, out, _, _ = run(forks, workdir, """
        import pickle, sys
        def f(x: int): pass
        class Point:
            pass
        print(f.__annotations__["x"] is int, sys.modules["__main__"].Point is Point, type(pickle.loads(pickle.dumps(Point()))).__name__)
    """)
    assert code == 0 and out == "True True Point\n"  # no future flags of the runner's; __main__ is the script


def test_exit_codes_are_the_interpreters(forks: operations.Zygote, workdir: Path) -> None:
    assert run(forks, workdir, "raise SystemExit(3)")[0] == 3
    code, _, err, _ = run(forks, workdir, "raise SystemExit('bye')")
    assert code == 1 and err == "bye\n"
    code, _, err, _ = run(forks, workdir, "x = 1\n1 / 0\n")
    assert code == 1
    assert err.startswith("Traceback (most recent call last):\n") and f'File "{workdir}/exec.py", line 2' in err
    assert "zygote" not in err and err.rstrip().endswith("ZeroDivisionError: division by zero")
    assert run(forks, workdir, "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")[0] == -signal.SIGKILL
    assert run(forks, workdir, "echo out; echo err >&2; exit 4\n", kind="bash")[:3] == (4, "out\n", "err\n")


def test_the_users_code_runs_under_its_own_name_from_its_own_line_1(forks: operations.Zygote, workdir: Path) -> None:
    preamble = "import json\nvalue = json.loads('41')\ndel json\n# User code starts here:\n"
    user = "def check(n):  # \x0c, \u2028: not line ends to python\r\n    return 1 / n\nprint(value + 1, __name__)\ncheck(0)\n"
    script = workdir / "exec.py"
    script.write_bytes((preamble + user).encode())
    with open(workdir / "out", "wb") as out, open(workdir / "err", "wb") as err:
        process = forks.spawn("python", str(script), str(workdir), out.fileno(), err.fileno(),
                              zygote.operation_environment(str(workdir)), {"name": "operation Sum", "line": 5})
    assert process.wait(60) == 1
    assert (workdir / "out").read_text() == "42 __main__\n"  # one module: the user's code sees the preamble's names
    err = (workdir / "err").read_text()
    assert err.startswith("Traceback (most recent call last):\n"
                          '  File "operation Sum", line 4, in <module>\n    check(0)\n'
                          '  File "operation Sum", line 2, in check\n    return 1 / n\n'), err  # the user's lines
    assert err.endswith("\nZeroDivisionError: division by zero\n") and "exec.py" not in err and "zygote" not in err


def test_a_syntax_error_in_the_users_code_names_its_line_and_nothing_runs(forks: operations.Zygote,
                                                                          workdir: Path) -> None:
    script = workdir / "exec.py"
    script.write_text("print('preamble ran')\n# User code starts here:\nfrom __future__ import annotations\nx = (\n")
    with open(workdir / "out", "wb") as out, open(workdir / "err", "wb") as err:
        process = forks.spawn("python", str(script), str(workdir), out.fileno(), err.fileno(),
                              zygote.operation_environment(str(workdir)), {"name": "operation Broken", "line": 3})
    assert process.wait(60) == 1 and (workdir / "out").read_text() == ""
    err = (workdir / "err").read_text()
    assert err.startswith('  File "operation Broken", line 2\n') and "SyntaxError" in err, err
    assert "Traceback" not in err and "zygote" not in err  # as `python script.py` shows a script that does not compile


def test_exit_waits_for_threads_and_runs_atexit(forks: operations.Zygote, workdir: Path) -> None:
    code, out, _, _ = run(forks, workdir, """
        import atexit, threading, time
        atexit.register(lambda: print("atexit"))
        threading.Thread(target=lambda: (time.sleep(0.2), print("thread"))).start()
    """)
    assert code == 0 and out == "thread\natexit\n"


def test_an_operation_that_imports_no_threading_has_none(forks: operations.Zygote, workdir: Path) -> None:
    # the zygote never imports it: every fork of a process that has it pays threading's after-fork hook
    code, out, err, _ = run(forks, workdir, """
        import sys
        print("threading" in sys.modules)
    """)
    assert code == 0, err
    assert out == "False\n"


def test_logging_starts_unconfigured(forks: operations.Zygote, workdir: Path) -> None:
    import logging

    logging.getLogger().addHandler(logging.NullHandler())  # as a runtime's own log handler would be
    try:
        code, _, err, _ = run(forks, workdir, "import logging\nlogging.warning('careful')\n")
    finally:
        logging.getLogger().handlers.pop()
    assert code == 0 and err == "WARNING:root:careful\n"


def test_the_environment_holds_no_secret_of_the_runners(forks: operations.Zygote, workdir: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                 "PLYNX_SECRET_KEY"):
        monkeypatch.setenv(name, "runner-only")
    environment = zygote.operation_environment(str(workdir))
    assert set(environment) <= {*zygote.KEPT_VARIABLES, "HOME", "TMPDIR", "PWD"}
    (workdir / "exec.py").write_text("import os\nprint(sorted(os.environ.items()))\n")
    with open(workdir / "out", "wb") as out:
        process = forks.spawn("python", str(workdir / "exec.py"), str(workdir), out.fileno(), out.fileno(),
                              environment)
    assert process.wait(60) == 0
    seen = dict(eval((workdir / "out").read_text()))  # noqa: S307 - our own test's output
    assert seen["HOME"] == str(workdir) and seen["TMPDIR"] == f"{workdir}/tmp" and os.path.isdir(seen["TMPDIR"])
    assert "runner-only" not in seen.values() and not any(name.startswith(("AWS_", "PLYNX_")) for name in seen)


def test_no_capabilities_no_privileges_and_as_root_a_uid_of_its_own(forks: operations.Zygote, workdir: Path) -> None:
    code, out, err, process = run(forks, workdir, """
        import os
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(os.getuid(), os.getgid(), os.getgroups(), *(int(status[k], 16) for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb")),
              int(status["NoNewPrivs"]), oct(os.umask(0)))
        open("written-by-the-operation", "w").write("x")
    """)
    assert code == 0, err
    uid, gid, groups, *rest = out.split(" ", 3)
    assert rest[0].split() == ["0", "0", "0", "0", "1", "0o77"]
    if os.geteuid() == 0:
        assert int(uid) == int(gid) == zygote.operation_uid(process.pid) >= zygote.FIRST_UID
        assert groups == "[]" and (workdir / "written-by-the-operation").stat().st_uid == int(uid)
    else:
        assert int(uid) == os.getuid()


def test_a_timeout_kills_the_whole_tree_even_what_left_the_session(forks: operations.Zygote, workdir: Path) -> None:
    code, out, _, _ = run(forks, workdir, """
        import os, subprocess, time
        child = subprocess.Popen(["sleep", "60"])
        detached = subprocess.Popen(["setsid", "sleep", "60"])
        print(child.pid, detached.pid, flush=True)
        if os.fork() == 0:  # a double fork: the grandchild is re-parented when its parent exits
            os.setsid()
            if os.fork() == 0:
                print(os.getpid(), flush=True)
                time.sleep(60)
            os._exit(0)
        time.sleep(60)
    """, timeout=1)
    assert code == "timeout"
    pids = [int(pid) for pid in out.split()]
    assert len(pids) == 3 and all(gone(pid) for pid in pids)


def test_what_it_started_is_killed_when_it_ends_and_does_not_hold_the_wait(forks: operations.Zygote,
                                                                           workdir: Path) -> None:
    code, out, _, _ = run(forks, workdir, """
        import os, time
        child = os.fork()
        if child == 0:
            time.sleep(30)
            os._exit(0)
        print(child, "parent done")
    """, timeout=20)
    assert code == 0 and out.endswith(" parent done\n")
    assert gone(int(out.split()[0]))
    code, out, _, _ = run(forks, workdir, "(setsid sleep 60 &) ; echo $!; sleep 60 &\necho $!\n", kind="bash", timeout=20)
    assert code == 0 and all(gone(int(pid)) for pid in out.split() if pid)


def test_the_script_gets_none_of_the_runners_open_files(forks: operations.Zygote, workdir: Path) -> None:
    secret = open(workdir / "runner-file", "w")  # noqa: SIM115 - an open file of the runner's
    try:
        code, out, err, _ = run(forks, workdir, """
            import os
            print(sorted(int(fd) for fd in os.listdir("/proc/self/fd")))
        """)
    finally:
        secret.close()
    assert code == 0, err
    assert out.strip() == "[0, 1, 2, 3]", out  # 3: the listing itself


def test_execute_runs_python_and_bash_through_the_zygote(workdir: Path) -> None:
    node = {"base_node_name": "python", "title": "t", "inputs": [], "outputs": [{"name": "out", "file_type": "file"}],
            "parameters": [{"name": "_cmd", "parameter_type": "code",
                            "value": {"mode": "python", "value": "import os\nopen(outputs['out'], 'w').write(str(os.getppid()))\n"}}]}
    space = executors.prepare(node, {}, str(workdir), lambda *_: None)
    assert executors.execute(node, space, timeout=60)
    parent = int(Path(space.outputs["out"]).read_text())
    assert parent == executors._zygote().pid != os.getpid()  # a fork of the clean zygote, not of this process
    bash = {**node, "base_node_name": "bash_jinja2", "parameters": [
        {"name": "_cmd", "parameter_type": "code", "value": {"mode": "sh", "value": "echo -n bash > {{ outputs.out }}\n"}}]}
    space = executors.prepare(bash, {}, str(workdir), lambda *_: None)
    assert executors.execute(bash, space, timeout=60)
    assert Path(space.outputs["out"]).read_text() == "bash"


def test_signals_are_a_fresh_interpreters_and_bashs(forks: operations.Zygote, workdir: Path) -> None:
    code, out, err, _ = run(forks, workdir, """
        import signal
        print(signal.getsignal(signal.SIGINT) is signal.default_int_handler,
              [signal.getsignal(s) for s in (signal.SIGPIPE, signal.SIGXFSZ, signal.SIGCHLD, signal.SIGTERM)])
    """)
    assert code == 0, err
    assert out == "True [<Handlers.SIG_IGN: 1>, <Handlers.SIG_IGN: 1>, <Handlers.SIG_DFL: 0>, <Handlers.SIG_DFL: 0>]\n"
    # bash gets default dispositions, as from Popen: `yes` dies of SIGPIPE quietly, ^C is not ignored
    code, out, err, _ = run(forks, workdir, "yes | head -1\ngrep -E '^Sig(Ign|Cgt)' /proc/self/status\n",
                            kind="bash")
    assert code == 0 and err == "" and out.splitlines()[0] == "y", (out, err)
    ignored = int(out.split("SigIgn:")[1].split()[0], 16)
    assert not ignored & (1 << (signal.SIGINT - 1) | 1 << (signal.SIGPIPE - 1)), out


def test_a_spare_warms_up_on_nothing_an_operation_sees(forks: operations.Zygote, workdir: Path) -> None:
    zygote._warm_up()  # it runs (a spare would swallow its failure and serve cold)
    code, out, err, _ = run(forks, workdir, """
        import sys
        print(sorted(name for name in sys.modules if "warm" in name), [k for k in globals() if k in ("text", "params")])
    """)
    assert code == 0, err
    assert out == "[] []\n"


def test_more_operations_at_once_than_spares_all_run_together(forks: operations.Zygote) -> None:
    """While one operation runs the zygote keeps one spare (the rest are forked after it), with several it
    forks SPARES back at once: a burst wider than SPARES runs all at once, none waits for another's end."""
    folders = [Path(tempfile.mkdtemp(prefix="plynx-test-")) for _ in range(zygote.SPARES + 3)]
    meeting = Path(tempfile.mkdtemp(prefix="plynx-test-"))
    meeting.chmod(0o1777)  # as /tmp: each operation (a uid of its own, as root) writes its own file there
    barrier = meeting / "arrived"
    try:
        running = []
        for folder in folders:
            script = folder / "exec.py"
            script.write_text(textwrap.dedent(f"""
                import os, time
                open({str(barrier)!r} + str(os.getpid()), "w").close()
                deadline = time.monotonic() + 30
                while len(os.listdir({str(meeting)!r})) < {len(folders)}:
                    assert time.monotonic() < deadline, "not all at once"
                    time.sleep(0.01)
            """))
            with open(folder / "out", "wb") as out, open(folder / "err", "wb") as err:
                running.append(forks.spawn("python", str(script), str(folder), out.fileno(), err.fileno(),
                                           zygote.operation_environment(str(folder))))
        codes = [process.wait(60) for process in running]
        assert codes == [0] * len(folders), [(folder / "err").read_text() for folder in folders]
    finally:
        for folder in [*folders, meeting]:
            shutil.rmtree(folder, ignore_errors=True)
