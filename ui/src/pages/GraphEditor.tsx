// The graph editor: hub panel, canvas, properties; Save / Validate / Run / Cancel / Clone / Upgrade /
// Generate code; live run watching. The canvas state round-trips to the REST graph (graph/model.ts).
import {
  Background,
  Controls,
  MiniMap,
  Panel,
  ReactFlow,
  ReactFlowProvider,
  useConnection,
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
import { StatusBadge } from "../components/StatusBadge";
import { duration, parseDate, runStart } from "../format";
import { HubPanel, DRAG_TYPE, flatten, loadHubs, searchHub } from "../graph/HubPanel";
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

interface Snapshot {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

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

/** Shows, while a wire is dragged over an input it cannot go to, why. */
function ConnectionHint({ nodes, edges }: { nodes: FlowNode[]; edges: FlowEdge[] }) {
  const connection = useConnection();
  if (!connection.inProgress || connection.isValid !== false || !connection.toHandle) return null;
  const problem = connectionProblem(asConnection(connection), nodes, edges);
  if (!problem) return null;
  return (
    <Panel position="bottom-center" className="notice error" data-testid="connection-hint">
      {problem}
    </Panel>
  );
}

function asConnection(state: { fromHandle: { nodeId: string; id?: string | null; type: string } | null; toHandle: { nodeId: string; id?: string | null } | null }): Connection {
  const from = state.fromHandle!;
  const to = state.toHandle!;
  if (from.type === "source")
    return { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null };
  return { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
}

interface Picker {
  left: number;
  top: number;
  position: { x: number; y: number };
  nodeId: string;
  handleId: string;
  handleType: "source" | "target";
  fileTypes: string[];
}

function Editor({ initial, isNew }: { initial: Graph; isNew: boolean }) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const start = useMemo(() => toFlow(initial), [initial]);
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
  const [picker, setPicker] = useState<Picker | null>(null);
  const [pickerItems, setPickerItems] = useState<PlynxNode[] | null>(null);
  const [code, setCode] = useState<string | null>(null);
  const [uploadType, setUploadType] = useState("auto");
  const fileInput = useRef<HTMLInputElement>(null);
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const rememberedThisTick = useRef(false);
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

  const remember = useCallback(() => {
    setDirty(true);
    if (rememberedThisTick.current) return;
    rememberedThisTick.current = true;
    queueMicrotask(() => (rememberedThisTick.current = false));
    past.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    if (past.current.length > 200) past.current.shift();
    future.current = [];
  }, []);

  const undo = useCallback(() => {
    const previous = past.current.pop();
    if (!previous) return say("info", "Nothing to undo.");
    future.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    setNodes(previous.nodes);
    setEdges(previous.edges);
    setDirty(true);
  }, [setNodes, setEdges, say]);

  const redo = useCallback(() => {
    const next = future.current.pop();
    if (!next) return say("info", "Nothing to redo.");
    past.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    setNodes(next.nodes);
    setEdges(next.edges);
    setDirty(true);
  }, [setNodes, setEdges, say]);

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

  useEffect(() => {
    if (!picker) return;
    setPickerItems(null);
    let stale = false;
    (async () => {
      // Every hub's operations (and, for an input, the uploaded files), filtered by the wire's type.
      const hubs = [...(await loadHubs()), ...(picker.handleType === "target" ? [{ kind: "files", title: "Files" }] : [])];
      const found = flatten((await Promise.all(hubs.map((hub) => searchHub(hub, "", 200)))).flat());
      const fits = found.filter((node) =>
        picker.handleType === "source"
          ? node.inputs.some((i) => (i.file_types.length ? i.file_types : ["file"]).some((t) => picker.fileTypes.includes(t)))
          : node.outputs.some((o) => picker.fileTypes.includes(o.file_type)),
      );
      if (!stale) setPickerItems(fits);
    })().catch((e) => {
      if (stale) return;
      setPicker(null);
      say("error", errorMessage(e));
    });
    return () => {
      stale = true;
    };
  }, [picker, say]);

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
          if (
            fresh.node_running_status === node.node_running_status &&
            JSON.stringify(fresh.outputs) === JSON.stringify(node.outputs) &&
            JSON.stringify(fresh.logs) === JSON.stringify(node.logs)
          )
            return n;
          return { ...n, data: { ...n.data, node: { ...node, node_running_status: fresh.node_running_status, outputs: fresh.outputs, logs: fresh.logs } } };
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
          const failed = server.nodes.filter((n) => n.node_running_status === "FAILED").map((n) => `"${n.title}"`);
          if (server.graph_running_status === "SUCCESS") say("success", "The run succeeded.");
          else if (failed.length) say("error", `The run ${server.graph_running_status}: ${failed.join(", ")} failed. Select it to see its stderr.`);
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
  }, [active, saved, header._id, mergeServerGraph, say]);

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
  const resourceKinds = Object.keys(api.resourcesDict);

  return (
    <div className="editor" data-testid="graph-editor">
      <div className="toolbar">
        <input
          className="graph-title"
          value={header.title}
          aria-label="Workflow title"
          disabled={locked}
          onChange={(e) => {
            setHeader({ ...header, title: e.target.value });
            setDirty(true);
          }}
        />
        <span data-testid="graph-status">
          <StatusBadge status={header.graph_running_status} />
        </span>
        {elapsed && (
          <span className="elapsed" data-testid="elapsed" title="elapsed time of the run">
            elapsed {elapsed}
          </span>
        )}
        {dirty && <span className="muted">unsaved</span>}
        <div className="spacer" />
        <button onClick={() => void save()} disabled={!!busy || locked} title="Ctrl+S">
          Save
        </button>
        <button onClick={() => void validate()} disabled={!!busy}>
          Validate
        </button>
        <button className="primary" onClick={() => void approve()} disabled={!!busy || locked}>
          Run
        </button>
        <button onClick={() => void cancel()} disabled={!!busy || !active}>
          Cancel
        </button>
        <span className="sep" />
        <button onClick={undo} disabled={locked} title="Ctrl+Z">
          Undo
        </button>
        <button onClick={redo} disabled={locked} title="Ctrl+Shift+Z">
          Redo
        </button>
        <button onClick={rearrange} disabled={locked}>
          Auto layout
        </button>
        <button onClick={() => void clone()} disabled={!!busy}>
          Clone
        </button>
        <button onClick={() => void upgrade()} disabled={!!busy || locked}>
          Upgrade nodes
        </button>
        <button onClick={() => void generateCode()} disabled={!!busy}>
          Generate code
        </button>
        <span className="sep" />
        <select value={uploadType} onChange={(e) => setUploadType(e.target.value)} aria-label="Type of the uploaded file">
          <option value="auto">type: by extension</option>
          {resourceKinds.map((kind) => (
            <option key={kind} value={kind}>
              {api.resourcesDict[kind].title}
            </option>
          ))}
        </select>
        <button onClick={() => fileInput.current?.click()} disabled={!!busy || locked}>
          Upload file
        </button>
        <input
          ref={fileInput}
          type="file"
          multiple
          hidden
          data-testid="upload-input"
          onChange={(e) => {
            const files = Array.from(e.target.files ?? []);
            e.target.value = "";
            if (files.length) void uploadFiles(files);
          }}
        />
      </div>
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
          {picker && (
            <div className="picker" style={{ left: picker.left, top: picker.top }} data-testid="type-picker">
              <div className="picker-head">
                {picker.handleType === "source" ? "Operations reading" : "Nodes producing"} {picker.fileTypes.join(" or ")}
                <button className="small link" onClick={() => setPicker(null)} aria-label="Close">
                  ✕
                </button>
              </div>
              {pickerItems === null && <div className="muted">Loading…</div>}
              {pickerItems?.length === 0 && <div className="muted">Nothing fits that type yet.</div>}
              {pickerItems?.map((item) => (
                <button key={item._id} className="picker-item" onClick={() => pick(item)}>
                  {item.title} <small>{item.base_node_name}</small>
                </button>
              ))}
            </div>
          )}
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
