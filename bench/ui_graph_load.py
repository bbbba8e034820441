"""How fast a 300-node graph opens and pans in the graph editor, measured in headless Chromium.

    .venv/bin/python bench/ui_graph_load.py [--nodes 300] [--runs 3]

Starts its own local stack on free ports (no persistence) serving the built UI (`make ui` first),
saves a layered graph of python operations through the REST API, then for each run opens
/graphs/<id> in a fresh browser page and prints:
  open:  ms from navigation start until every node and wire is on the canvas (fitted view),
         of that the GET /graphs/<id> request, and the drawing after its answer arrived;
  tasks: the page's main-thread task time until then (Chrome's Performance.getMetrics TaskDuration);
  pan:   frame times while the canvas is dragged with the mouse (fitted, and zoomed to 100%).
Software rendering (--disable-gpu) on this machine: a desktop with a GPU does better. Wall times
stretch with other load on the machine: run it on a quiet one and read `uptime` next to the figures.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys

import requests

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)
from infra.local.stack import free_port  # noqa: E402
from tests.helpers import graph, operation  # noqa: E402

CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run"]

# Frame intervals while the page drags the canvas: requestAnimationFrame timestamps.
FRAME_PROBE = """() => {
  window.__frames = [];
  let last = performance.now();
  const loop = (t) => { window.__frames.push(t - last); last = t; if (window.__frames.length < 400) requestAnimationFrame(loop); };
  requestAnimationFrame(loop);
}"""


def build_graph(count: int, width: int = 10) -> dict:
    """`count` python operations in layers of `width`, each reading two nodes of the layer before."""
    many = {"file_types": ["file"], "min_count": 0, "max_count": -1}
    op = operation("python", "Step", "open(outputs['y'], 'w').write('1')\n", inputs=[{"name": "x", **many}],
                   outputs=["y"], params={"k": 1})
    nodes = []
    for i in range(count):
        layer, row = divmod(i, width)
        values = []
        if layer:
            for source in {(layer - 1) * width + row, (layer - 1) * width + (row + 1) % width}:
                values.append({"node_id": f"n{source:05d}", "output_id": "y"})
        nodes.append(dict(op, _id=f"n{i:05d}", title=f"Step {i}", x=layer * 300, y=row * 140,
                          inputs=[dict(many, name="x", values=values)]))
    return graph(f"bench {count} nodes", nodes)


def frame_stats(frames: list[float]) -> str:
    frames = sorted(frames[5:])  # the first frames include the probe's own start
    p50 = statistics.median(frames)
    p95 = frames[int(len(frames) * 0.95) - 1]
    return f"median frame {p50:.1f} ms ({1000 / p50:.0f} fps), p95 {p95:.1f} ms"


def pan(page, steps: int = 60) -> list[float]:
    """Drag the empty canvas around with the mouse while counting frames."""
    box = page.locator(".react-flow__pane").bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.evaluate(FRAME_PROBE)
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(steps):
        dx = 200 * ((i % 20) / 20 - 0.5)
        page.mouse.move(x + dx, y + dx / 2)
        page.wait_for_timeout(16)
    page.mouse.up()
    return page.evaluate("() => window.__frames.slice()")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--nodes", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if not os.path.exists(os.path.join(REPO, "ui", "dist", "index.html")):
        raise SystemExit("ui/dist is missing: run `make ui` first")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    from infra.local.stack import start_stack

    stack = start_stack(api_port=free_port(), ui_port=free_port(), moto_port=free_port(), data_dir=None)
    try:
        session = requests.Session()
        session.auth = ("default", "")
        body = build_graph(args.nodes)
        edges = sum(len(v["values"]) for n in body["nodes"] for v in n["inputs"])
        response = session.post(f"{stack.api_url}/graphs", json={"graph": body, "actions": ["SAVE"]}, timeout=120)
        assert response.status_code == 200, response.text
        graph_id = response.json()["graph"]["_id"]
        opens, gets, renders, cpu, fitted, zoomed = [], [], [], [], [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_FLAGS)
            for _ in range(args.runs):
                page = browser.new_page(viewport={"width": 1500, "height": 900})
                cdp = page.context.new_cdp_session(page)
                cdp.send("Performance.enable")
                page.goto(f"{stack.ui_url}/graphs/{graph_id}")
                page.wait_for_function(
                    "([n, e]) => document.querySelectorAll('.react-flow__node').length >= n"
                    " && document.querySelectorAll('.react-flow__edge').length >= e",
                    arg=[args.nodes, edges], timeout=120_000, polling="raf")
                opens.append(page.evaluate("() => performance.now()"))
                get = page.evaluate(
                    "(id) => performance.getEntriesByType('resource').filter(r => r.name.endsWith('/graphs/' + id))"
                    ".map(r => [r.duration, r.responseEnd])[0] || [0, 0]", graph_id)
                gets.append(get[0])
                renders.append(opens[-1] - get[1])
                metrics = {m["name"]: m["value"] for m in cdp.send("Performance.getMetrics")["metrics"]}
                cpu.append(1000 * metrics["TaskDuration"])  # the page's main-thread work, in ms
                page.wait_for_timeout(300)
                fitted.extend(pan(page))
                page.get_by_role("button", name="Zoom In").click(click_count=6)  # about 100%
                page.wait_for_timeout(300)
                zoomed.extend(pan(page))
                page.close()
            browser.close()
        print(f"{args.nodes}-node graph, {edges} wires, {args.runs} runs in headless Chromium (software rendering):")
        print(f"  open to all nodes and wires drawn: median {statistics.median(opens):.0f} ms "
              f"(runs: {', '.join(f'{o:.0f}' for o in opens)}); of which GET /graphs/<id> "
              f"{statistics.median(gets):.0f} ms, drawing after its answer {statistics.median(renders):.0f} ms")
        print(f"  main-thread task time of the page until then: median {statistics.median(cpu):.0f} ms")
        print(f"  pan, whole graph in view: {frame_stats(fitted)}")
        print(f"  pan, zoomed in: {frame_stats(zoomed)}")
    finally:
        stack.stop()


if __name__ == "__main__":
    main()
