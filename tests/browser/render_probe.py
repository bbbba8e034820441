"""Counts React renders in the production build, through the hook React DevTools use.

React calls ``__REACT_DEVTOOLS_GLOBAL_HOOK__.onCommitFiberRoot`` after every commit, in production
builds too; the probe walks the committed fibers the way DevTools does (a fiber rendered when it was
reconciled in this commit and carries the PerformedWork flag) and files each component render under
the DOM it draws, so no counter lives in the product's code. Install it before the page loads.
"""
from __future__ import annotations

from typing import Any

PROBE = """(() => {
  const counts = { commits: 0, canvasCommits: 0, canvasRenders: 0, reactFlow: 0, nodes: 0, editor: 0, clock: 0 };
  let lastClock = null;
  const COMPONENT = new Set([0, 1, 11, 14, 15]);  // function, class, forwardRef, memo, simple memo
  const HOST = 5;
  const PERFORMED_WORK = 1;
  // The element a component draws (its first host descendant), else null.
  const drawn = (fiber) => {
    for (let f = fiber.child; f; f = f.child) if (f.tag === HOST) return f.stateNode;
    return null;
  };
  // Where a component renders: the element it draws, else the element it sits in.
  const placeOf = (fiber) => {
    const own = drawn(fiber);
    if (own) return own;
    for (let f = fiber.return; f; f = f.return) if (f.tag === HOST) return f.stateNode;
    return null;
  };
  const rendered = [];
  const visit = (fiber) => {
    const previous = fiber.alternate;
    if (COMPONENT.has(fiber.tag) && (previous === null || (fiber.flags & PERFORMED_WORK))) rendered.push(fiber);
    if (previous !== null && fiber.child === previous.child) return;  // the subtree bailed out
    for (let child = fiber.child; child; child = child.sibling) visit(child);
  };
  window.__renders = counts;
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    renderers: new Map(),
    inject: () => 1,
    checkDCE: () => {},
    onCommitFiberUnmount: () => {},
    onPostCommitFiberRoot: () => {},
    onCommitFiberRoot: (_id, root) => {
      rendered.length = 0;
      visit(root.current);
      counts.commits += 1;
      let inCanvas = 0;
      for (const fiber of rendered) {
        const own = drawn(fiber);
        if (own?.classList) {
          if (own.classList.contains("react-flow")) counts.reactFlow += 1;
          if (own.classList.contains("pnode")) counts.nodes += 1;
          if (own.classList.contains("editor")) counts.editor += 1;
        }
        const place = placeOf(fiber);
        if (place?.closest && place.closest(".react-flow")) inCanvas += 1;
      }
      counts.canvasRenders += inCanvas;
      if (inCanvas) counts.canvasCommits += 1;
      const clock = document.querySelector('[data-testid="elapsed"]')?.textContent ?? null;
      if (clock !== lastClock && clock !== null) counts.clock += 1;
      lastClock = clock;
    },
  };
  performance.setResourceTimingBufferSize(100000);
})();"""

# The GET /graphs/<id> answers that arrived since `since` (performance.now() ms): the run's polls.
POLLS = """([id, since]) => performance.getEntriesByType('resource')
  .filter((r) => r.name.split('?')[0].endsWith('/graphs/' + id) && r.responseEnd >= since).length"""


def install(page: Any) -> None:
    """Count renders on every page this page's context loads from now on."""
    page.add_init_script(PROBE)


def start(page: Any) -> float:
    """Zero the counters; the page's clock (ms) when counting started."""
    return page.evaluate("() => { for (const k in window.__renders) window.__renders[k] = 0; return performance.now(); }")


def read(page: Any, graph_id: str, since: float) -> dict[str, int]:
    """The counters since `start`, and how many polls of the graph answered meanwhile."""
    counts = page.evaluate("() => ({ ...window.__renders })")
    counts["polls"] = page.evaluate(POLLS, [graph_id, since])
    return counts
