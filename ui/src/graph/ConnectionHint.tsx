// While a wire is dragged over an input it may not go to, say why (the reason from connectionProblem).
import { Panel, useConnection, type Connection } from "@xyflow/react";
import { connectionProblem, type FlowEdge, type FlowNode } from "./model";

interface HandleLike {
  nodeId: string;
  id?: string | null;
  type?: string;
}

/** The connection a drag from one handle to another would make, output first. */
export function asConnection(state: { fromHandle: HandleLike | null; toHandle: HandleLike | null }): Connection {
  const from = state.fromHandle!;
  const to = state.toHandle!;
  if (from.type === "source")
    return { source: from.nodeId, sourceHandle: from.id ?? null, target: to.nodeId, targetHandle: to.id ?? null };
  return { source: to.nodeId, sourceHandle: to.id ?? null, target: from.nodeId, targetHandle: from.id ?? null };
}

export function ConnectionHint({ nodes, edges }: { nodes: FlowNode[]; edges: FlowEdge[] }) {
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
