"""What the graph editor re-renders while a run is watched, counted in headless Chromium.

    .venv/bin/python bench/ui_run_renders.py [--nodes 100] [--seconds 5]

Starts its own local stack on free ports (no persistence) serving the built UI (`make ui` first),
saves a graph of one sleeping bash operation and `--nodes - 1` python operations waiting on it, opens
it, presses Run and, once it runs, counts for `--seconds` (React's DevTools hook, see
tests/browser/render_probe.py):
  clock:   changes of the elapsed time in the toolbar (it ticks every 200 ms);
  polls:   GET /graphs/<id> answers (the editor polls every 700 ms);
  canvas:  commits that rendered anything inside the canvas, renders of the ReactFlow component, all
           component renders inside the canvas, and of them renders of the node views;
  editor:  renders of the editor component;
  scripts: the page's JavaScript time, and its main-thread task time, which adds style, layout and
           paint (Chrome's Performance.getMetrics ScriptDuration and TaskDuration; a running node's
           pulse animation repaints all the time, so the task time hardly moves with renders).
Then cancels the run.
"""
from __future__ import annotations

import argparse
import os
import sys

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from infra.local.stack import free_port  # noqa: E402
from tests.browser import render_probe  # noqa: E402
from tests.helpers import graph, instance, operation  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]


def build_graph(session: requests.Session, api: str, count: int, nap: int) -> dict:
    """A sleeping operation and `count - 1` operations reading it, in a grid."""
    def save(node: dict) -> dict:
        body = session.post(f"{api}/nodes", json={"node": node, "action": "APPROVE"}, timeout=60).json()
        assert body["status"] == "SUCCESS", body
        return body["node"]

    sleeper = save(operation("bash_jinja2", "Nap", f"sleep {nap}\necho 1 > {{{{ outputs.out }}}}\n", outputs=["out"]))
    reader = save(operation("python", "Read", "open(outputs['y'], 'w').write('1')\n",
                            inputs=[{"name": "x", "file_types": ["file"], "min_count": 1, "max_count": 1}],
                            outputs=["y"]))
    first = dict(instance(sleeper), x=0, y=0)
    nodes = [first]
    for i in range(count - 1):
        row, col = divmod(i, 10)
        nodes.append(dict(instance(reader, x=[(first, "out")]), title=f"Read {i}", x=300 + col * 260, y=row * 140))
    return graph(f"bench run renders {count}", nodes)


def metrics(cdp) -> dict[str, float]:
    return {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(REPO, "ui", "dist", "index.html")):
        raise SystemExit("ui/dist is missing: run `make ui` first")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import expect, sync_playwright

    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        session = requests.Session()
        session.auth = ("default", "")
        body = build_graph(session, stack.api_url, args.nodes, nap=int(args.seconds) + 20)
        response = session.post(f"{stack.api_url}/graphs", json={"graph": body, "actions": ["SAVE"]}, timeout=120)
        assert response.status_code == 200, response.text
        graph_id = response.json()["graph"]["_id"]
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            page = browser.new_page(viewport={"width": 1500, "height": 900})
            render_probe.install(page)
            cdp = page.context.new_cdp_session(page)
            cdp.send("Performance.enable")
            page.goto(f"{stack.ui_url}/graphs/{graph_id}")
            expect(page.get_by_test_id("pnode")).to_have_count(args.nodes, timeout=60_000)
            page.get_by_role("button", name="Run", exact=True).click()
            expect(page.get_by_test_id("graph-status")).to_contain_text("RUNNING", timeout=60_000)
            expect(page.get_by_test_id("elapsed")).to_be_visible()
            page.get_by_test_id("notice").get_by_role("button", name="Dismiss").click()  # "Running…"
            page.wait_for_timeout(500)
            since = render_probe.start(page)
            before = metrics(cdp)
            page.wait_for_timeout(args.seconds * 1000)
            counts = render_probe.read(page, graph_id, since)
            after = metrics(cdp)
            status = page.get_by_test_id("graph-status").inner_text()
            browser.close()
        script_ms, task_ms = (1000 * (after[k] - before[k]) for k in ("ScriptDuration", "TaskDuration"))
        session.post(f"{stack.api_url}/graphs/{graph_id}/cancel", timeout=60)
        print(f"{args.nodes}-node graph, {args.seconds:g} s of a run watched in headless Chromium (status {status.strip()}):")
        print(f"  clock: {counts['clock']} changes of the elapsed time; polls: {counts['polls']}")
        print(f"  canvas: {counts['canvasCommits']} of {counts['commits']} commits rendered in it; ReactFlow "
              f"rendered {counts['reactFlow']} times; {counts['canvasRenders']} component renders inside it, "
              f"{counts['nodes']} of them node views")
        print(f"  editor: {counts['editor']} renders")
        print(f"  scripts: {script_ms:.0f} ms of JavaScript; main-thread task time {task_ms:.0f} ms")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
