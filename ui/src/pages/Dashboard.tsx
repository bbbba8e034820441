// What is running now and the recent runs, refreshed every few seconds.
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../api";
import { StatusBadge } from "../components/StatusBadge";
import { ago, duration, parseDate, runStart } from "../format";
import { Link } from "../router";
import type { GraphHeader, GraphRunningStatus } from "../types";

interface StateRun {
  graph_id: string;
  title: string;
  author: string;
  graph_running_status: GraphRunningStatus;
  run_id: string | null;
  update_date: string | null;
  preparing?: boolean;
}

function RunTable({ items, testId }: { items: GraphHeader[]; testId: string }) {
  if (!items.length) return <p className="empty" data-testid={testId}>None.</p>;
  return (
    <table className="list" data-testid={testId}>
      <tbody>
        {items.map((g) => {
          const start = runStart(g.run_id);
          const end = ["READY", "RUNNING", "FAILED_WAITING"].includes(g.graph_running_status) ? new Date() : parseDate(g.update_date);
          return (
            <tr key={g._id}>
              <td>
                <Link to={`/graphs/${g._id}`}>{g.title || "(untitled)"}</Link>
              </td>
              <td>
                <StatusBadge status={g.graph_running_status} preparing={g.preparing} />
              </td>
              <td>{start && end ? duration(end.getTime() - start.getTime()) : ""}</td>
              <td>{ago(g.update_date)}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

export function Dashboard() {
  const [running, setRunning] = useState<GraphHeader[]>([]);
  const [recent, setRecent] = useState<GraphHeader[]>([]);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stopped = false;
    const load = async () => {
      try {
        let now: GraphHeader[];
        let done: GraphHeader[];
        try {
          // GET /state: active runs and the latest runs by when they ran.
          const state = await api.request("GET", "/state");
          const asHeader = (run: StateRun): GraphHeader => ({ ...run, _id: run.graph_id, description: "" });
          now = state.active_runs.map(asHeader);
          done = state.recent_runs.filter((run: StateRun) => !["READY", "RUNNING", "FAILED_WAITING"].includes(run.graph_running_status)).map(asHeader);
        } catch (e) {
          if (!(e instanceof ApiError) || e.kind !== "unavailable") throw e;
          const [active, finished] = await Promise.all([
            api.searchGraphs({ status: ["READY", "RUNNING", "FAILED_WAITING"], per_page: 20 }),
            api.searchGraphs({ status: ["SUCCESS", "FAILED", "CANCELED"], per_page: 10 }),
          ]);
          now = active.items;
          done = finished.items;
        }
        if (stopped) return;
        setRunning(now);
        setRecent(done.slice(0, 10));
        setError(null);
      } catch (e) {
        if (!stopped) setError(errorMessage(e));
      }
    };
    void load();
    const timer = window.setInterval(() => void load(), 3000);
    return () => {
      stopped = true;
      window.clearInterval(timer);
    };
  }, []);

  return (
    <div className="page" data-testid="dashboard">
      <div className="page-head">
        <h1>Dashboard</h1>
        <div className="spacer" />
        <Link to="/graphs/new" className="button primary">
          New workflow
        </Link>{" "}
        <Link to="/nodes/new?kind=python" className="button">
          New python operation
        </Link>{" "}
        <Link to="/nodes/new?kind=bash_jinja2" className="button">
          New bash operation
        </Link>
      </div>
      {error && (
        <div className="message error" role="alert">
          {error}
        </div>
      )}
      <div className="columns">
        <section>
          <h2>Running now</h2>
          <RunTable items={running} testId="running-now" />
        </section>
        <section>
          <h2>Recent runs</h2>
          <RunTable items={recent} testId="recent-runs" />
        </section>
      </div>
    </div>
  );
}
