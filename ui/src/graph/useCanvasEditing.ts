// Editing on the canvas: deleting, wiring (a wire dropped on empty canvas opens the type picker),
// adding and changing nodes, selection, auto layout. Every handler refuses a locked workflow and
// makes an undo step; the handlers stay the same functions while the canvas changes (xyflow habit).
import { useReactFlow, type Connection, type EdgeChange, type FinalConnectionState, type NodeChange, type OnSelectionChangeParams } from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import type { PlynxNode } from "../types";
import { asConnection } from "./ConnectionHint";
import { boxOf, estimateSize, freeSpot as freeSpotIn, layout, type Point } from "./layout";
import { connectionProblem, edgeId, IN, instanceOf, OUT, type FlowEdge, type FlowNode } from "./model";
import type { PickerRequest } from "./TypePicker";
import type { GraphState } from "./useGraphState";
import type { Say } from "./useNotice";

/** Fit to view never zooms past 100 %: a small graph stays at its real size. */
export const FIT_VIEW = { maxZoom: 1, duration: 200 };
/** Typing into one field of one node within this long is one undo step. */
const EDIT_STEP_MS = 1500;

export function useCanvasEditing(graph: GraphState, say: Say, dismiss: () => void) {
  const flow = useReactFlow<FlowNode, FlowEdge>();
  const { nodesRef, edgesRef, setNodes, setEdges, setDirty, remember, refuseIfLocked, locked } = graph;
  const { onNodesChange: applyNodeChanges, onEdgesChange: applyEdgeChanges } = graph;
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const [picker, setPicker] = useState<PickerRequest | null>(null);
  const lastEdit = useRef<{ key: string; at: number }>({ key: "", at: 0 });

  const onNodesChange = useCallback(
    (changes: NodeChange<FlowNode>[]) => {
      if (changes.some((c) => c.type === "remove")) {
        if (refuseIfLocked()) return;
        remember();
      }
      applyNodeChanges(changes);
    },
    [applyNodeChanges, remember, refuseIfLocked],
  );

  const onEdgesChange = useCallback(
    (changes: EdgeChange<FlowEdge>[]) => {
      if (changes.some((c) => c.type === "remove")) {
        if (refuseIfLocked()) return;
        remember();
      }
      applyEdgeChanges(changes);
    },
    [applyEdgeChanges, remember, refuseIfLocked],
  );

  /** Place nodes (their input values become wires), selected unless told otherwise. */
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

  /**
   * Where a node added without a drop goes: free space nearest the middle of the visible canvas (clear of
   * the zoom buttons), covering no node nor handle; the view follows it when the view is full.
   */
  const freeSpot = useCallback(
    (node: PlynxNode): Point => {
      const pane = document.querySelector(".canvas")?.getBoundingClientRect() ?? new DOMRect(0, 0, window.innerWidth, window.innerHeight);
      const inset = 56; // screen pixels: the zoom buttons sit in the bottom-left corner
      const topLeft = flow.screenToFlowPosition({ x: pane.left + inset, y: pane.top + inset / 2 });
      const bottomRight = flow.screenToFlowPosition({ x: pane.right - inset / 2, y: pane.bottom - inset / 2 });
      const view = { ...topLeft, width: Math.max(1, bottomRight.x - topLeft.x), height: Math.max(1, bottomRight.y - topLeft.y) };
      const size = estimateSize(node);
      const spot = freeSpotIn(size, nodesRef.current.map(boxOf), view);
      if (spot.x < view.x || spot.y < view.y || spot.x + size.width > view.x + view.width || spot.y + size.height > view.y + view.height)
        void flow.setCenter(spot.x + size.width / 2, spot.y + size.height / 2, { zoom: flow.getZoom(), duration: 200 });
      return spot;
    },
    [flow, nodesRef],
  );

  const addFromHub = useCallback(
    (source: PlynxNode, at?: { x: number; y: number }) => {
      if (refuseIfLocked()) return;
      const where = at ?? freeSpot(source);
      addNodes([instanceOf(source, where.x, where.y)]);
    },
    [addNodes, freeSpot, refuseIfLocked],
  );

  const updateNode = useCallback(
    (id: string, patch: Partial<PlynxNode>) => {
      if (refuseIfLocked()) return;
      const key = `${id}:${Object.keys(patch).join(",")}`;
      const now = Date.now();
      if (lastEdit.current.key !== key || now - lastEdit.current.at > EDIT_STEP_MS) remember();
      lastEdit.current = { key, at: now };
      setDirty(true);
      setNodes((current) => current.map((n) => (n.id === id ? { ...n, data: { ...n.data, node: { ...n.data.node, ...patch } } } : n)));
    },
    [remember, setNodes, setDirty, refuseIfLocked],
  );

  const isValidConnection = useCallback(
    (c: Connection | FlowEdge) => connectionProblem(c, nodesRef.current, edgesRef.current) === null,
    [nodesRef, edgesRef],
  );

  const onConnect = useCallback(
    (connection: Connection) => {
      if (refuseIfLocked()) return;
      const problem = connectionProblem(connection, nodesRef.current, edgesRef.current);
      if (problem) return say("error", problem);
      remember();
      const output = connection.sourceHandle!.slice(OUT.length);
      const input = connection.targetHandle!.slice(IN.length);
      setEdges((current) => [...current, { id: edgeId(connection.source, output, connection.target, input), ...connection }]);
      dismiss();
    },
    [remember, setEdges, say, dismiss, refuseIfLocked, nodesRef, edgesRef],
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
    [flow, locked, say, nodesRef, edgesRef],
  );

  /** The type picker's choice: placed where the wire was dropped, wired to where it came from. */
  const pick = useCallback(
    (source: PlynxNode) => {
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
    },
    [picker, addNodes, setEdges],
  );

  const closePicker = useCallback(() => setPicker(null), []);
  const sayError = useCallback((text: string) => say("error", text), [say]);
  const onSelectionChange = useCallback(({ nodes: chosen }: OnSelectionChangeParams) => {
    setSelectedId(chosen.length === 1 ? chosen[0].id : null);
  }, []);
  const onNodeDragStart = useCallback(() => remember(), [remember]);

  const reveal = useCallback(
    (nodeId: string) => {
      setSelectedId((current) => current ?? nodeId);
      setNodes((current) => (current.some((n) => n.selected) ? current : current.map((n) => (n.id === nodeId ? { ...n, selected: true } : n))));
    },
    [setNodes],
  );

  const rearrange = useCallback(() => {
    if (refuseIfLocked()) return;
    remember();
    setNodes(layout(nodesRef.current, edgesRef.current));
    window.setTimeout(() => void flow.fitView(FIT_VIEW), 50);
  }, [remember, setNodes, flow, refuseIfLocked, nodesRef, edgesRef]);

  /** What the canvas component needs; one object that changes only when a handler does. */
  const handlers = useMemo(
    () => ({ onNodesChange, onEdgesChange, onConnect, onConnectEnd, isValidConnection, onSelectionChange, onNodeDragStart, onPaneClick: closePicker, pick, closePicker, sayError }),
    [onNodesChange, onEdgesChange, onConnect, onConnectEnd, isValidConnection, onSelectionChange, onNodeDragStart, closePicker, pick, sayError],
  );

  return { selectedId, picker, handlers, addNodes, addFromHub, updateNode, freeSpot, reveal, rearrange };
}

export type CanvasHandlers = ReturnType<typeof useCanvasEditing>["handlers"];
