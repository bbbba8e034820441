// The graph editor: hub panel, canvas, properties; Save / Validate / Run / Cancel / Clone / Upgrade /
// Generate code; live run watching. The canvas state round-trips to the REST graph (graph/model.ts).
import {
  Background,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesState,
  useReactFlow,
  type Connection,
  type EdgeChange,
  type FinalConnectionState,
  type NodeChange,
  type OnSelectionChangeParams,
} from "@xyflow/react";
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from "react";
import { api, ApiError, errorMessage } from "../api";
import { CodeEditor } from "../components/CodeEditor";
import { duration, parseDate, runStart } from "../format";
import { asConnection, ConnectionHint } from "../graph/ConnectionHint";
import { HubPanel, DRAG_TYPE } from "../graph/HubPanel";
import { TypePicker, type PickerRequest } from "../graph/TypePicker";
import { Toolbar } from "../graph/Toolbar";
import { useHistory } from "../graph/useHistory";
import {
  connectionProblem,
  edgeId,
  guessFileType,
  IN,
  instanceOf,
  layout,
  newId,
  OUT,
  pasteNodes,
  toFlow,
  toGraph,
  validationMessages,
  type FlowEdge,
  type FlowNode,
} from "../graph/model";
import PlynxNodeView from "../graph/PlynxNodeView";
import { Properties } from "../graph/Properties";
import { navigate } from "../router";
import { ACTIVE_GRAPH_STATUSES, type Graph, type PlynxNode, type ValidationError } from "../types";

const nodeTypes = { plynx: PlynxNodeView };
const STATUS_COLORS: Record<string, string> = {
  IN_QUEUE: "#818cf8",
  RUNNING: "#e0a100",
  SUCCESS: "#2f9e57",
  RESTORED: "#1aa3a3",
  FAILED: "#d92d20",
  CANCELED: "#9ca3af",
};
const minimapColor = (n: FlowNode) =>
  n.data.errors?.length ? "#d92d20" : STATUS_COLORS[n.data.node.node_running_status ?? ""] ?? (n.data.node.base_node_name === "file" ? "#c4c8cf" : "#8fa8d6");
const POLL_MS = 700;
const CLIPBOARD_KEY = "plynx.clipboard";

type Notice = { kind: "error" | "info" | "success"; text: string } | null;

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
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const start = useMemo(() => {
    const loaded = toFlow(initial);
    // A graph built through the API often has no positions: nodes stacked on one spot get laid out.
    const spots = new Set(loaded.nodes.map((n) => `${Math.round(n.position.x)},${Math.round(n.position.y)}`));
    return spots.size < loaded.nodes.length ? { ...loaded, nodes: layout(loaded.nodes, loaded.edges) } : loaded;
  }, [initial]);
  const [header, setHeader] = useState<Graph>({ ...initial, nodes: [] });
  const [nodes, setNodes, onNodesChangeBase] = useNodesState<FlowNode>(start.nodes);
  const [edges, setEdges, onEdgesChangeBase] = useEdgesState<FlowEdge>(start.edges);
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [notice, setNotice] = useState<Notice>(null);
  const [graphErrors, setGraphErrors] = useState<string[]>([]);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(!isNew);
  const [busy, setBusy] = useState<string | null>(null);
  const [refreshKey, setRefreshKey] = useState(0);
  const [hubKey, setHubKey] = useState(0);
  const [tick, setTick] = useState(0);
  const [picker, setPicker] = useState<PickerRequest | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [uploadType, setUploadType] = useState("auto");
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  const lastEdit = useRef<{ key: string; at: number }>({ key: "", at: 0 });

  const active = ACTIVE_GRAPH_STATUSES.includes(header.graph_running_status);
  const locked = active || !!header._readonly;

  const say = useCallback((kind: "error" | "info" | "success", text: string) => setNotice({ kind, text }), []);
  useEffect(() => {
    if (!notice || notice.kind === "error") return;
    const timer = window.setTimeout(() => setNotice(null), 5000);
    return () => window.clearTimeout(timer);
  }, [notice]);

  // --- undo history -----------------------------------------------------------------------------

  const restore = useCallback(
    (snapshot: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
      setNodes(snapshot.nodes);
      setEdges(snapshot.edges);
      setDirty(true);
    },
    [setNodes, setEdges],
  );
  const { remember: rememberStep, undo: undoStep, redo: redoStep } = useHistory(nodesRef, edgesRef, restore);
  const remember = useCallback(() => {
    setDirty(true);
    rememberStep();
  }, [rememberStep]);
  const undo = useCallback(() => {
    if (!undoStep()) say("info", "Nothing to undo.");
  }, [undoStep, say]);
  const redo = useCallback(() => {
    if (!redoStep()) say("info", "Nothing to redo.");
  }, [redoStep, say]);

  const refuseIfLocked = useCallback((): boolean => {
    if (!locked) return false;
    say("error", header._readonly ? "This workflow belongs to someone else: clone it to change it." : "The workflow is running: cancel it or wait for it to end before changing it.");
    return true;
  }, [locked, header._readonly, say]);

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      if (changes.some((c) => c.type === "remove")) {
        if (refuseIfLocked()) return;
        remember();
      }
      onNodesChangeBase(changes);
    },
    [onNodesChangeBase, remember, refuseIfLocked],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      if (changes.some((c) => c.type === "remove")) {
        if (refuseIfLocked()) return;
        remember();
      }
      onEdgesChangeBase(changes);
    },
    [onEdgesChangeBase, remember, refuseIfLocked],
  );

  // --- editing ----------------------------------------------------------------------------------

  const addNodes = useCallback(
    (placed: PlynxNode[], select = true) => {
      remember();
      setNodes((current) => [
        ...current.map((n) => (select && n.selected ? { ...n, selected: false } : n)),
        ...placed.map((node) => ({ id: node._id, type: "plynx" as const, position: { x: node.x ?? 0, y: node.y ?? 0 }, data: { node }, selected: select })),
      ]);
      const wires: FlowEdge[] = [];
      for (const node of placed)
        for (const input of node.inputs)
          for (const value of input.values)
            wires.push({ id: edgeId(value.node_id, value.output_id, node._id, input.name), source: value.node_id, sourceHandle: OUT + value.output_id, target: node._id, targetHandle: IN + input.name });
      if (wires.length) setEdges((current) => [...current, ...wires]);
      if (select && placed.length === 1) setSelectedId(placed[0]._id);
    },
    [remember, setNodes, setEdges],
  );

  const viewportCenter = useCallback(() => {
    const pane = document.querySelector(".canvas")?.getBoundingClientRect();
    const x = pane ? pane.left + pane.width / 2 : window.innerWidth / 2;
    const y = pane ? pane.top + pane.height / 2 : window.innerHeight / 2;
    const jitter = (nodesRef.current.length % 5) * 30;
    const point = flow.screenToFlowPosition({ x, y });
    return { x: point.x - 100 + jitter, y: point.y - 40 + jitter };
  }, [flow]);

  const addFromHub = useCallback(
    (source: PlynxNode, at?: { x: number; y: number }) => {
      if (refuseIfLocked()) return;
      const where = at ?? viewportCenter();
      addNodes([instanceOf(source, where.x, where.y)]);
    },
    [addNodes, viewportCenter, refuseIfLocked],
  );

  const updateNode = useCallback(
    (id: string, patch: Partial<PlynxNode>) => {
      if (refuseIfLocked()) return;
      const key = `${id}:${Object.keys(patch).join(",")}`;
      const now = Date.now();
      if (lastEdit.current.key !== key || now - lastEdit.current.at > 1500) remember();
      lastEdit.current = { key, at: now };
      setDirty(true);
      setNodes((current) => current.map((n) => (n.id === id ? { ...n, data: { ...n.data, node: { ...n.data.node, ...patch } } } : n)));
    },
    [remember, setNodes, refuseIfLocked],
  );

  const isValidConnection = useCallback((c: Connection | FlowEdge) => connectionProblem(c, nodesRef.current, edgesRef.current) === null, []);

  const onConnect = useCallback(
    (connection: Connection) => {
      if (refuseIfLocked()) return;
      const problem = connectionProblem(connection, nodesRef.current, edgesRef.current);
      if (problem) return say("error", problem);
      remember();
      const output = connection.sourceHandle!.slice(OUT.length);
      const input = connection.targetHandle!.slice(IN.length);
      setEdges((current) => [...current, { id: edgeId(connection.source, output, connection.target, input), ...connection }]);
      setNotice(null);
    },
    [remember, setEdges, say, refuseIfLocked],
  );

  const onConnectEnd = useCallback(
    (event: MouseEvent | TouchEvent, state: FinalConnectionState) => {
      if (state.isValid === false && state.toHandle && state.fromHandle) {
        const problem = connectionProblem(asConnection(state), nodesRef.current, edgesRef.current);
        if (problem) say("error", problem);
        return;
      }
      if (state.toNode || !state.fromHandle || !state.fromNode || locked) return;
      // A wire dropped on empty canvas: offer the operations that fit its type.
      const point = "changedTouches" in event ? event.changedTouches[0] : event;
      const fromNode = nodesRef.current.find((n) => n.id === state.fromHandle!.nodeId)?.data.node;
      if (!fromNode || !state.fromHandle.id) return;
      const handleType = state.fromHandle.type as "source" | "target";
      const fileTypes =
        handleType === "source"
          ? [fromNode.outputs.find((o) => OUT + o.name === state.fromHandle!.id)?.file_type ?? "file"]
          : fromNode.inputs.find((i) => IN + i.name === state.fromHandle!.id)?.file_types ?? ["file"];
      const pane = document.querySelector(".canvas")!.getBoundingClientRect();
      setPicker({
        left: point.clientX - pane.left,
        top: point.clientY - pane.top,
        position: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
        nodeId: fromNode._id,
        handleId: state.fromHandle.id,
        handleType,
        fileTypes,
      });
    },
    [flow, locked, say],
  );

  const closePicker = useCallback(() => setPicker(null), []);
  const sayError = useCallback((text: string) => say("error", text), [say]);

  const pick = (source: PlynxNode) => {
    if (!picker) return;
    const placed = instanceOf(source, picker.position.x, picker.position.y);
    if (picker.handleType === "source") {
      const outputName = picker.handleId.slice(OUT.length);
      const input = placed.inputs.find((i) => (i.file_types.length ? i.file_types : ["file"]).some((t) => picker.fileTypes.includes(t)));
      if (input) input.values = [{ node_id: picker.nodeId, output_id: outputName }];
      addNodes([placed]);
    } else {
      const output = placed.outputs.find((o) => picker.fileTypes.includes(o.file_type));
      addNodes([placed]);
      if (output) {
        const inputName = picker.handleId.slice(IN.length);
        setEdges((current) => [...current, { id: edgeId(placed._id, output.name, picker.nodeId, inputName), source: placed._id, sourceHandle: OUT + output.name, target: picker.nodeId, targetHandle: picker.handleId }]);
      }
    }
    setPicker(null);
  };

  // --- drag and drop: hub items and files from the desktop --------------------------------------

  const uploadFiles = useCallback(
    async (files: File[], at?: { x: number; y: number }) => {
      if (refuseIfLocked()) return;
      const known = Object.keys(api.resourcesDict);
      let offset = 0;
      for (const file of files) {
        const fileType = uploadType === "auto" ? guessFileType(file.name, known) : uploadType;
        setBusy(`Uploading ${file.name}…`);
        try {
          const body = await api.upload(file, file.name, fileType);
          const where = at ?? viewportCenter();
          addNodes([instanceOf(body.node, where.x + offset, where.y + offset)]);
          offset += 40;
          say("success", `Uploaded "${file.name}" as ${fileType}.`);
          setHubKey((k) => k + 1);
        } catch (e) {
          say("error", `Upload of "${file.name}" failed: ${errorMessage(e)}`);
        } finally {
          setBusy(null);
        }
      }
    },
    [addNodes, say, uploadType, viewportCenter, refuseIfLocked],
  );

  const onDragOver = useCallback((event: DragEvent) => {
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  }, []);

  const onDrop = useCallback(
    (event: DragEvent) => {
      event.preventDefault();
      const position = flow.screenToFlowPosition({ x: event.clientX, y: event.clientY });
      const raw = event.dataTransfer.getData(DRAG_TYPE);
      if (raw) {
        try {
          addFromHub(JSON.parse(raw) as PlynxNode, position);
        } catch (e) {
          say("error", `Could not place that item: ${errorMessage(e)}`);
        }
        return;
      }
      const files = Array.from(event.dataTransfer.files ?? []);
      if (files.length) void uploadFiles(files, position);
    },
    [flow, addFromHub, uploadFiles, say],
  );

  // --- talking to the API -----------------------------------------------------------------------

  const currentGraph = useCallback(() => toGraph(header, nodesRef.current, edgesRef.current), [header]);

  const applyValidation = useCallback(
    (tree: ValidationError | undefined) => {
      const { byNode, graph } = validationMessages(tree);
      setGraphErrors(graph);
      setNodes((current) =>
        current.map((n) => {
          const errors = byNode[n.id];
          if (!errors && !n.data.errors?.length) return n;
          return { ...n, data: { ...n.data, errors: errors ?? [] } };
        }),
      );
      return Object.values(byNode).reduce((sum, list) => sum + list.length, 0) + graph.length;
    },
    [setNodes],
  );

  /** Fold the server's statuses and results into the canvas without moving anything. */
  const mergeServerGraph = useCallback(
    (server: Graph) => {
      setHeader((h) => ({ ...h, ...server, nodes: [] }));
      const byId = new Map(server.nodes.map((n) => [n._id, n]));
      setNodes((current) =>
        current.map((n) => {
          const fresh = byId.get(n.id);
          if (!fresh) return n;
          const node = n.data.node;
          // a composite's operations carry their own statuses and results (its `_nodes`)
          const parameters = node.base_node_name === "graph" ? fresh.parameters : node.parameters;
          if (
            fresh.node_running_status === node.node_running_status &&
            JSON.stringify(fresh.outputs) === JSON.stringify(node.outputs) &&
            JSON.stringify(fresh.logs) === JSON.stringify(node.logs) &&
            JSON.stringify(parameters) === JSON.stringify(node.parameters)
          )
            return n;
          return { ...n, data: { ...n.data, node: { ...node, node_running_status: fresh.node_running_status, outputs: fresh.outputs, logs: fresh.logs, parameters } } };
        }),
      );
    },
    [setNodes],
  );

  const markSaved = useCallback((id: string) => {
    setSaved(true);
    setDirty(false);
    if (window.location.pathname !== `/graphs/${id}`) window.history.replaceState({}, "", `/graphs/${id}`);
  }, []);

  const run = useCallback(
    async (label: string, action: () => Promise<void>) => {
      setBusy(label);
      try {
        await action();
      } catch (e) {
        say("error", `${label.replace(/…$/, "")} failed: ${errorMessage(e)}`);
      } finally {
        setBusy(null);
      }
    },
    [say],
  );

  const save = useCallback(
    () =>
      run("Saving…", async () => {
        if (refuseIfLocked()) return;
        const response = await api.postGraph(currentGraph(), ["SAVE"]);
        if (response.graph) mergeServerGraph(response.graph);
        markSaved(header._id);
        say("success", "Saved.");
      }),
    [run, currentGraph, mergeServerGraph, markSaved, header._id, say, refuseIfLocked],
  );

  const validate = useCallback(
    () =>
      run("Validating…", async () => {
        const response = await api.postGraph(currentGraph(), ["VALIDATE"]);
        const count = applyValidation(response.validation_error);
        if (response.status === "VALIDATION_FAILED") say("error", `The workflow is not valid: ${count} problem${count === 1 ? "" : "s"}, shown on the nodes in red.`);
        else say("success", "The workflow is valid: it can run.");
      }),
    [run, currentGraph, applyValidation, say],
  );

  const approve = useCallback(
    () =>
      run("Starting the run…", async () => {
        if (refuseIfLocked()) return;
        const response = await api.postGraph(currentGraph(), ["APPROVE"]);
        const count = applyValidation(response.validation_error);
        if (response.graph) mergeServerGraph(response.graph);
        markSaved(header._id);
        if (response.status === "VALIDATION_FAILED") {
          say("error", `Not started: ${count} problem${count === 1 ? "" : "s"}, shown on the nodes in red.`);
          return;
        }
        say("info", "Running…");
      }),
    [run, currentGraph, applyValidation, mergeServerGraph, markSaved, header._id, say, refuseIfLocked],
  );

  const cancel = useCallback(
    () =>
      run("Canceling…", async () => {
        const response = await api.graphAction(header._id, "cancel");
        if (response.graph) mergeServerGraph(response.graph);
        say("info", "Cancel requested.");
      }),
    [run, header._id, mergeServerGraph, say],
  );

  const clone = useCallback(
    () =>
      run("Cloning…", async () => {
        let newGraphId: string | undefined;
        try {
          if (!saved || dirty) throw new ApiError("unsaved", 0, "unavailable");
          newGraphId = (await api.graphAction(header._id, "clone")).new_graph_id;
        } catch (e) {
          if (!(e instanceof ApiError) || e.kind !== "unavailable") throw e;
          // No clone endpoint yet (or unsaved changes): the copy is this canvas saved under a new id.
          const copy = currentGraph();
          copy._id = newId();
          copy.title = `${copy.title} (copy)`;
          copy.graph_running_status = "CREATED";
          copy.nodes = copy.nodes.map((n) =>
            n.base_node_name === "file" ? n : { ...n, node_running_status: "CREATED", outputs: n.outputs.map((o) => ({ ...o, resource_id: null })), logs: n.logs.map((l) => ({ ...l, resource_id: null })) },
          );
          const response = await api.postGraph(copy, ["SAVE"]);
          newGraphId = response.graph?._id ?? copy._id;
        }
        if (newGraphId) navigate(`/graphs/${newGraphId}`);
      }),
    [run, saved, dirty, header._id, currentGraph],
  );

  const upgrade = useCallback(
    () =>
      run("Upgrading nodes…", async () => {
        if (refuseIfLocked()) return;
        const response = await api.postGraph(currentGraph(), ["UPGRADE_NODES"]);
        if (response.graph) {
          remember();
          const fresh = toFlow(response.graph);
          setNodes(fresh.nodes);
          setEdges(fresh.edges);
        }
        say("success", `${response.upgraded_nodes_count ?? 0} node(s) upgraded to their successors.`);
      }),
    [run, currentGraph, remember, setNodes, setEdges, say, refuseIfLocked],
  );

  const generateCode = useCallback(
    () =>
      run("Generating code…", async () => {
        const response = await api.postGraph(currentGraph(), ["GENERATE_CODE"]);
        setCode(response.code ?? "# the server returned no code");
      }),
    [run, currentGraph],
  );

  const asOperation = useCallback(
    () =>
      run("Saving as an operation…", async () => {
        if (!saved || dirty) {
          const response = await api.postGraph(currentGraph(), ["SAVE"]);
          if (response.graph) mergeServerGraph(response.graph);
          markSaved(header._id);
        }
        const response = await api.graphAction(header._id, "as_operation");
        if (response.node) navigate(`/nodes/${response.node._id}`);
      }),
    [run, saved, dirty, currentGraph, mergeServerGraph, markSaved, header._id],
  );

  const rearrange = useCallback(() => {
    if (refuseIfLocked()) return;
    remember();
    setNodes(layout(nodesRef.current, edgesRef.current));
    window.setTimeout(() => void flow.fitView({ duration: 200 }), 50);
  }, [remember, setNodes, flow, refuseIfLocked]);

  // --- watching a run ---------------------------------------------------------------------------

  useEffect(() => {
    if (!active || !saved) return;
    let stopped = false;
    let failures = 0;
    const poll = async () => {
      try {
        const server = await api.getGraph(header._id);
        if (stopped) return;
        failures = 0;
        mergeServerGraph(server);
        setRefreshKey((k) => k + 1);
        if (!ACTIVE_GRAPH_STATUSES.includes(server.graph_running_status)) {
          const failedNodes = server.nodes.filter((n) => n.node_running_status === "FAILED");
          const failed = failedNodes.map((n) => `"${n.title}"`);
          if (server.graph_running_status === "SUCCESS") say("success", "The run succeeded.");
          else if (failed.length) {
            say("error", `The run ${server.graph_running_status}: ${failed.join(", ")} failed; its stderr is on the right.`);
            // Show the first failure's stderr at once, unless the user is looking at another node.
            const first = failedNodes[0]._id;
            setSelectedId((current) => current ?? first);
            setNodes((current) => (current.some((n) => n.selected) ? current : current.map((n) => (n.id === first ? { ...n, selected: true } : n))));
          }
          else say("info", `The run ended: ${server.graph_running_status}.`);
        }
      } catch (e) {
        failures += 1;
        if (failures === 3) say("error", `Lost track of the run: ${errorMessage(e)}`);
      }
    };
    const timer = window.setInterval(() => void poll(), POLL_MS);
    const clock = window.setInterval(() => setTick((t) => t + 1), 200);
    return () => {
      stopped = true;
      window.clearInterval(timer);
      window.clearInterval(clock);
    };
  }, [active, saved, header._id, mergeServerGraph, say, setNodes]);

  // --- keyboard: undo/redo, copy/paste, save ----------------------------------------------------

  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement;
      if (target.closest("input, textarea, select, [contenteditable=true], .cm-editor")) return;
      const mod = event.ctrlKey || event.metaKey;
      if (!mod) return;
      const key = event.key.toLowerCase();
      if (key === "z" && !event.shiftKey) {
        event.preventDefault();
        if (!refuseIfLocked()) undo();
      } else if ((key === "z" && event.shiftKey) || key === "y") {
        event.preventDefault();
        if (!refuseIfLocked()) redo();
      } else if (key === "s") {
        event.preventDefault();
        void save();
      } else if (key === "a") {
        event.preventDefault();
        setNodes((current) => current.map((n) => (n.selected ? n : { ...n, selected: true })));
      } else if (key === "c") {
        const chosen = nodesRef.current.filter((n) => n.selected);
        if (!chosen.length) return;
        const copied = toGraph(header, chosen, edgesRef.current.filter((e) => chosen.some((n) => n.id === e.source) && chosen.some((n) => n.id === e.target))).nodes;
        localStorage.setItem(CLIPBOARD_KEY, JSON.stringify(copied));
        say("info", `Copied ${copied.length} node${copied.length === 1 ? "" : "s"}.`);
      } else if (key === "v") {
        if (refuseIfLocked()) return;
        const raw = localStorage.getItem(CLIPBOARD_KEY);
        if (!raw) return;
        try {
          addNodes(pasteNodes(JSON.parse(raw) as PlynxNode[], 40));
        } catch {
          say("error", "The clipboard does not hold PLynx nodes.");
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [undo, redo, save, addNodes, header, say, refuseIfLocked, setNodes]);

  useEffect(() => {
    if (!dirty) return;
    const warn = (event: BeforeUnloadEvent) => {
      event.preventDefault();
    };
    window.addEventListener("beforeunload", warn);
    return () => window.removeEventListener("beforeunload", warn);
  }, [dirty]);

  const onSelectionChange = useCallback(({ nodes: chosen }: OnSelectionChangeParams) => {
    setSelectedId(chosen.length === 1 ? chosen[0].id : null);
  }, []);

  // --- render -----------------------------------------------------------------------------------

  const selected = nodes.find((n) => n.id === selectedId);
  const selectedNode = selected ? toGraph(header, [selected], edges.filter((e) => e.target === selected.id)).nodes[0] : null;
  const started = runStart(header.run_id);
  const ended = active ? new Date() : parseDate(header.update_date);
  void tick;
  const elapsed = started && ended && header.graph_running_status !== "CREATED" ? duration(ended.getTime() - started.getTime()) : null;

  return (
    <div className="editor" data-testid="graph-editor">
      <Toolbar
        title={header.title}
        onTitle={(title) => {
          setHeader({ ...header, title });
          setDirty(true);
        }}
        status={header.graph_running_status}
        elapsed={elapsed}
        dirty={dirty}
        busy={!!busy}
        locked={locked}
        active={active}
        uploadType={uploadType}
        onUploadType={setUploadType}
        actions={{
          save: () => void save(),
          validate: () => void validate(),
          approve: () => void approve(),
          cancel: () => void cancel(),
          undo,
          redo,
          rearrange,
          clone: () => void clone(),
          upgrade: () => void upgrade(),
          generateCode: () => void generateCode(),
          asOperation: () => void asOperation(),
          upload: (files) => void uploadFiles(files),
        }}
      />
      <div className="editor-body">
        <HubPanel onAdd={(node) => addFromHub(node)} refreshKey={hubKey} />
        <div className="canvas" onDragOver={onDragOver} onDrop={onDrop}>
          <ReactFlow<FlowNode, FlowEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onSelectionChange={onSelectionChange}
            onNodeDragStart={() => remember()}
            onPaneClick={() => setPicker(null)}
            nodesDraggable={!locked}
            nodesConnectable={!locked}
            deleteKeyCode={locked ? null : ["Backspace", "Delete"]}
            fitView={start.nodes.length > 0 /* an empty canvas keeps its viewport: drops land where they are dropped */}
            fitViewOptions={{ maxZoom: 1 }}
            minZoom={0.05}
            proOptions={{ hideAttribution: true }}
          >
            <Background />
            <Controls />
            <MiniMap pannable zoomable nodeStrokeWidth={3} nodeColor={minimapColor} />
            <ConnectionHint nodes={nodes} edges={edges} />
            {(notice || busy || graphErrors.length > 0) && (
              <Panel position="top-center" className="notices">
                {busy && <div className="notice info">{busy}</div>}
                {notice && (
                  <div className={`notice ${notice.kind}`} role={notice.kind === "error" ? "alert" : "status"} data-testid="notice">
                    {notice.text}
                    <button className="small link" onClick={() => setNotice(null)} aria-label="Dismiss">
                      ✕
                    </button>
                  </div>
                )}
                {graphErrors.map((text, i) => (
                  <div className="notice error" key={i} data-testid="graph-error">
                    {text}
                  </div>
                ))}
              </Panel>
            )}
            {nodes.length === 0 && (
              <Panel position="top-left" className="hint">
                Drag operations and files from the left onto the canvas, or drop a file from your computer here.
              </Panel>
            )}
          </ReactFlow>
          {picker && <TypePicker request={picker} onPick={pick} onClose={closePicker} onError={sayError} />}
        </div>
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
      {code !== null && (
        <div className="modal" role="dialog" aria-label="Generated code">
          <div className="modal-body">
            <div className="page-head">
              <h2>Python code that recreates this workflow</h2>
              <div className="spacer" />
              <button onClick={() => void navigator.clipboard?.writeText(code)}>Copy</button>
              <button onClick={() => setCode(null)}>Close</button>
            </div>
            <CodeEditor value={code} mode="python" readOnly height="60vh" />
          </div>
        </div>
      )}
    </div>
  );
}
