// Where nodes go on the canvas: auto layout by dagre, left to right as the ports are (inputs on a
// node's left, outputs on its right), and a free spot for a node added without a drop.
import dagre from "@dagrejs/dagre";
import type { PlynxNode } from "../types";
import type { FlowEdge, FlowNode } from "./model";

export interface Point {
  x: number;
  y: number;
}
export interface Size {
  width: number;
  height: number;
}
export type Box = Point & Size;

/** Room kept around a node: its handles stick out 7 px on each side, and a wire needs a way past. */
export const GAP = 24;
const RANK_GAP = 90; // between columns: room for the wires to bend
const STEP = 20; // how far apart the spots tried for a new node are

/** A node's size before the canvas has measured it: a header and a row per port, wide enough for its labels. */
export function estimateSize(node: PlynxNode): Size {
  const label = (ports: { name: string }[]) => Math.max(0, ...ports.map((p) => p.name.length + 8));
  const inputs = node.inputs ?? [];
  const outputs = node.outputs ?? [];
  const width = Math.max(190, 60 + 7.5 * (node.title ?? "").length, 30 + 7 * (label(inputs) + label(outputs)));
  return { width: Math.round(width), height: 36 + 22 * Math.max(1, inputs.length, outputs.length) };
}

/** A node's size on the canvas: as measured once drawn, else estimated. */
export function nodeSize(node: FlowNode): Size {
  const width = node.measured?.width ?? node.width;
  const height = node.measured?.height ?? node.height;
  return width && height ? { width, height } : estimateSize(node.data.node);
}

export function boxOf(node: FlowNode): Box {
  return { ...node.position, ...nodeSize(node) };
}

/** Layered layout (dagre): every wire runs from a column on the left to one on the right, no two nodes overlap. */
export function layout(nodes: FlowNode[], edges: FlowEdge[]): FlowNode[] {
  const graph = new dagre.graphlib.Graph();
  graph.setGraph({ rankdir: "LR", nodesep: GAP * 1.5, ranksep: RANK_GAP, marginx: 0, marginy: 0 });
  graph.setDefaultEdgeLabel(() => ({}));
  const sizes = new Map(nodes.map((n) => [n.id, nodeSize(n)]));
  for (const [id, size] of sizes) graph.setNode(id, { ...size });
  for (const edge of edges)
    if (sizes.has(edge.source) && sizes.has(edge.target) && edge.source !== edge.target) graph.setEdge(edge.source, edge.target);
  dagre.layout(graph);
  return nodes.map((n) => {
    const placed = graph.node(n.id);
    const size = sizes.get(n.id)!;
    // dagre gives centres; React Flow places by the top-left corner
    return { ...n, position: { x: Math.round(placed.x! - size.width / 2), y: Math.round(placed.y! - size.height / 2) } };
  });
}

/** The spots on the square ring `ring` steps out from the centre. */
function* ringSpots(ring: number): Generator<[number, number]> {
  if (ring === 0) {
    yield [0, 0];
    return;
  }
  for (let i = -ring; i <= ring; i++) {
    yield [i, -ring];
    yield [i, ring];
  }
  for (let j = -ring + 1; j < ring; j++) {
    yield [-ring, j];
    yield [ring, j];
  }
}

function clear(box: Box, others: Box[]): boolean {
  return others.every(
    (o) => box.x + box.width + GAP <= o.x || o.x + o.width + GAP <= box.x || box.y + box.height + GAP <= o.y || o.y + o.height + GAP <= box.y,
  );
}

function inside(box: Box, view: Box): boolean {
  return box.x >= view.x && box.y >= view.y && box.x + box.width <= view.x + view.width && box.y + box.height <= view.y + view.height;
}

/**
 * Where a node of `size` goes when added without a drop: the spot nearest the centre of the view whose box,
 * handles and a margin included, touches no other node; inside the view when there is room there.
 */
export function freeSpot(size: Size, others: Box[], view: Box): Point {
  const centre = { x: view.x + view.width / 2 - size.width / 2, y: view.y + view.height / 2 - size.height / 2 };
  const search = (within: Box | null, rings: number): Point | null => {
    for (let ring = 0; ring <= rings; ring++) {
      let best: Point | null = null;
      let bestDistance = Infinity;
      for (const [i, j] of ringSpots(ring)) {
        const spot = { x: centre.x + i * STEP, y: centre.y + j * STEP };
        const box = { ...spot, ...size };
        const distance = Math.hypot(i, j);
        if (distance < bestDistance && (!within || inside(box, within)) && clear(box, others)) {
          best = spot;
          bestDistance = distance;
        }
      }
      if (best) return best;
    }
    return null;
  };
  const inView = search(view, Math.ceil(Math.max(view.width, view.height) / 2 / STEP));
  if (inView) return inView;
  // the view is full: the nearest free spot outside it (there is always one past the last node)
  const far = others.reduce((m, o) => Math.max(m, Math.abs(o.x - centre.x) + o.width, Math.abs(o.y - centre.y) + o.height), 0);
  return search(null, Math.ceil((far + size.width + size.height + 2 * GAP) / STEP)) ?? centre;
}
