// The graph editor: hub panel, canvas, properties; Save / Validate / Run / Cancel / Clone / Upgrade /
// Generate code; live run watching. The pieces live in graph/: the workflow's state (useGraphState),
// canvas editing, drop and upload, the actions' runner, run polling, the keyboard; this file loads
// the workflow and lays the pieces out.
import { ReactFlowProvider } from "@xyflow/react";
import { useCallback, useEffect, useMemo, useState } from "react";
import { api, ApiError, errorMessage } from "../api";
import { LifecycleButtons } from "../components/Lifecycle";
import { Canvas } from "../graph/Canvas";
import { CodeDialog } from "../graph/CodeDialog";
import { Automation } from "../runs/Automation";
import { HubPanel } from "../graph/HubPanel";
import { Overview } from "../graph/Overview";
import { toGraph } from "../graph/model";
import { Properties } from "../graph/Properties";
import { Toolbar, type ToolbarActions } from "../graph/Toolbar";
import { useCanvasEditing } from "../graph/useCanvasEditing";
import { UploadProgress } from "../files/UploadProgress";
import { useDrop } from "../graph/useDrop";
import { useEditorKeys } from "../graph/useEditorKeys";
import { useGraphActions } from "../graph/useGraphActions";
import { useGraphState } from "../graph/useGraphState";
import { useNotice } from "../graph/useNotice";
import { useRunPolling } from "../graph/useRunPolling";
import { RunForm } from "../runs/RunForm";
import { RunHistory } from "../runs/RunHistory";
import { SchedulePanel } from "../schedules/SchedulePanel";
import { runParameters } from "../runs/runParameters";
import { navigate } from "../router";
import type { Graph, PlynxNode } from "../types";

export function GraphEditor({ graphId }: { graphId: string }) {
  const [graph, setGraph] = useState<Graph | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let stale = false;
    setError(null);
    api
      .getGraph(graphId)
      .then((g) => !stale && setGraph(g))
      .catch((e) => {
        if (stale) return;
        if (e instanceof ApiError && e.status === 404) setError(`There is no workflow "${graphId}". ${e.message}`);
        else setError(errorMessage(e));
      });
    return () => {
      stale = true;
    };
  }, [graphId, attempt]);

  if (error)
    return (
      <div className="page">
        <div className="message error" role="alert">
          {error} <button onClick={() => setAttempt(attempt + 1)}>Retry</button>
        </div>
      </div>
    );
  if (!graph) return <div className="page">Loading the workflow&hellip;</div>;
  return (
    <ReactFlowProvider>
      <Editor initial={graph} isNew={graphId === "new"} />
    </ReactFlowProvider>
  );
}

function Editor({ initial, isNew }: { initial: Graph; isNew: boolean }) {
  const { notice, say, dismiss } = useNotice();
  const graph = useGraphState(initial, isNew, say);
  const { header, nodes, edges, active, locked, dirty, saved } = graph;
  const [archived, setArchived] = useState<string | null>(header.archived ?? null);
  const editing = useCanvasEditing(graph, say, dismiss);
  const [code, setCode] = useState<string | null>(null);
  const [uploadType, setUploadType] = useState("auto");
  const [hubKey, setHubKey] = useState(0);
  const [history, setHistory] = useState(false);
  const [automation, setAutomation] = useState(false);
  const [schedules, setSchedules] = useState<Graph | null>(null);
  const [runForm, setRunForm] = useState<Graph | null>(null);

  const { busy, perform, actions, startRun } = useGraphActions({
    graphId: header._id,
    saved,
    dirty,
    currentGraph: graph.currentGraph,
    mergeServerGraph: graph.mergeServerGraph,
    markSaved: graph.markSaved,
    applyValidation: graph.applyValidation,
    replace: graph.replace,
    showCode: setCode,
    refuseIfLocked: graph.refuseIfLocked,
    say,
  });
  const onUploaded = useCallback(() => setHubKey((k) => k + 1), []);
  const drop = useDrop({
    refuseIfLocked: graph.refuseIfLocked,
    addNodes: editing.addNodes,
    addFromHub: editing.addFromHub,
    freeSpot: editing.freeSpot,
    perform,
    uploadType,
    onUploaded,
    say,
  });
  const refreshKey = useRunPolling({ graphId: header._id, watching: active && saved, mergeServerGraph: graph.mergeServerGraph, say, reveal: editing.reveal });
  useEditorKeys({ graph, save: actions.save, addNodes: editing.addNodes, say });

  const { undo, redo } = graph;
  const { rearrange, addFromHub, updateNode } = editing;
  const { uploadFiles } = drop;
  const { currentGraph, refuseIfLocked } = graph;
  // Run: a workflow with run parameters asks for this run's values first; one without runs at once.
  const approve = useCallback(() => {
    const current = currentGraph();
    if (!runParameters(current).length) return actions.approve();
    if (!refuseIfLocked()) setRunForm(current);
  }, [actions, currentGraph, refuseIfLocked]);
  const toolbarActions = useMemo<ToolbarActions>(
    () => ({ ...actions, approve, undo, redo, rearrange, upload: (files) => void uploadFiles(files), history: () => setHistory(true),
      automation: saved ? () => setAutomation(true) : undefined,
      archive: saved && !header._readonly && !archived
        ? () =>
            void api.lifecycle("graphs", header._id, "archive").then(
              (body) => setArchived(body?.graph?.archived ?? new Date().toISOString()),
              (e) => say("error", errorMessage(e)),
            )
        : undefined,
      schedules: () => setSchedules(currentGraph()) }),
    [actions, approve, undo, redo, rearrange, uploadFiles, saved, header._readonly, header._id, archived, say, currentGraph],
  );
  const addFromPanel = useCallback((node: PlynxNode) => addFromHub(node), [addFromHub]);

  const selected = nodes.find((n) => n.id === editing.selectedId);
  const selectedNode = selected ? toGraph(header, [selected], edges.filter((e) => e.target === selected.id)).nodes[0] : null;

  return (
    <div className="editor" data-testid="graph-editor">
      <Toolbar
        title={header.title}
        onTitle={graph.rename}
        status={header.graph_running_status}
        preparing={header.preparing}
        runId={header.run_id}
        updateDate={header.update_date}
        dirty={dirty}
        busy={!!busy}
        locked={locked}
        active={active}
        uploadType={uploadType}
        onUploadType={setUploadType}
        actions={toolbarActions}
      />
      {archived && (
        <div className="message info archived-strip" data-testid="archived-note">
          Archived {archived}: hidden from the Workflows list and searches (its "Archived" filter finds it); it still opens and runs.{" "}
          <LifecycleButtons
            kind="graphs"
            item={{ ...header, archived }}
            onDone={(action) => (action === "delete" ? navigate("/graphs") : setArchived(null))}
            onError={(text) => say("error", text)}
          />
        </div>
      )}
      <div className="editor-body">
        <div className="side">
          <HubPanel onAdd={addFromPanel} refreshKey={hubKey} />
          <Overview />
        </div>
        <Canvas
          nodes={nodes}
          edges={edges}
          locked={locked}
          fitView={graph.start.nodes.length > 0}
          selectedId={selectedNode ? selectedNode._id : null}
          handlers={editing.handlers}
          onDragOver={drop.onDragOver}
          onDrop={drop.onDrop}
          picker={editing.picker}
          busy={busy}
          notice={notice}
          graphErrors={graph.graphErrors}
          onDismiss={dismiss}
        />
        {selectedNode && (
          <Properties
            key={selectedNode._id}
            node={selectedNode}
            errors={selected?.data.errors ?? []}
            readOnly={locked}
            refreshKey={refreshKey}
            onChange={(patch) => updateNode(selectedNode._id, patch)}
          />
        )}
      </div>
      {drop.upload && <UploadProgress upload={drop.upload} onCancel={drop.cancelUpload} />}
      {code !== null && <CodeDialog code={code} onClose={() => setCode(null)} />}
      {history && <RunHistory graphId={header._id} onClose={() => setHistory(false)} />}
      {automation && <Automation graphId={header._id} onClose={() => setAutomation(false)} />}
      {schedules && <SchedulePanel graph={schedules} saved={saved} onClose={() => setSchedules(null)} />}
      {runForm && (
        <RunForm
          graph={runForm}
          onClose={() => setRunForm(null)}
          onRun={(values) => {
            setRunForm(null);
            startRun(values);
          }}
        />
      )}
    </div>
  );
}
