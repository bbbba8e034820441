// Dates and durations as the API writes them (`%Y-%m-%d %H:%M:%S.%LZ`, UTC).

export function parseDate(value: string | null | undefined): Date | null {
  if (!value) return null;
  const date = new Date(value.replace(" ", "T"));
  return Number.isNaN(date.getTime()) ? null : date;
}

export function ago(value: string | null | undefined): string {
  const date = parseDate(value);
  if (!date) return "";
  const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
  if (seconds < 60) return `${seconds} s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return date.toISOString().slice(0, 10);
}

export function duration(ms: number): string {
  if (ms < 0) ms = 0;
  const total = Math.floor(ms / 1000);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const tenth = Math.floor((ms % 1000) / 100);
  if (h) return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
  if (m) return `${m}:${String(s).padStart(2, "0")}`;
  return `${s}.${tenth} s`;
}

/** The run's start, from its id (`<graph>-YYYYMMDDTHHMMSSmmmZ-<hex>`, see chalicelib/engine/runs.py). */
export function runStart(runId: string | null | undefined): Date | null {
  const found = /-(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z-[0-9a-f]+$/.exec(runId ?? "");
  if (!found) return null;
  const [, y, mo, d, h, mi, s, ms] = found;
  return new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s, +ms));
}

export function bytes(size: number | null | undefined): string {
  if (size == null) return "";
  if (size < 1024) return `${size} B`;
  if (size < 1024 * 1024) return `${(size / 1024).toFixed(1)} KB`;
  return `${(size / 1024 / 1024).toFixed(1)} MB`;
}

/** A base node name as the UI shows it (a composite operation's kind is `graph` on the wire); `short` for the canvas. */
export function kindLabel(kind: string, short = false): string {
  if (kind === "graph") return "composite";
  return short && kind === "bash_jinja2" ? "bash" : kind;
}
