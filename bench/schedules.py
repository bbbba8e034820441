"""What schedules cost the local stack: the firer's tick (ListSchedules, GetSchedule for a changed one, the
evaluation) with N schedules, and an `at(...)` fire's delay from its due time to its run's start.

    .venv/bin/python bench/schedules.py [--schedules 10] [--ticks 50] [--fires 5]

It starts its own local stack on free ports (no persistence), makes one workflow of a no-op operation and
N paused-or-daily schedules of it, then times `tick()` of a firer on the stack's group (nothing is due: the
steady cost every second), then `--fires` `at(...)` schedules two seconds ahead, each read back for when it
fired against when it was due (the stack's own firer, ticking each second).
"""
from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

AUTH = ("default", "")


def _stamp(text: str) -> dt.datetime:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--schedules", type=int, default=10)
    parser.add_argument("--ticks", type=int, default=50)
    parser.add_argument("--fires", type=int, default=5)
    args = parser.parse_args()
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        api, session = stack.api_url, requests.Session()
        session.auth = AUTH
        node = session.post(f"{api}/nodes", json={"node": operation("python", "noop", "print('x')\n"),
                                                  "actions": ["SAVE", "APPROVE"]}).json()["node"]
        graphs = []
        for n in range(max(1, -(-args.schedules // 10))):  # at most 10 schedules a graph
            graphs.append(session.post(f"{api}/graphs", json={"graph": graph(f"bench schedules {n}", [instance(node)]),
                                                              "actions": ["SAVE"]}).json()["graph"]["_id"])
        for n in range(args.schedules):
            session.post(f"{api}/graphs/{graphs[n // 10]}/schedules", json={"expression": "rate(1 day)",
                                                                            "enabled": n % 2 == 0})
        graph_id = graphs[-1]
        from app import schedule_fired
        from chalicelib.store import aws
        from chalicelib.store.settings import SETTINGS
        from infra.local.scheduler import LocalScheduler

        firer = LocalScheduler(schedule_fired, aws.client("scheduler"), SETTINGS.schedule_group)
        firer.tick()  # reads every definition once
        spent = []
        for _ in range(args.ticks):
            started = time.perf_counter()
            firer.tick()
            spent.append(time.perf_counter() - started)
        print(f"tick with {args.schedules} schedules (nothing due): median {statistics.median(spent) * 1000:.1f} ms, "
              f"max {max(spent) * 1000:.1f} ms over {args.ticks}")

        delays = []
        for schedule in session.get(f"{api}/graphs/{graph_id}/schedules").json()["items"]:
            session.delete(f"{api}/schedules/{schedule['_id']}")  # room under the cap for the at(...) ones
        for _ in range(args.fires):
            session.post(f"{api}/graphs/{graph_id}/cancel")
            while session.get(f"{api}/graphs/{graph_id}").json()["data"]["graph_running_status"] in (
                    "READY", "RUNNING", "FAILED_WAITING"):
                time.sleep(0.1)
            due = dt.datetime.now(dt.timezone.utc).replace(microsecond=0) + dt.timedelta(seconds=2)
            made = session.post(f"{api}/graphs/{graph_id}/schedules", json={
                "expression": f"at({due.strftime('%Y-%m-%dT%H:%M:%S')})", "timezone": "UTC"}).json()["data"]
            while True:
                shown = next(s for s in session.get(f"{api}/graphs/{graph_id}/schedules").json()["items"]
                             if s["_id"] == made["_id"])
                if shown["last_fire"]:
                    break
                time.sleep(0.05)
            run = session.get(f"{api}/runs/{shown['last_fire']['run_id']}").json()["data"]
            delays.append((_stamp(run["start"]) - due).total_seconds())
            session.delete(f"{api}/schedules/{made['_id']}")
        print(f"at(...) due to its run's start: median {statistics.median(delays):.2f} s, max {max(delays):.2f} s "
              f"over {args.fires} (the firer ticks each second)")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
