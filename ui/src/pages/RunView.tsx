// One run as it ran (GET /runs/{id}): read-only, the graph with that run's statuses, and per operation its
// start, end, attempts, outputs and logs. A run still going is polled; who may cancel it may cancel it here.
import { ReactFlow, ReactFlowProvider, Background, Controls } from "@xyflow/react";
import { useEffect, useMemo, useState } from "react";
import { api, ApiError, errorMessage } from "../api";
import { ResourceView } from "../components/ResourceView";
import { CachedFrom } from "../components/CachedFrom";
import { PageError } from "../components/PageError";
import { StatusBadge } from "../components/StatusBadge";
import { duration, parseDate } from "../format";
import { loadCanvas, type FlowEdge, type FlowNode } from "../graph/model";
import PlynxNodeView from "../graph/PlynxNodeView";
import { Link, navigate } from "../router";
import { runDuration } from "../runs/RunHistory";
import { shownValue } from "../runs/runParameters";
import { RunCostFacts } from "../runs/RunCost";
import { RunTimeline } from "../runs/RunTimeline";
import type { Run } from "../types";

const nodeTypes = { plynx: PlynxNodeView };
const ACTIVE = ["READY", "RUNNING", "FAILED_WAITING"];
const FIT_VIEW_OPTIONS = { maxZoom: 1 };
const PRO_OPTIONS = { hideAttribution: true };

function took(started: string | null | undefined, ended: string | null | undefined): string {
  const start = parseDate(started);
  const end = parseDate(ended);
  return start && end ? duration(end.getTime() - start.getTime()) : "";
}

export function RunView({ runId }: { runId: string }) {
  const [run, setRun] = useState<Run | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [tick, setTick] = useState(0);

  useEffect(() => {
    let stale = false;
    api
      .getRun(runId)
      .then((found) => !stale && (setRun(found), setError(null)))
      .catch((e) => {
        if (stale) return;
        setError(e instanceof ApiError && e.status === 404 ? `There is no run "${runId}" you may see.` : errorMessage(e));
      });
    return () => {
      stale = true;
    };
  }, [runId, tick]);

  const active = !!run && ACTIVE.includes(run.run_status);
  useEffect(() => {
    if (!active) return;
    const timer = window.setTimeout(() => setTick((t) => t + 1), 2000);
    return () => window.clearTimeout(timer);
  }, [active, run]);

  const canvas = useMemo(() => (run?.graph ? loadCanvas(run.graph) : { nodes: [], edges: [] }), [run]);

  if (error) return <PageError error={error} />;
  if (!run || !run.graph) return <div className="page">Loading the run&hellip;</div>;

  const cancel = async () => {
    setBusy(true);
    try {
      setRun(await api.cancelRun(run._id));
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const retry = async () => {
    setBusy(true);
    try {
      const started = await api.retryRun(run._id);
      navigate(`/runs/${started._id}`);
    } catch (e) {
      setError(errorMessage(e));
    } finally {
      setBusy(false);
    }
  };
  const operations = run.graph.nodes.filter((n) => n.base_node_name !== "file");

  return (
    <div className="page" data-testid="run-view" data-run={run._id}>
      <div className="page-head">
        <h2>
          {run.kind === "trial" ? (
            <>{run.title || "Trial"}</>
          ) : (
            <>
              Run of <Link to={`/graphs/${run.graph_id}`}>{run.title || "(untitled)"}</Link>
            </>
          )}
        </h2>
        <span data-testid="run-status">
          <StatusBadge status={run.run_status} preparing={run.preparing} />
        </span>
        <div className="spacer" />
        {active && (
          <button onClick={() => void cancel()} disabled={busy}>
            Cancel run
          </button>
        )}
        {(run.run_status === "FAILED" || run.run_status === "CANCELED") && (
          <button className="primary" onClick={() => void retry()} disabled={busy} title="A new run: what succeeded is restored, the rest runs again">
            Retry from the failure
          </button>
        )}
      </div>
      <p className="muted" data-testid="run-facts">
        Version {run.graph_version} &middot; started {run.start} by {run.started_by} ({run.how})
        {run.end ? ` · ended ${run.end}` : ""} &middot; took {runDuration(run)} &middot; read-only
        {run.retry_of && (
          <>
            {" "}&middot; retry of <Link to={`/runs/${run.retry_of}`}>{run.retry_of}</Link>
          </>
        )}
      </p>
      {run.error && <pre className="message error">{run.error}</pre>}
      {run.cost && <RunCostFacts cost={run.cost} />}
      <RunTimeline run={run} now={Date.now()} />
      {Object.keys(run.parameters ?? {}).length > 0 && (
        <table className="list run-parameters" data-testid="run-parameters">
          <caption>This run's parameters</caption>
          <thead>
            <tr>
              <th>Operation</th>
              <th>Parameter</th>
              <th>Value</th>
            </tr>
          </thead>
          <tbody>
            {Object.entries(run.parameters).map(([key, value]) => {
              const [nodeId, ...rest] = key.split(".");
              const node = run.graph?.nodes.find((n) => n._id === nodeId);
              return (
                <tr key={key} data-parameter={key}>
                  <td>{node?.title ?? nodeId}</td>
                  <td>{rest.join(".")}</td>
                  <td>
                    <code>{shownValue(value)}</code>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <div className="run-canvas" style={{ height: 360, border: "1px solid #dde1e7", background: "#fff" }}>
        <ReactFlowProvider>
          <ReactFlow<FlowNode, FlowEdge>
            nodes={canvas.nodes}
            edges={canvas.edges}
            nodeTypes={nodeTypes}
            nodesDraggable={false}
            nodesConnectable={false}
            elementsSelectable={false}
            deleteKeyCode={null}
            fitView
            fitViewOptions={FIT_VIEW_OPTIONS}
            minZoom={0.05}
            proOptions={PRO_OPTIONS}
          >
            <Background />
            <Controls showInteractive={false} fitViewOptions={FIT_VIEW_OPTIONS} />
          </ReactFlow>
        </ReactFlowProvider>
      </div>
      <table className="list" data-testid="run-operations">
        <thead>
          <tr>
            <th>Operation</th>
            <th>Status</th>
            <th>Started</th>
            <th>Took</th>
            <th>Attempts</th>
            <th>Ran on</th>
            <th>Outputs and logs</th>
          </tr>
        </thead>
        <tbody>
          {operations.map((node) => (
            <tr key={node._id} data-title={node.title} data-status={node.node_running_status}>
              <td>{node.title || "(untitled)"}</td>
              <td>
                <StatusBadge status={node.node_running_status} />
                {node.node_running_status === "RESTORED" && <CachedFrom source={node.restored_from} />}
              </td>
              <td>{node.started ?? ""}</td>
              <td>{took(node.started, node.ended)}</td>
              <td>{node.attempts ?? 0}</td>
              <td>{node.started ? node.placement === "fargate" ? "Fargate" : "Lambda" : ""}</td>
              <td>
                {[...node.outputs, ...(node.logs ?? [])]
                  .filter((o) => o.resource_id)
                  .map((o) => (
                    <ResourceView
                      key={o.name}
                      name={o.name}
                      resourceId={o.resource_id}
                      fileType={o.file_type}
                      testId={`run-resource-${node.title}-${o.name}`}
                    />
                  ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
