"""The operation's side of the runner: a clean interpreter that forks the operations and supervises them.

The orchestrating part of the runner (runners/handler.py) holds the cloud role: its environment has the
credentials (or, on Fargate, the credential URI), its memory the SDK clients and other users' content. User
code must see none of it, yet a fresh interpreter per operation costs tens of milliseconds. So the
orchestrator starts this module once, as a new interpreter with a clean environment and no descriptor of
its own but one socket; it imports the standard library only (never chalicelib, boto3 or the handler), so
there is nothing in it to steal. It keeps a couple of forks of itself waiting for requests:

    orchestrator ──request (+ stdout, stderr, a reply channel)──▶ spare ═ the operation (python or bash)
         ▲                                                          │ hands its reply channel over
         └────────────────── pid, exit code ─────────── zygote ◀────┘ (its parent, a subreaper)

The operation gets fds 0-2 only, a clean environment (HOME and TMPDIR in its workdir), no capabilities, no
way to gain privileges (no_new_privs) and, when the runner runs as root (a container, CI), a uid of its
own. The zygote kills the operation when the orchestrator asks (timeout, cancel) or goes away, and when it
has exited, everything it started, even what called setsid or double-forked (orphans are re-parented to
the zygote, PR_SET_CHILD_SUBREAPER), before it reports the exit code. The zygote is non-dumpable, so an
operation running under the same uid (Lambda, Fargate) can neither read nor trace it.
"""
from __future__ import annotations

import atexit
import builtins
import ctypes
import gc
import importlib.machinery
import io
import json
import linecache
import os
import resource
import select
import signal
import socket
import sys
import time
import traceback
import types
from typing import Any

# prctl(2) options (linux/prctl.h)
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
PR_CAP_AMBIENT = 47
PR_CAP_AMBIENT_CLEAR_ALL = 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
CLONE_NEWNS = 0x00020000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 0x40000

# What an operation's environment keeps of the runner's: paths, locale, time zone and the interpreter's
# basics (the Lambda interpreter needs LD_LIBRARY_PATH). Nothing named AWS_*, PLYNX_*, ECS_* or LAMBDA_*.
KEPT_VARIABLES = ("PATH", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "TZ", "LD_LIBRARY_PATH", "PYTHONPATH",
                  "PYTHONUNBUFFERED", "PYTHONDONTWRITEBYTECODE", "PYTHONIOENCODING", "PYTHONUTF8")
DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin"
# Operations of a root runner run as uid FIRST_UID + (their pid): one uid per running operation,
# far above the machine's own users, so no two operations (and no file an earlier one left) share one.
FIRST_UID = 1_000_000
MAX_MESSAGE = 1 << 20
KILL_GRACE_SECONDS = 5.0

_libc: Any = None


def _prctl(option: int, arg: int = 0) -> int:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc.prctl(option, ctypes.c_ulong(arg), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))


def _libc_functions() -> None:
    """Look up, once, the libc functions forks call (each lookup in a fork is a dlsym and a new ctypes object)."""
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    for name in ("prctl", "capset", "unshare", "mount"):
        getattr(_libc, name)  # resolved and kept on the CDLL object


def make_undumpable() -> None:
    """Close /proc/<pid>/environ, mem and ptrace of this process to the same uid (an operation's, not root's)."""
    _prctl(PR_SET_DUMPABLE, 0)


def become_subreaper() -> None:
    """Orphaned descendants come back to this process instead of init, so they can be killed."""
    _prctl(PR_SET_CHILD_SUBREAPER, 1)


def operation_environment(workdir: str, source: dict[str, str] | None = None) -> dict[str, str]:
    """What an operation sees of the environment: KEPT_VARIABLES of the runner's, its own HOME and TMPDIR."""
    source = dict(os.environ) if source is None else source
    env = {name: source[name] for name in KEPT_VARIABLES if source.get(name)}
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("LANG", "C.UTF-8")
    env["HOME"] = workdir
    env["TMPDIR"] = os.path.join(workdir, "tmp")
    env["PWD"] = workdir
    return env


def children(pid: int) -> list[int]:
    """The live (or not yet reaped) children of a process."""
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listing:
            return [int(child) for child in listing.read().split()]
    except FileNotFoundError:  # a kernel without CONFIG_PROC_CHILDREN: walk /proc (threads fork too)
        found = []
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as stat:
                        if int(stat.read().rsplit(")", 1)[1].split()[1]) == pid:
                            found.append(int(entry))
                except (OSError, IndexError, ValueError):
                    pass
        return found


def kill_children(keep: frozenset[int] = frozenset()) -> int:
    """SIGKILL every child of this process but `keep`, and every descendant re-parented to it, and reap them.

    With this process a subreaper, a child's own children come back to it when the child dies: killing
    children until none is left kills the whole tree, however deep or detached (setsid, double fork).
    Returns how many it killed.
    """
    me, killed, pause = os.getpid(), 0, 0.0005
    while True:
        targets = [child for child in children(me) if child not in keep]
        for child in targets:
            try:
                os.kill(child, signal.SIGKILL)
                killed += 1
            except ProcessLookupError:
                pass
        reaped = _reap(keep)
        if not targets and not reaped:
            return killed
        if not reaped:
            time.sleep(pause)  # killed, not yet dead: their descendants are re-parented as they exit
            pause = min(pause * 2, 0.02)


def _reap(keep: frozenset[int] = frozenset()) -> int:
    """Reap exited children (not those in `keep`: their owner waits for them)."""
    count = 0
    for child in children(os.getpid()):
        if child in keep:
            continue
        try:
            pid, _ = os.waitpid(child, os.WNOHANG)
        except ChildProcessError:
            continue
        count += bool(pid)
    return count


# -- the zygote process ------------------------------------------------------------------------------------


_KEEP: list = []  # objects whose descriptors were closed under them: never collected, so never closed again


SPARES = 4  # operation processes forked ahead, each waiting for a request (a fan-out takes several at once)


class _Running:
    """An operation the zygote supervises: its process, its uid, its reply channel."""

    def __init__(self, pid: int, control: socket.socket, uid: int | None) -> None:
        self.pid, self.control, self.uid = pid, control, uid
        self.listening = True


def serve(requests: socket.socket) -> None:
    """Keep SPARES operation processes ready and supervise the running ones, until the orchestrator is gone.

    A spare waits on the request socket itself (each request goes to one of them), so starting an operation
    costs one wake-up and no fork. Taking a request, it hands us its reply channel; we report its pid, watch
    it, kill it when asked (timeout, cancel) or when the orchestrator goes away, and when it has exited kill
    whatever it left (re-parented to us: we are a subreaper) before we report its exit code. A child's exit
    wakes us through SIGCHLD (a self-pipe: no pidfd, which a sandbox's seccomp may refuse).
    """
    make_undumpable()
    become_subreaper()
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's ^C goes to the orchestrator, which stops us
    own_uids = os.geteuid() == 0 and operation_uid(os.getpid()) is not None
    if own_uids and _HIDDEN and not _expose(_HIDDEN):
        own_uids = False  # the interpreter stays out of an unprivileged uid's reach: capabilities alone go
    handoff, handoff_theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    woken, wake = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake)
    poller = select.poll()
    poller.register(requests, 0)  # hang-up only: the requests themselves are the spares' to read
    poller.register(handoff, select.POLLIN)
    poller.register(woken, select.POLLIN)
    spares: set[int] = set()
    finished: dict[int, int] = {}  # spares reaped before their hand-over was read: exit status, by pid
    running: dict[int, _Running] = {}  # by pid
    controls: dict[int, _Running] = {}  # by control fd

    def others() -> frozenset[int]:
        return frozenset(spares) | frozenset(running)

    def finish(op: _Running, status: int) -> None:
        running.pop(op.pid, None)
        if op.listening:
            poller.unregister(op.control)
            controls.pop(op.control.fileno(), None)
        _kill_strays(op.uid, keep=others())
        _send(op.control, {"exit": os.waitstatus_to_exitcode(status)})
        op.control.close()

    while True:
        # while one operation runs (a chain), one spare at least: the others are forked once it has ended, so a
        # fork (and its warm-up) takes no core from it; otherwise (none, or a fan-out's several) SPARES at once
        while len(spares) < (1 if len(running) == 1 else SPARES):
            pid = os.fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                signal.signal(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (woken, wake):
                    os.close(fd)
                handoff.detach()
                _spare(requests, handoff_theirs, own_uids)
            spares.add(pid)
        for fd, event in poller.poll(1000):
            try:
                if fd == woken:
                    while True:
                        try:
                            if not os.read(woken, 4096):
                                break
                        except BlockingIOError:
                            break
                elif fd == handoff.fileno():
                    message, fds, _, _ = socket.recv_fds(handoff, 16, 1)
                    pid = int.from_bytes(message[:4], "little")
                    spares.discard(pid)
                    if not fds:
                        continue
                    op = _Running(pid, socket.socket(fileno=fds[0]), operation_uid(pid) if own_uids else None)
                    _send(op.control, {"pid": pid})
                    running[pid] = controls[op.control.fileno()] = op
                    poller.register(op.control, select.POLLIN)
                    if pid in finished:  # it ran, and exited, before we read its hand-over
                        finish(op, finished.pop(pid))
                elif fd == requests.fileno():
                    if event & (select.POLLHUP | select.POLLERR):  # the orchestrator is gone: so is all it ran
                        for pid in running:
                            _kill(pid)
                        kill_children()
                        return
                elif fd in controls:  # a control message: "kill", or the orchestrator's end closed
                    op = controls[fd]
                    try:
                        data = op.control.recv(64)
                    except OSError:
                        data = b""
                    if not data:
                        op.listening = False
                        poller.unregister(op.control)
                        controls.pop(fd, None)
                    if not data or data == b"kill":
                        _kill(op.pid)
            except Exception:  # noqa: BLE001 - one operation's trouble must not end the others' supervision
                os.write(2, traceback.format_exc().encode("utf-8", "backslashreplace"))
        for pid in [*running, *spares]:  # whoever exited: an operation, or a spare (without a request, its
            try:  # orchestrator gone, or so fast that its hand-over is still unread: its status waits for it)
                done, status = os.waitpid(pid, os.WNOHANG)
            except ChildProcessError:
                done, status = pid, 0
            if not done:
                continue
            if pid in running:
                finish(running[pid], status)
            else:
                spares.discard(pid)
                finished[pid] = status
        if not running and len(children(os.getpid())) > len(spares):  # strays nobody claimed
            _kill_strays(None, keep=frozenset(spares))


def _send(control: socket.socket, message: dict) -> None:
    try:
        control.send(json.dumps(message).encode())
    except OSError:  # the orchestrator has gone; nothing to tell
        pass


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _kill_strays(uid: int | None, keep: frozenset[int]) -> None:
    """Kill what an operation left: our children but `keep` (of the operation's own uid, when it has one)."""
    if uid is None:
        kill_children(keep)
        return
    pause = 0.0005
    while True:
        targets = [child for child in children(os.getpid()) if child not in keep and _uid(child) in (uid, None)]
        if not targets:
            return
        for child in targets:
            _kill(child)
        reaped = 0
        for child in targets:
            try:
                reaped += bool(os.waitpid(child, os.WNOHANG)[0])
            except ChildProcessError:
                reaped += 1
        if not reaped:
            time.sleep(pause)  # killed, not yet dead: their descendants are re-parented as they exit
            pause = min(pause * 2, 0.02)


def _uid(pid: int) -> int | None:
    """A process's real uid (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return None


def operation_uid(pid: int) -> int | None:
    """A uid for the operation of a root runner: one no user of the machine has, mapped in this namespace."""
    try:
        with open("/proc/self/uid_map", encoding="ascii") as mapping:
            ranges = [(int(inside), int(inside) + int(count)) for inside, _, count in
                      (line.split() for line in mapping if line.strip())]
    except (OSError, ValueError):
        ranges = [(0, 1 << 32)]
    best = None
    for low, high in ranges:
        high = min(high, (1 << 32) - 2)  # (uid_t)-1 means "unchanged" to setresuid
        start = max(low, FIRST_UID) if high - max(low, FIRST_UID) > 1 << 16 else max(low, 1000)
        if high - start > 1 and (best is None or high - start > best[1] - best[0]):
            best = (start, high)
    if best is None:
        return None
    return best[0] + pid % (best[1] - best[0])


_HIDDEN: dict[str, list[str]] = {}  # closed directories (mode o-x) on the way to what operations run, see below


def hidden_paths(paths: list[str]) -> dict[str, list[str]]:
    """Directories other users cannot enter on the way to `paths`, and the entries of each that lead there.

    The interpreter, its packages and the tools on PATH must be in reach of an operation's own uid; a
    python that root installed under /root (pyenv does) is not.
    """
    hidden: dict[str, set[str]] = {}
    for path in paths:
        try:
            real = os.path.realpath(path)
        except OSError:
            continue
        if not os.path.exists(real):
            continue
        parts = real.strip("/").split("/")
        for depth in range(1, len(parts)):
            folder = "/" + "/".join(parts[:depth])
            try:
                closed = not os.stat(folder).st_mode & 0o001
            except OSError:
                break
            if closed:  # (and every closed one below it: each gets its own tmpfs, outermost first)
                hidden.setdefault(folder, set()).add(parts[depth])
    return {folder: sorted(hidden[folder]) for folder in sorted(hidden, key=lambda f: f.count("/"))}


def _expose(hidden: dict[str, list[str]]) -> bool:
    """In a mount namespace of the operation's own, show it of each closed directory only what leads to its tools.

    A tmpfs (mode 0711) over the closed directory, the entries that lead to the interpreter bound back
    from the original: the rest of it (root's home: its keys, its credentials) is not there at all.
    False when it cannot be done (no CAP_SYS_ADMIN): the caller keeps the uid the tools need.
    """
    libc = ctypes.CDLL(None, use_errno=True) if _libc is None else _libc
    if libc.unshare(CLONE_NEWNS) != 0:
        return False
    if libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    for folder, entries in hidden.items():
        original = os.open(folder, os.O_PATH | os.O_DIRECTORY)
        try:
            if libc.mount(b"tmpfs", folder.encode(), b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0711,size=64k") != 0:
                return False
            for entry in entries:
                source, target = f"/proc/self/fd/{original}/{entry}", os.path.join(folder, entry)
                if os.path.isdir(source):
                    os.mkdir(target, 0o711)
                else:
                    os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o600))
                if libc.mount(source.encode(), target.encode(), None, MS_BIND | MS_REC, None) != 0:
                    return False
        finally:
            os.close(original)
    return True


def _prepare_workdir(workdir: str, uid: int | None) -> None:
    """Give the operation its temp dir, and (as root) its workdir, to its own uid."""
    os.makedirs(os.path.join(workdir, "tmp"), exist_ok=True)
    if uid is None:
        return
    for folder, directories, files in os.walk(workdir):
        os.lchown(folder, uid, uid)
        for name in directories + files:
            os.lchown(os.path.join(folder, name), uid, uid)


def _drop_privileges(uid: int | None) -> None:
    """No capabilities, no way to gain any (setuid binaries, file capabilities); as root, the operation's own uid."""
    if uid is not None:
        with open("/proc/sys/kernel/cap_last_cap", encoding="ascii") as last:
            for capability in range(int(last.read()) + 1):
                _prctl(PR_CAPBSET_DROP, capability)
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)  # the permitted and effective capabilities go with the root uid
        try:  # per uid: a fork bomb of the operation's uid stops here (the zygote kills what it made)
            resource.setrlimit(resource.RLIMIT_NPROC, (4096, 4096))
        except (OSError, ValueError):
            pass
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    _capset_none()
    if _prctl(PR_SET_NO_NEW_PRIVS, 1) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS) failed")


_CAP_HEADER, _CAP_DATA = ctypes.c_uint32 * 2, ctypes.c_uint32 * 6  # made once, in the zygote, not per operation


def _capset_none() -> None:
    """Empty effective, permitted and inheritable capability sets (a root runner that could not change uid)."""
    libc = ctypes.CDLL(None, use_errno=True) if _libc is None else _libc
    if libc.capset(_CAP_HEADER(_LINUX_CAPABILITY_VERSION_3, 0), _CAP_DATA()) != 0:
        raise OSError(ctypes.get_errno(), "capset failed")


# What a spare compiles and runs while it waits: an operation's shape (the preamble's literals, a line of code), no
# user's content. A fork's first compile cost 1.5 ms (the parser's and the allocator's pages, copied on first write);
# done ahead, an operation's compile takes 0.1 ms.
_WARM_UP = ("import json\ninputs = input = {\"in\": [\"/tmp/plynx-0/i_0_0_in\"]}\n"
            "outputs = output = {\"out\": \"/tmp/plynx-0/o_0_out\"}\nparams = {\"name\": \"value\", \"n\": 1}\n"
            "logs = {\"worker\": \"/tmp/plynx-0/l_worker\"}\n# user code\ntext = str(params) + json.dumps(outputs)\n")


def _warm_up() -> None:
    """In a spare, before it takes a request: what every operation does first (parse its request, split, compile
    and run its script, wrap its std streams), on nothing of anyone's, so the operation does not pay for it."""
    request = json.loads(json.dumps({"kind": "python", "script": "/tmp/plynx-0/exec.py", "workdir": "/tmp/plynx-0",
                                     "env": operation_environment("/tmp/plynx-0"), "source": {"name": "x", "line": 7}}))
    lines = io.StringIO(_WARM_UP, newline=None).readlines()
    module = types.ModuleType("__warm_up__")
    for text in ("".join(lines[:request["source"]["line"] - 1]), "".join(lines[request["source"]["line"] - 1:])):
        exec(compile(text, "<warm-up>", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
    with open(os.devnull, "rb") as null:
        io.TextIOWrapper(io.FileIO(null.fileno(), "r", closefd=False), encoding="utf-8").close()


def _spare(requests: socket.socket, handoff: socket.socket, own_uids: bool) -> None:
    """In the zygote's child: wait for a request, then become the operation (never returns)."""
    code = 1
    try:
        uid = operation_uid(os.getpid()) if own_uids else None
        if not select.select([requests], [], [], 0)[0]:  # a request waiting (a burst): served cold, at once
            try:
                _warm_up()
            except Exception:  # noqa: BLE001 - only a head start: a spare that could not warm up still serves
                pass
        message, fds, _, _ = socket.recv_fds(requests, MAX_MESSAGE, 3)
        if not message:  # the orchestrator is gone
            code = 0
            return
        stdout, stderr, control = fds
        socket.send_fds(handoff, [os.getpid().to_bytes(4, "little")], [control])  # the zygote supervises
        os.close(control)
        request = json.loads(message)
        os.setsid()  # its own session and process group, no controlling terminal
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)  # from here on, what goes wrong is in the operation's own stderr log
        _prepare_workdir(request["workdir"], uid)
        for sock in (requests, handoff):
            sock.detach()  # closed below: never closed again when collected (the fd may be the script's by then)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))  # as Popen's close_fds: nothing of the runner's
        _drop_privileges(uid)
        os.umask(0o077)
        workdir, env = request["workdir"], request["env"]
        os.chdir(workdir)
        if request["kind"] == "bash":
            for number in (signal.SIGINT, signal.SIGPIPE, signal.SIGXFSZ):  # as Popen's restore_signals
                signal.signal(number, signal.SIG_DFL)  # (an ignored signal stays ignored across exec)
            os.execvpe("bash", ["bash", request["script"]], env)
        _prctl(PR_SET_DUMPABLE, 1)  # its own /proc entries, as any process it would exec would have
        os.environ.clear()
        os.environ.update(env)
        code = _run_script(request["script"], workdir, request.get("source"))
    except BaseException:  # noqa: BLE001 - the child must never return into the zygote's loop
        try:
            os.write(2, traceback.format_exc().encode("utf-8", "backslashreplace"))
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


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
    sys.argv = [script_path]
    sys.path[0] = os.path.dirname(script_path)
    # The zygote is a fresh interpreter that sets no handler but SIGINT's (ignored) and SIGCHLD's (reset in
    # the spare): nothing else differs.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    atexit._clear()


def _run_script(script_path: str, workdir: str, source: dict | None = None) -> int:
    """Run the script as __main__ the way the interpreter would; its exit code.

    `source` ({"name", "line"}): the lines from `line` on run as a file of that name, counted from 1.
    """
    _fresh_interpreter_state(script_path, workdir)
    own = {script_path, source["name"]} if source else {script_path}
    code = 0
    try:
        _run_main(script_path, source)
    except SystemExit as exc:
        code = _exit_code(exc.code)
    except BaseException as exc:  # noqa: BLE001 - reported as the interpreter reports it
        tb = exc.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename not in own:
            tb = tb.tb_next  # from the script's frame on, as `python script.py` shows it
        if tb is None and isinstance(exc, SyntaxError):  # the script does not compile: the interpreter shows
            traceback.print_exception(type(exc), exc, None)  # where, with no traceback of its own
        else:
            traceback.print_exception(type(exc), exc, tb or exc.__traceback__)
        code = 1
    # The interpreter waits for non-daemon threads at exit, when the operation imported threading. The zygote never
    # does: each fork of a process that has it runs threading's after-fork hook (130 of its pages copied, 0.4 ms).
    threading = sys.modules.get("threading")
    for thread in threading.enumerate() if threading is not None else ():
        if thread is not threading.current_thread() and not thread.daemon:
            thread.join()
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    return code


def _run_main(script_path: str, source: dict | None = None) -> None:
    """Run the file as the interpreter runs its script: module `__main__`, no future flags of ours.

    With `source`, the file runs as two parts in the one module: the runner's preamble (lines before
    `source["line"]`) under the file's name, then the user's code under `source["name"]` from its line 1,
    its text in linecache so that tracebacks (and inspect, warnings) show its lines.
    """
    with open(script_path, "rb") as stream:
        data = stream.read()
    parts = [(data, script_path)]
    if source:
        lines = io.StringIO(data.decode("utf-8"), newline=None).readlines()  # lines as the tokenizer counts them
        head, own = "".join(lines[:source["line"] - 1]), "".join(lines[source["line"] - 1:])
        linecache.cache[source["name"]] = (len(own), None, lines[source["line"] - 1:], source["name"])
        parts = [(head, script_path), (own, source["name"])]
    codes = [compile(text, name, "exec", dont_inherit=True) for text, name in parts]  # nothing runs that won't compile
    module = types.ModuleType("__main__")
    module.__dict__.update(__file__=script_path, __cached__=None, __package__=None, __spec__=None,
                           __loader__=importlib.machinery.SourceFileLoader("__main__", script_path),
                           __builtins__=builtins)
    sys.modules["__main__"] = module
    for code in codes:
        exec(code, module.__dict__)  # noqa: S102 - the operation's own code, in its own process


def _exit_code(value: object) -> int:
    """SystemExit's code as the interpreter turns it into an exit status."""
    if value is None:
        return 0
    if isinstance(value, int):
        return value & 0xFF
    print(value, file=sys.stderr)
    return 1


def main(argv: list[str]) -> int:
    """`python runners/zygote.py FD CONFIG`: the zygote process (started by Zygote, never by hand)."""
    config = json.loads(argv[1])
    sys.path[:] = config["path"]  # the orchestrator's import path, so operations import what they did before
    _libc_functions()
    if os.geteuid() == 0:
        _HIDDEN.update(hidden_paths([sys.executable, sys.prefix, sys.base_prefix, *sys.path,
                                     *os.environ.get("PATH", "").split(":")]))
    gc.collect()
    gc.freeze()  # what every fork shares stays shared: no collection in an operation touches (so copies) it
    serve(socket.socket(fileno=int(argv[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
