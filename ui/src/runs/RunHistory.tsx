// A workflow's run history (GET /graphs/{id}/runs): newest first, paged; each run opens read-only.
import { useEffect, useState } from "react";
import { api, errorMessage } from "../api";
import { StatusBadge } from "../components/StatusBadge";
import { ago, duration, parseDate } from "../format";
import { Link, navigate } from "../router";
import type { Run } from "../types";

const PER_PAGE = 10;

export function runDuration(run: Pick<Run, "start" | "end">): string {
  const start = parseDate(run.start);
  const end = run.end ? parseDate(run.end) : new Date();
  return start && end ? duration(end.getTime() - start.getTime()) : "";
}

export function RunHistory({ graphId, onClose }: { graphId: string; onClose: () => void }) {
  const [offset, setOffset] = useState(0);
  const [page, setPage] = useState<{ items: Run[]; total_count: number } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // Two runs ticked (oldest first when compared): Compare opens them side by side.
  const [chosen, setChosen] = useState<Run[]>([]);
  const toggle = (run: Run) =>
    setChosen((now) => (now.some((r) => r._id === run._id) ? now.filter((r) => r._id !== run._id) : [...now, run].slice(-2)));
  const compare = () => {
    const [a, b] = [...chosen].sort((x, y) => x.start.localeCompare(y.start));
    onClose();
    navigate(`/runs/${a._id}/compare/${b._id}`);
  };

  useEffect(() => {
    let stale = false;
    setError(null);
    api
      .graphRuns(graphId, offset, PER_PAGE)
      .then((found) => !stale && setPage(found))
      .catch((e) => !stale && setError(errorMessage(e)));
    return () => {
      stale = true;
    };
  }, [graphId, offset]);

  return (
    <div className="modal" role="dialog" aria-label="Run history">
      <div className="modal-body">
        <div className="page-head">
          <h2>Runs of this workflow</h2>
          <div className="spacer" />
          <span className="muted" data-testid="run-count">
            {page ? `${page.total_count} kept` : ""}
          </span>
          <button disabled={chosen.length !== 2} onClick={compare} title="Tick two runs to see them side by side">
            Compare
          </button>
          <button onClick={onClose}>Close</button>
        </div>
        {error && (
          <div className="message error" role="alert">
            {error}
          </div>
        )}
        {page && !page.items.length && <p className="empty">This workflow has not run yet.</p>}
        {page && page.items.length > 0 && (
          <table className="list" data-testid="run-history">
            <thead>
              <tr>
                <th>Started</th>
                <th>Status</th>
                <th>Took</th>
                <th>Version</th>
                <th>By</th>
                <th>How</th>
                <th>Compare</th>
              </tr>
            </thead>
            <tbody>
              {page.items.map((run) => (
                <tr key={run._id} data-run={run._id}>
                  <td>
                    <Link to={`/runs/${run._id}`} title={run.start}>
                      {ago(run.start)}
                    </Link>
                    {run.latest && <span className="muted"> (latest)</span>}
                  </td>
                  <td>
                    <StatusBadge status={run.run_status} preparing={run.preparing} />
                  </td>
                  <td>{runDuration(run)}</td>
                  <td>{run.graph_version}</td>
                  <td>{run.started_by}</td>
                  <td>{run.how}</td>
                  <td>
                    <input
                      type="checkbox"
                      aria-label={`Compare the run of ${run.start}`}
                      checked={chosen.some((r) => r._id === run._id)}
                      onChange={() => toggle(run)}
                    />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        {page && page.total_count > PER_PAGE && (
          <div className="page-head">
            <button disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PER_PAGE))}>
              Newer
            </button>
            <span className="muted">
              {offset + 1}&ndash;{Math.min(offset + PER_PAGE, page.total_count)} of {page.total_count}
            </span>
            <button disabled={offset + PER_PAGE >= page.total_count} onClick={() => setOffset(offset + PER_PAGE)}>
              Older
            </button>
          </div>
        )}
      </div>
    </div>
  );
}
