// Where a run's time went: one bar per operation from its start to its end on the run's clock, coloured by
// status; what the cache restored (or a retry kept) is hatched and says so. Plain SVG: no chart library.
import { duration, parseDate } from "../format";
import type { Run, RunNode } from "../types";

const COLOURS: Record<string, string> = {
  SUCCESS: "#2f9e57",
  RESTORED: "#1aa3a3",
  FAILED: "#d92d20",
  CANCELED: "#9ca3af",
  RUNNING: "#e0a100",
  FAILED_WAITING: "#e0a100",
  IN_QUEUE: "#818cf8",
  READY: "#818cf8",
};
const WIDTH = 900;
const LABEL = 180;
const RIGHT = 150;
const ROW = 22;
const AXIS = 26;
const TICKS = 5; // at most this many intervals between the axis's ticks

/** A round step between the axis's ticks (ms: 1, 2 or 5 times a power of ten) giving at most TICKS intervals
 * over `span`: ticks at a fifth of 0.31 s read 0.0, 0.0, 0.1, 0.1, 0.2, 0.3 s. */
export function tickStep(span: number): number {
  for (let scale = 1; ; scale *= 10) {
    for (const step of [1, 2, 5]) if (step * scale * TICKS >= span) return step * scale;
  }
}

/** A tick's label, as precise as its step needs. */
export function tickLabel(at: number, step: number): string {
  if (step >= 1000) return duration(at);
  return `${(at / 1000).toFixed(step >= 100 ? 1 : step >= 10 ? 2 : 3)} s`;
}

/** The operations of a run in the order they started (what never started last). */
export function timelineOperations(run: Run): RunNode[] {
  const operations = (run.graph?.nodes ?? []).filter((n) => n.base_node_name !== "file");
  const at = (n: RunNode) => parseDate(n.started)?.getTime() ?? (n.node_running_status === "RESTORED" ? 0 : Infinity);
  return [...operations].sort((a, b) => at(a) - at(b) || (a.title || "").localeCompare(b.title || ""));
}

export function RunTimeline({ run, now }: { run: Run; now: number }) {
  const operations = timelineOperations(run);
  const origin = parseDate(run.start)?.getTime() ?? now;
  let last = parseDate(run.end)?.getTime() ?? (run.end ? origin : now);
  for (const node of operations) {
    const end = parseDate(node.ended)?.getTime() ?? parseDate(node.started)?.getTime();
    if (end !== undefined && end > last) last = end;
  }
  const span = Math.max(last - origin, 1);
  const plot = WIDTH - LABEL - RIGHT;
  const x = (t: number) => LABEL + (Math.min(Math.max(t - origin, 0), span) / span) * plot;
  const height = AXIS + operations.length * ROW + 8;
  const step = tickStep(span);
  const ticks = Array.from({ length: Math.floor(span / step) + 1 }, (_, i) => i * step);

  return (
    <figure className="run-timeline" data-testid="run-timeline">
      <figcaption>Timeline: where the run's time went ({duration(span)})</figcaption>
      <svg viewBox={`0 0 ${WIDTH} ${height}`} width="100%" role="img" aria-label="Run timeline, one bar per operation">
        <defs>
          <pattern id="timeline-cached" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">
            <rect width="6" height="6" fill="#dff5f5" />
            <line x1="0" y1="0" x2="0" y2="6" stroke={COLOURS.RESTORED} strokeWidth="3" />
          </pattern>
        </defs>
        <g className="timeline-axis" data-testid="timeline-axis">
          {ticks.map((tick) => {
            const at = x(origin + tick);
            return (
              <g key={tick}>
                <line x1={at} x2={at} y1={AXIS - 6} y2={height} stroke="#e5e7eb" />
                <text x={at} y={AXIS - 10} textAnchor="middle" fontSize="11" fill="#6b7280">
                  {tickLabel(tick, step)}
                </text>
              </g>
            );
          })}
        </g>
        {operations.map((node, row) => {
          const y = AXIS + row * ROW;
          const status = node.node_running_status ?? "";
          const cached = status === "RESTORED";
          const start = parseDate(node.started)?.getTime();
          const end = parseDate(node.ended)?.getTime() ?? (start !== undefined && !node.ended ? last : undefined);
          const from = start !== undefined ? x(start) : cached ? LABEL : undefined;
          const to = start !== undefined && end !== undefined ? x(end) : from;
          const took = start !== undefined && end !== undefined ? duration(end - start) : "";
          const kept = node.restored_from?.kind === "retry" ? "kept from the run retried" : "from the cache";
          const note = cached ? (start === undefined ? kept : `${took}, from the cache`) : took || "did not run";
          return (
            <g
              key={node._id}
              data-testid="timeline-bar"
              data-node={node._id}
              data-title={node.title}
              data-status={status}
              data-cached={cached ? "true" : "false"}
            >
              <title>{`${node.title || "(untitled)"}: ${status}${note ? `, ${note}` : ""}`}</title>
              <text x={LABEL - 8} y={y + 15} textAnchor="end" fontSize="12" fill="#111827">
                {(node.title || "(untitled)").slice(0, 24)}
              </text>
              {from !== undefined && to !== undefined && (
                <rect
                  x={from}
                  y={y + 4}
                  width={Math.max(to - from, 4)}
                  height={ROW - 8}
                  rx="3"
                  fill={cached ? "url(#timeline-cached)" : COLOURS[status] ?? "#9ca3af"}
                  stroke={COLOURS[status] ?? "#9ca3af"}
                />
              )}
              <text x={(to ?? LABEL) + 6} y={y + 15} fontSize="11" fill="#4b5563">
                {cached ? `⟲ ${note}` : note}
              </text>
            </g>
          );
        })}
      </svg>
    </figure>
  );
}
