// The run's elapsed time in the toolbar. It ticks in its own state, so the tick renders this span and
// nothing else: not the toolbar, not the canvas.
import { useEffect, useReducer } from "react";
import { duration, parseDate, runStart } from "../format";
import type { GraphRunningStatus } from "../types";

const TICK_MS = 200;

export function RunClock({
  runId,
  status,
  updateDate,
  active,
}: {
  runId: string | null | undefined;
  status: GraphRunningStatus;
  updateDate: string | null | undefined;
  active: boolean;
}) {
  const [, tick] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    if (!active) return;
    const timer = window.setInterval(tick, TICK_MS);
    return () => window.clearInterval(timer);
  }, [active]);
  const started = runStart(runId);
  // a finished run stopped at its last update; a running one is still going now
  const ended = active ? new Date() : parseDate(updateDate);
  if (!started || !ended || status === "CREATED") return null;
  return (
    <span className="elapsed" data-testid="elapsed" title="elapsed time of the run">
      elapsed {duration(ended.getTime() - started.getTime())}
    </span>
  );
}
