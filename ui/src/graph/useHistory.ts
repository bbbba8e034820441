// Undo and redo over canvas snapshots. A snapshot is the (immutable) nodes and edges arrays, so
// remembering costs two references; several changes in one event are one step.
import { useCallback, useRef, type MutableRefObject } from "react";
import type { FlowEdge, FlowNode } from "./model";

interface Snapshot {
  nodes: FlowNode[];
  edges: FlowEdge[];
}

const LIMIT = 200;

export function useHistory(
  nodesRef: MutableRefObject<FlowNode[]>,
  edgesRef: MutableRefObject<FlowEdge[]>,
  restore: (snapshot: Snapshot) => void,
) {
  const past = useRef<Snapshot[]>([]);
  const future = useRef<Snapshot[]>([]);
  const rememberedThisTick = useRef(false);

  /** Call before a change: the state it changes becomes one undo step. */
  const remember = useCallback(() => {
    if (rememberedThisTick.current) return;
    rememberedThisTick.current = true;
    queueMicrotask(() => (rememberedThisTick.current = false));
    past.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    if (past.current.length > LIMIT) past.current.shift();
    future.current = [];
  }, [nodesRef, edgesRef]);

  /** Step back; false when there is nothing to undo. */
  const undo = useCallback((): boolean => {
    const previous = past.current.pop();
    if (!previous) return false;
    future.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    restore(previous);
    return true;
  }, [nodesRef, edgesRef, restore]);

  /** Step forward again; false when there is nothing to redo. */
  const redo = useCallback((): boolean => {
    const next = future.current.pop();
    if (!next) return false;
    past.current.push({ nodes: nodesRef.current, edges: edgesRef.current });
    restore(next);
    return true;
  }, [nodesRef, edgesRef, restore]);

  return { remember, undo, redo };
}
