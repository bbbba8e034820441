// Two runs of one graph side by side (GET /runs/{id}/compare/{other}): what they ran with, and per operation
// its status, how long it took and whether its outputs are the same bytes (resource ids are SHA-256 digests).
import { useEffect, useState } from "react";
import { api, ApiError, errorMessage } from "../api";
import { StatusBadge } from "../components/StatusBadge";
import { PageError } from "../components/PageError";
import { duration } from "../format";
import { Link } from "../router";
import { runDuration } from "../runs/RunHistory";
import { shownValue } from "../runs/runParameters";
import type { ComparedNode, Run, RunComparison } from "../types";

function took(side: ComparedNode | null): string {
  if (!side) return "";
  return side.started ? duration(side.duration_seconds * 1000) : side.status === "RESTORED" ? "restored" : "";
}

function outputs(side: ComparedNode | null): string {
  if (!side) return "";
  return Object.entries(side.outputs)
    .map(([name, id]) => `${name} ${id ? id.slice(0, 8) : "—"}`)
    .join(", ");
}

function RunHead({ run, side }: { run: Run; side: string }) {
  return (
    <td data-testid={`compare-${side}`}>
      <Link to={`/runs/${run._id}`}>{run.start}</Link> <StatusBadge status={run.run_status} />
      <div className="muted">
        Version {run.graph_version} &middot; {run.how} by {run.started_by} &middot; took {runDuration(run)}
        {run.cost ? ` · est. $${run.cost.estimated_usd.toFixed(6)}` : ""}
      </div>
    </td>
  );
}

export function RunCompare({ runId, otherId }: { runId: string; otherId: string }) {
  const [found, setFound] = useState<RunComparison | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    let stale = false;
    api
      .compareRuns(runId, otherId)
      .then((data) => !stale && setFound(data))
      .catch((e) => {
        if (stale) return;
        setError(e instanceof ApiError && e.status === 404 ? "One of these runs is not one you may see." : errorMessage(e));
      });
    return () => {
      stale = true;
    };
  }, [runId, otherId]);

  if (error) return <PageError error={error} />;
  if (!found) return <div className="page">Loading the runs&hellip;</div>;
  const { left, right } = found;

  return (
    <div className="page" data-testid="run-compare">
      <div className="page-head">
        <h2>
          Two runs of <Link to={`/graphs/${found.graph_id}`}>{left.title || "(untitled)"}</Link>
        </h2>
      </div>
      <table className="list run-compare">
        <thead>
          <tr>
            <th />
            <th>This run</th>
            <th>That run</th>
          </tr>
        </thead>
        <tbody>
          <tr>
            <th>Run</th>
            <RunHead run={left} side="left" />
            <RunHead run={right} side="right" />
          </tr>
        </tbody>
      </table>
      <table className="list run-compare" data-testid="compare-parameters">
        <caption>Parameters</caption>
        <thead>
          <tr>
            <th>Parameter</th>
            <th>This run</th>
            <th>That run</th>
          </tr>
        </thead>
        <tbody>
          {found.parameters.length === 0 && (
            <tr>
              <td colSpan={3} className="muted">
                Neither run was given run parameters.
              </td>
            </tr>
          )}
          {found.parameters.map((p) => (
            <tr key={p.name} data-parameter={p.name} className={p.same ? "" : "differs"}>
              <td>{p.name}</td>
              <td>
                <code>{p.left === undefined || p.left === null ? "—" : shownValue(p.left)}</code>
              </td>
              <td>
                <code>{p.right === undefined || p.right === null ? "—" : shownValue(p.right)}</code>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <table className="list run-compare" data-testid="compare-operations">
        <caption>Operations</caption>
        <thead>
          <tr>
            <th>Operation</th>
            <th>This run</th>
            <th>Took</th>
            <th>That run</th>
            <th>Took</th>
            <th>Outputs</th>
          </tr>
        </thead>
        <tbody>
          {found.nodes.map((row) => (
            <tr
              key={row.node_id}
              data-title={row.title}
              data-same-status={row.same_status ? "true" : "false"}
              data-same-outputs={row.same_outputs ? "true" : "false"}
              className={row.same_status && row.same_outputs ? "" : "differs"}
            >
              <td>{row.title || "(untitled)"}</td>
              <td data-side="left">{row.left ? <StatusBadge status={row.left.status} /> : <span className="muted">not in this version</span>}</td>
              <td>{took(row.left)}</td>
              <td data-side="right">{row.right ? <StatusBadge status={row.right.status} /> : <span className="muted">not in this version</span>}</td>
              <td>{took(row.right)}</td>
              <td title={`${outputs(row.left)} | ${outputs(row.right)}`}>
                {row.left && row.right ? (row.same_outputs ? "the same bytes" : "different") : ""}
                <div className="muted hashes">
                  {outputs(row.left)}
                  {row.left && row.right && !row.same_outputs ? ` → ${outputs(row.right)}` : ""}
                </div>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
