"""Engine overhead on a warm local stack: trivial operations, from APPROVE to SUCCESS.

    .venv/bin/python bench/overhead.py [--runs 5] [--persist] [--breakdown] [--api http://localhost:5005/plynx/api/v0]

Prints the median wall time of: a chain of 20 trivial python operations; a fan-out of 20 plus a
join; the re-run of a fully cached 100-node graph (and how many runner invocations it made, when
the stack runs in this process). Without --api it starts its own stack on free ports; --persist gives it a
data dir, as `make up` has: every acknowledged write is then journaled and synced (infra/local/journal.py).
--breakdown (own stack only) also prints where each scenario's time went, per operation: moto's requests by
kind, the runner's invocations by action and, inside them, its SDK requests and the operation's process
(infra/local/breakdown.py), and the stack process's CPU.
Each scenario's line ends with a CPU probe taken before each of its runs (`probe`): this kind of shared VM runs
1.5-2x slower for seconds or minutes at a time; figures for "a quiet machine" are those whose probes are near
their best (about 10 ms here).
For reference (issue 4): Metaflow's local runtime takes 4.7 s for a 22-step chain, 4.6 s for a
20-way foreach on this kind of machine.
"""
from __future__ import annotations

import argparse
import datetime
import os
import secrets
import statistics
import subprocess
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation

IN = {"name": "in", "file_types": ["file"], "min_count": 0, "max_count": -1}
TRIVIAL = "open(outputs['out'], 'w').write(params['salt'])\n"


class Bench:
    def __init__(self, api: str, same_clock: bool = False) -> None:
        self.api = api
        self.same_clock = same_clock
        self.session = requests.Session()
        self.session.auth = ("default", "")
        body = {"action": "APPROVE", "node": operation("python", "trivial", TRIVIAL, inputs=[IN], outputs=["out"],
                                                       params={"salt": ""})}
        self.op = self.session.post(f"{api}/nodes", json=body, timeout=30).json()["node"]

    def node(self, salt: str, *deps: dict) -> dict:
        placed = instance(self.op, **{"in": [(d, "out") for d in deps]})
        for parameter in placed["parameters"]:
            if parameter["name"] == "salt":
                parameter["value"] = salt  # a new salt: not in the cache
        return placed

    def run(self, nodes: list[dict] | None = None, graph_id: str | None = None) -> tuple[float, str]:
        """Seconds from the APPROVE request to SUCCESS, as the REST API shows it.

        On the local stack (same clock) the end is the graph's `update_date`, which the run stamps as it
        records SUCCESS: polling can then be slow (every 0.5 s, the first one too), so that it does not take
        the interpreter lock from the stack it measures (a GET of a 22-node graph costs the stack ~12 ms of
        CPU: at 10 polls a second, a quarter of what a chain of 20 cost it, --breakdown showed). Against --api
        the end is when polling (every 20 ms) sees SUCCESS.
        """
        start, started_at = time.perf_counter(), time.time()
        if graph_id is None:
            body = {"graph": graph("overhead", nodes or []), "actions": ["SAVE", "APPROVE"]}
            graph_id = self.session.post(f"{self.api}/graphs", json=body, timeout=60).json()["graph"]["_id"]
        else:
            self.session.post(f"{self.api}/graphs/{graph_id}/approve", timeout=60).raise_for_status()
        while True:
            if self.same_clock:
                time.sleep(0.5)  # the first poll too: at once, it took the lock from the run's preparation
            data = self.session.get(f"{self.api}/graphs/{graph_id}", timeout=30).json()["data"]
            status = data["graph_running_status"]
            if status in ("SUCCESS", "FAILED", "CANCELED"):
                assert status == "SUCCESS", status
                if not self.same_clock:
                    return time.perf_counter() - start, graph_id
                stamped = datetime.datetime.strptime(data["update_date"], "%Y-%m-%d %H:%M:%S.%fZ")
                return stamped.replace(tzinfo=datetime.timezone.utc).timestamp() - started_at, graph_id
            if not self.same_clock:
                time.sleep(0.02)

    def chain(self, length: int) -> list[dict]:
        salt = secrets.token_hex(4)
        nodes = [self.node(f"{salt}-0")]
        for i in range(1, length):
            nodes.append(self.node(f"{salt}-{i}", nodes[-1]))  # distinct, or the cache restores them
        return nodes

    def fan(self, width: int) -> list[dict]:
        salt = secrets.token_hex(4)
        source = self.node(salt)
        middle = [self.node(f"{salt}-{i}", source) for i in range(width)]
        return [source, *middle, self.node(salt, *middle)]

    def layered(self, count: int, width: int = 10) -> list[dict]:
        salt = secrets.token_hex(4)
        nodes: list[dict] = []
        for i in range(count):
            deps = [nodes[j] for j in (i - width, i - width - 1) if j >= 0 and j // width == i // width - 1]
            nodes.append(self.node(f"{salt}-{i}", *deps))
        return nodes


PROBE = """
import time
def work():
    start, total = time.thread_time(), 0
    for i in range(300_000):
        total += i * i % 7
    return (time.thread_time() - start) * 1000
print(min(work() for _ in range(3)))
"""


def probe() -> float:
    """Milliseconds this machine takes for a fixed bit of pure-Python work (about 10 ms at full speed here).

    Taken before each timed run: a shared VM's speed changes by 1.5-2x for seconds or minutes at a time,
    and a run's figure means little without the speed it ran at. A probe near its best: a quiet machine.
    In a process of its own: in this one, the stack's threads would take the interpreter lock from it."""
    return float(subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout)


def speed(probes: list[float]) -> str:
    """The probes of one scenario's runs, as its printed line ends."""
    return f"CPU probe before each run {statistics.median(probes):.1f} ms, best {min(probes):.1f}"


class Breakdown:
    """What each scenario spent, from the stack's tally (infra/local/breakdown.py) and this process's CPU."""

    def __init__(self, tally: object) -> None:
        self.tally = tally
        self.scenarios: dict[str, tuple[int, list[float], dict[str, list[float]], float]] = {}
        self._cpu = 0.0

    def start(self) -> None:
        self.tally.take()
        self._cpu = time.process_time()

    def stop(self, scenario: str, operations: int, wall: float) -> None:
        cpu = time.process_time() - self._cpu
        count, walls, spent, cpus = self.scenarios.get(scenario, (0, [], {}, 0.0))
        for kind, (n, seconds) in self.tally.take().items():
            total = spent.setdefault(kind, [0, 0.0])
            total[0] += n
            total[1] += seconds
        self.scenarios[scenario] = (count + operations, [*walls, wall], spent, cpus + cpu)

    def print(self) -> None:
        for scenario, (operations, walls, spent, cpu) in self.scenarios.items():
            print(f"\n{scenario}: per operation ({operations} operations in {len(walls)} runs), wall "
                  f"{1000 * sum(walls) / operations:.1f} ms; the stack process's CPU {1000 * cpu / operations:.1f} ms")
            for kind, (n, seconds) in sorted(spent.items(), key=lambda item: -item[1][1]):
                if seconds * 1000 / operations < 0.05 and n / operations < 0.05:
                    continue
                each = f"{1000 * seconds / n:.1f} ms each" if n else "cpu"
                print(f"  {kind:48s} {n / operations:5.2f} x {each:>14s} = {1000 * seconds / operations:6.1f} ms")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--api", default=None)
    parser.add_argument("--persist", action="store_true", help="a data dir, with the journal, as make up runs")
    parser.add_argument("--breakdown", action="store_true", help="where the time goes, per operation (own stack)")
    args = parser.parse_args()
    stack = None
    api = args.api
    if args.breakdown and api is not None:
        parser.error("--breakdown needs the bench's own stack (no --api)")
    if api is None:
        os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
        if args.breakdown:
            os.environ["PLYNX_LOCAL_BREAKDOWN"] = "1"
        import logging

        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        from infra.local.stack import start_stack

        import tempfile

        data_dir = tempfile.mkdtemp(prefix="plynx-bench-") if args.persist else None
        stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=data_dir)
        api = stack.api_url
    breakdown = Breakdown(stack.lambda_front.tally) if args.breakdown else None

    probes: dict[str, list[float]] = {}

    def timed(scenario: str, operations: int, nodes: list[dict] | None = None,
              graph_id: str | None = None) -> tuple[float, str]:
        probes.setdefault(scenario, []).append(probe())
        if breakdown is not None:
            breakdown.start()
        wall, graph_id = bench.run(nodes, graph_id)
        if breakdown is not None:
            breakdown.stop(scenario, operations, wall)
        return wall, graph_id

    try:
        bench = Bench(api, same_clock=stack is not None)
        bench.run(bench.chain(3))  # warm-up
        chain = [timed("chain of 20", 20, bench.chain(20))[0] for _ in range(args.runs)]
        fan = [timed("fan-out of 20 + join", 22, bench.fan(20))[0] for _ in range(args.runs)]
        cached, invocations = [], []
        for _ in range(args.runs):
            _, graph_id = bench.run(bench.layered(100))
            before = stack.lambda_front.invocations["run"] if stack else None
            cached.append(timed("cached re-run of 100", 100, graph_id=graph_id)[0])
            if stack is not None:
                invocations.append(stack.lambda_front.invocations["run"] - before)
        print(f"chain of 20 trivial python operations:      median {statistics.median(chain):.3f} s "
              f"(min {min(chain):.3f}, max {max(chain):.3f}; goal <= 0.35 s; {speed(probes['chain of 20'])})")
        print(f"fan-out of 20 + join (22 operations):       median {statistics.median(fan):.3f} s "
              f"(min {min(fan):.3f}, max {max(fan):.3f}; goal <= 0.30 s; {speed(probes['fan-out of 20 + join'])})")
        print(f"re-run of a fully cached 100-node graph:   median {statistics.median(cached):.3f} s "
              f"(min {min(cached):.3f}, max {max(cached):.3f}; goal <= 0.2 s, 0 runner calls; "
              f"{speed(probes['cached re-run of 100'])}), runner invocations: "
              f"{invocations if invocations else 'n/a (remote stack)'}")
        if stack is not None and stack.journal is not None:
            print(f"journal: {stack.journal.records} records; snapshots {stack.snapshot_saves}; "
                  f"changes not journaled (each cost a snapshot): {sorted(set(stack.journal.unjournaled))}")
        if breakdown is not None:
            breakdown.print()
    finally:
        if stack is not None:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
