// The canvas state and the REST graph are the same thing seen twice: React Flow nodes hold the
// PLynx node JSON in `data.node` (JSON only, no callbacks), and edges are the inputs' `values`.
import type { Connection, Edge, Node } from "@xyflow/react";
import type { Graph, PlynxNode, ValidationError } from "../types";
import { layout } from "./layout";

export interface PlynxNodeData extends Record<string, unknown> {
  node: PlynxNode;
  /** Messages from the last Validate/Run, shown on the node. */
  errors?: string[];
}

export type FlowNode = Node<PlynxNodeData, "plynx">;
export type FlowEdge = Edge;

export const IN = "i:";
export const OUT = "o:";

/** 24 hex characters, like the ids the API hands out. */
export function newId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function edgeId(source: string, output: string, target: string, input: string): string {
  return `${source}:${output}->${target}:${input}`;
}

export function toFlow(graph: Graph): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const ids = new Set(graph.nodes.map((n) => n._id));
  const nodes: FlowNode[] = graph.nodes.map((node) => ({
    id: node._id,
    type: "plynx",
    position: { x: node.x ?? 0, y: node.y ?? 0 },
    data: { node },
  }));
  const edges: FlowEdge[] = [];
  for (const node of graph.nodes) {
    for (const input of node.inputs ?? []) {
      for (const value of input.values ?? []) {
        if (!ids.has(value.node_id)) continue;
        edges.push({
          id: edgeId(value.node_id, value.output_id, node._id, input.name),
          source: value.node_id,
          sourceHandle: OUT + value.output_id,
          target: node._id,
          targetHandle: IN + input.name,
        });
      }
    }
  }
  return { nodes, edges };
}

/** The canvas of a loaded graph. One built through the API often has no positions: nodes stacked on one spot get laid out. */
export function loadCanvas(graph: Graph): { nodes: FlowNode[]; edges: FlowEdge[] } {
  const loaded = toFlow(graph);
  const spots = new Set(loaded.nodes.map((n) => `${Math.round(n.position.x)},${Math.round(n.position.y)}`));
  return spots.size < loaded.nodes.length ? { ...loaded, nodes: layout(loaded.nodes, loaded.edges) } : loaded;
}

/** The graph to POST: node positions from the canvas, input values from the wires. */
export function toGraph(header: Graph, nodes: FlowNode[], edges: FlowEdge[]): Graph {
  const incoming = new Map<string, FlowEdge[]>();
  for (const edge of edges) {
    const key = `${edge.target}|${edge.targetHandle}`;
    const list = incoming.get(key) ?? [];
    list.push(edge);
    incoming.set(key, list);
  }
  return {
    ...header,
    nodes: nodes.map((flowNode) => {
      const node = flowNode.data.node;
      return {
        ...node,
        x: Math.round(flowNode.position.x),
        y: Math.round(flowNode.position.y),
        inputs: (node.inputs ?? []).map((input) => ({
          ...input,
          values: (incoming.get(`${flowNode.id}|${IN}${input.name}`) ?? []).map((edge) => ({
            node_id: edge.source,
            output_id: (edge.sourceHandle ?? "").slice(OUT.length),
          })),
        })),
      };
    }),
  };
}

/** The server's statuses and results folded into the canvas, nothing moved; the same array when nothing changed. */
export function mergeRunState(current: FlowNode[], server: Graph): FlowNode[] {
  const byId = new Map(server.nodes.map((n) => [n._id, n]));
  let changed = false;
  const merged = current.map((n) => {
    const fresh = byId.get(n.id);
    if (!fresh) return n;
    const node = n.data.node;
    // a composite's operations carry their own statuses and results (its `_nodes`)
    const parameters = node.base_node_name === "graph" ? fresh.parameters : node.parameters;
    if (
      fresh.node_running_status === node.node_running_status &&
      JSON.stringify(fresh.outputs) === JSON.stringify(node.outputs) &&
      JSON.stringify(fresh.logs) === JSON.stringify(node.logs) &&
      JSON.stringify(parameters) === JSON.stringify(node.parameters) &&
      JSON.stringify(fresh.restored_from) === JSON.stringify(node.restored_from)
    )
      return n;
    changed = true;
    return { ...n, data: { ...n.data, node: { ...node, node_running_status: fresh.node_running_status, outputs: fresh.outputs, logs: fresh.logs, parameters, restored_from: fresh.restored_from } } };
  });
  return changed ? merged : current;
}

/** Each node's validation messages (from validationMessages) on the node; nodes without old or new messages unchanged. */
export function withErrors(current: FlowNode[], byNode: Record<string, string[]>): FlowNode[] {
  return current.map((n) => {
    const errors = byNode[n.id];
    if (!errors && !n.data.errors?.length) return n;
    return { ...n, data: { ...n.data, errors: errors ?? [] } };
  });
}

/** A new workflow from this one as it stands: a fresh id, "(copy)" in the title, operations not run. */
export function copyOfGraph(graph: Graph): Graph {
  return {
    ...graph,
    _id: newId(),
    title: `${graph.title} (copy)`,
    graph_running_status: "CREATED",
    nodes: graph.nodes.map((n) =>
      n.base_node_name === "file" ? n : { ...n, node_running_status: "CREATED", outputs: n.outputs.map((o) => ({ ...o, resource_id: null })), logs: n.logs.map((l) => ({ ...l, resource_id: null })) },
    ),
  };
}

/** A stored operation or file placed in a graph: a fresh id, its parent, no links, no results. */
export function instanceOf(source: PlynxNode, x: number, y: number): PlynxNode {
  const copy: PlynxNode = JSON.parse(JSON.stringify(source));
  const isFile = copy.base_node_name === "file";
  copy.parent_node_id = source._id;
  copy._id = newId();
  copy.x = Math.round(x);
  copy.y = Math.round(y);
  copy.inputs = (copy.inputs ?? []).map((input) => ({ ...input, values: [] }));
  if (!isFile) copy.outputs = (copy.outputs ?? []).map((output) => ({ ...output, resource_id: null }));
  copy.logs = (copy.logs ?? []).map((log) => ({ ...log, resource_id: null }));
  copy.node_running_status = isFile ? "STATIC" : "CREATED";
  delete copy.insertion_date;
  delete copy.update_date;
  delete copy._readonly;
  return copy;
}

function reaches(from: string, to: string, edges: FlowEdge[]): boolean {
  const next = new Map<string, string[]>();
  for (const edge of edges) next.set(edge.source, [...(next.get(edge.source) ?? []), edge.target]);
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

/** Why a wire may not be drawn, in words; null when it may. */
export function connectionProblem(connection: Connection | FlowEdge, nodes: FlowNode[], edges: FlowEdge[]): string | null {
  const source = nodes.find((n) => n.id === connection.source)?.data.node;
  const target = nodes.find((n) => n.id === connection.target)?.data.node;
  if (!source || !target) return "Connect an output to an input.";
  if (!connection.sourceHandle?.startsWith(OUT) || !connection.targetHandle?.startsWith(IN))
    return "Wires go from an output (right side) to an input (left side).";
  const outputName = connection.sourceHandle.slice(OUT.length);
  const inputName = connection.targetHandle.slice(IN.length);
  const output = source.outputs.find((o) => o.name === outputName);
  const input = target.inputs.find((i) => i.name === inputName);
  if (!output || !input) return "That output or input no longer exists.";
  if (source._id === target._id) return `"${target.title}" cannot read its own output.`;
  const accepted = input.file_types?.length ? input.file_types : ["file"];
  if (!accepted.includes(output.file_type))
    return `Types do not match: output "${output.name}" of "${source.title}" is ${output.file_type}, but input "${input.name}" of "${target.title}" accepts ${accepted.join(", ")}.`;
  const existing = edges.filter((e) => e.target === target._id && e.targetHandle === connection.targetHandle);
  if (existing.some((e) => e.source === source._id && e.sourceHandle === connection.sourceHandle))
    return `Output "${output.name}" is already connected to input "${input.name}".`;
  if (input.max_count >= 0 && existing.length >= input.max_count)
    return `Input "${input.name}" of "${target.title}" takes at most ${input.max_count} ${input.max_count === 1 ? "file" : "files"}; remove its wire first.`;
  if (reaches(target._id, source._id, edges))
    return `That wire would make a cycle: "${source.title}" already depends on "${target.title}".`;
  return null;
}

const CODE_TEXT: Record<string, string> = {
  MISSING_INPUT: "needs a connected input",
  MISSING_PARAMETER: "is empty",
  INVALID_VALUE: "has an invalid value",
  IN_DEPENDENTS: "is part of a cycle",
  DEPRECATED_NODE: "uses a deprecated operation",
  EMPTY_GRAPH: "is empty",
};

function describe(error: ValidationError): string {
  const what = CODE_TEXT[error.validation_code] ?? error.validation_code;
  switch (error.target) {
    case "INPUT":
      if (error.validation_code === "INVALID_VALUE") return `Input "${error.object_id}" has too many connections`;
      return `Input "${error.object_id}" ${what}`;
    case "PARAMETER":
      return `Parameter "${error.object_id}" ${what}`;
    case "PROPERTY":
      return error.validation_code === "MISSING_INPUT" ? `Output "${error.object_id}" has no file` : `"${error.object_id}" ${what}`;
    case "NODE":
      return `This node ${what}`;
    default:
      return `${error.target} ${error.object_id} ${what}`;
  }
}

/** The validation tree as messages per node id, plus messages about the graph as a whole. */
export function validationMessages(tree: ValidationError | undefined): { byNode: Record<string, string[]>; graph: string[] } {
  const byNode: Record<string, string[]> = {};
  const graph: string[] = [];
  if (!tree) return { byNode, graph };
  if (tree.target === "GRAPH" && !tree.children.length) graph.push(`The graph ${CODE_TEXT[tree.validation_code] ?? tree.validation_code}: add an operation or a file.`);
  const visitNode = (error: ValidationError) => {
    const messages = error.children.length ? error.children.map(describe) : [describe(error)];
    byNode[error.object_id] = [...(byNode[error.object_id] ?? []), ...messages];
  };
  for (const child of tree.target === "GRAPH" ? tree.children : [tree]) {
    if (child.target === "NODE") visitNode(child);
    else graph.push(describe(child));
  }
  return { byNode, graph };
}

/** Copied nodes pasted with new ids; wires among them follow, wires to the outside are dropped. */
export function pasteNodes(copied: PlynxNode[], offset: number): PlynxNode[] {
  const ids = new Map(copied.map((n) => [n._id, newId()]));
  return copied.map((node) => {
    const copy: PlynxNode = JSON.parse(JSON.stringify(node));
    copy._id = ids.get(node._id)!;
    copy.x = (node.x ?? 0) + offset;
    copy.y = (node.y ?? 0) + offset;
    copy.inputs = copy.inputs.map((input) => ({
      ...input,
      values: input.values.filter((v) => ids.has(v.node_id)).map((v) => ({ ...v, node_id: ids.get(v.node_id)! })),
    }));
    if (copy.base_node_name !== "file") {
      copy.node_running_status = "CREATED";
      copy.outputs = copy.outputs.map((o) => ({ ...o, resource_id: null }));
      copy.logs = copy.logs.map((o) => ({ ...o, resource_id: null }));
    }
    return copy;
  });
}

export function guessFileType(filename: string, known: string[]): string {
  const ext = filename.toLowerCase().split(".").pop() ?? "";
  const map: Record<string, string> = { csv: "csv", tsv: "tsv", json: "json", png: "image", jpg: "image", jpeg: "image", gif: "image", svg: "image", pdf: "pdf" };
  const kind = map[ext] ?? "file";
  return known.length === 0 || known.includes(kind) ? kind : "file";
}
