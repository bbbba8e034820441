// The workflow being edited: its header, the canvas's nodes and wires (the REST graph seen through
// model.ts), whether it is saved, its validation messages and its undo history.
import { useEdgesState, useNodesState } from "@xyflow/react";
import { useCallback, useMemo, useRef, useState } from "react";
import { ACTIVE_GRAPH_STATUSES, type Graph, type ValidationError } from "../types";
import { loadCanvas, mergeRunState, toFlow, toGraph, validationMessages, withErrors, type FlowEdge, type FlowNode } from "./model";
import { useHistory } from "./useHistory";
import type { Say } from "./useNotice";

export function useGraphState(initial: Graph, isNew: boolean, say: Say) {
  const start = useMemo(() => loadCanvas(initial), [initial]);
  const [header, setHeader] = useState<Graph>(() => ({ ...initial, nodes: [] }));
  const [nodes, setNodes, onNodesChange] = useNodesState<FlowNode>(start.nodes);
  const [edges, setEdges, onEdgesChange] = useEdgesState<FlowEdge>(start.edges);
  const [dirty, setDirty] = useState(false);
  const [saved, setSaved] = useState(!isNew);
  const [graphErrors, setGraphErrors] = useState<string[]>([]);
  // Handlers read the latest canvas through refs, so they stay the same functions while it changes.
  const nodesRef = useRef(nodes);
  const edgesRef = useRef(edges);
  const headerRef = useRef(header);
  nodesRef.current = nodes;
  edgesRef.current = edges;
  headerRef.current = header;

  const active = ACTIVE_GRAPH_STATUSES.includes(header.graph_running_status);
  const locked = active || !!header._readonly;

  const restore = useCallback(
    (snapshot: { nodes: FlowNode[]; edges: FlowEdge[] }) => {
      setNodes(snapshot.nodes);
      setEdges(snapshot.edges);
      setDirty(true);
    },
    [setNodes, setEdges],
  );
  const { remember: rememberStep, undo: undoStep, redo: redoStep } = useHistory(nodesRef, edgesRef, restore);
  /** Call before a change of the canvas: it becomes one undo step and the workflow unsaved. */
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

  /** True (and says why) when the workflow may not be changed now. */
  const refuseIfLocked = useCallback((): boolean => {
    if (!locked) return false;
    say("error", header._readonly ? "This workflow belongs to someone else: clone it to change it." : "The workflow is running: cancel it or wait for it to end before changing it.");
    return true;
  }, [locked, header._readonly, say]);

  const rename = useCallback((title: string) => {
    setHeader((h) => ({ ...h, title }));
    setDirty(true);
  }, []);

  const currentGraph = useCallback(() => toGraph(headerRef.current, nodesRef.current, edgesRef.current), []);

  /** The validation tree's messages on the nodes and above the canvas; how many there are. */
  const applyValidation = useCallback(
    (tree: ValidationError | undefined): number => {
      const { byNode, graph } = validationMessages(tree);
      setGraphErrors(graph);
      setNodes((current) => withErrors(current, byNode));
      return Object.values(byNode).reduce((sum, list) => sum + list.length, 0) + graph.length;
    },
    [setNodes],
  );

  /** Fold the server's statuses and results into the canvas without moving anything. */
  const mergeServerGraph = useCallback(
    (server: Graph) => {
      setHeader((h) => {
        const next = { ...h, ...server, nodes: [] };
        return JSON.stringify(next) === JSON.stringify(h) ? h : next;
      });
      setNodes((current) => mergeRunState(current, server));
    },
    [setNodes],
  );

  /** The server's version of the whole canvas (Upgrade nodes), as one undo step. */
  const replace = useCallback(
    (server: Graph) => {
      remember();
      const fresh = toFlow(server);
      setNodes(fresh.nodes);
      setEdges(fresh.edges);
    },
    [remember, setNodes, setEdges],
  );

  const markSaved = useCallback(() => {
    const id = headerRef.current._id;
    setSaved(true);
    setDirty(false);
    if (window.location.pathname !== `/graphs/${id}`) window.history.replaceState({}, "", `/graphs/${id}`);
  }, []);

  return {
    start,
    header,
    nodes,
    edges,
    nodesRef,
    edgesRef,
    setNodes,
    setEdges,
    onNodesChange,
    onEdgesChange,
    active,
    locked,
    dirty,
    setDirty,
    saved,
    graphErrors,
    remember,
    undo,
    redo,
    refuseIfLocked,
    rename,
    currentGraph,
    applyValidation,
    mergeServerGraph,
    replace,
    markSaved,
  };
}

export type GraphState = ReturnType<typeof useGraphState>;
