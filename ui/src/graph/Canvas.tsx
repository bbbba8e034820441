// The canvas: React Flow with the workflow's nodes and wires, the notices above it and the type picker
// (the minimap lives beside it, graph/Overview.tsx, so that it never covers a node). Memoized, and every prop stays the same object until it really changes, so the
// run clock's tick and a poll that brings nothing new do not render it.
import { Background, Controls, ReactFlow } from "@xyflow/react";
import { memo, type DragEvent } from "react";
import { ConnectionHint } from "./ConnectionHint";
import { KeepInView } from "./KeepInView";
import type { FlowEdge, FlowNode } from "./model";
import { Notices } from "./Notices";
import PlynxNodeView from "./PlynxNodeView";
import { TypePicker, type PickerRequest } from "./TypePicker";
import type { CanvasHandlers } from "./useCanvasEditing";
import type { Notice } from "./useNotice";

const nodeTypes = { plynx: PlynxNodeView };
const FIT_VIEW_OPTIONS = { maxZoom: 1 }; // at load and with the fit-view button: never past 100 %
const PRO_OPTIONS = { hideAttribution: true };
const DELETE_KEYS = ["Backspace", "Delete"];
const EMPTY_HINT = "Drag operations and files from the left onto the canvas, or drop a file from your computer here.";

export const Canvas = memo(function Canvas({
  nodes,
  edges,
  locked,
  fitView,
  selectedId,
  handlers,
  onDragOver,
  onDrop,
  picker,
  busy,
  notice,
  graphErrors,
  onDismiss,
}: {
  nodes: FlowNode[];
  edges: FlowEdge[];
  locked: boolean;
  /** Fit the view at load; an empty canvas keeps its viewport, so drops land where they are dropped. */
  fitView: boolean;
  /** The node the properties panel shows (it opens with the selection): kept in view. */
  selectedId: string | null;
  handlers: CanvasHandlers;
  onDragOver: (event: DragEvent) => void;
  onDrop: (event: DragEvent) => void;
  picker: PickerRequest | null;
  busy: string | null;
  notice: Notice;
  graphErrors: string[];
  onDismiss: () => void;
}) {
  return (
    <div className="canvas" onDragOver={onDragOver} onDrop={onDrop}>
      <ReactFlow<FlowNode, FlowEdge>
        nodes={nodes}
        edges={edges}
        nodeTypes={nodeTypes}
        onNodesChange={handlers.onNodesChange}
        onEdgesChange={handlers.onEdgesChange}
        onConnect={handlers.onConnect}
        onConnectEnd={handlers.onConnectEnd}
        isValidConnection={handlers.isValidConnection}
        onSelectionChange={handlers.onSelectionChange}
        onNodeDragStart={handlers.onNodeDragStart}
        onPaneClick={handlers.onPaneClick}
        nodesDraggable={!locked}
        nodesConnectable={!locked}
        deleteKeyCode={locked ? null : DELETE_KEYS}
        fitView={fitView}
        fitViewOptions={FIT_VIEW_OPTIONS}
        minZoom={0.05}
        proOptions={PRO_OPTIONS}
      >
        <Background />
        <Controls fitViewOptions={FIT_VIEW_OPTIONS} />
        <ConnectionHint nodes={nodes} edges={edges} />
        <KeepInView selectedId={selectedId} />
        <Notices busy={busy} notice={notice} graphErrors={graphErrors} onDismiss={onDismiss} hint={nodes.length === 0 ? EMPTY_HINT : null} />
      </ReactFlow>
      {picker && <TypePicker request={picker} onPick={handlers.pick} onClose={handlers.closePicker} onError={handlers.sayError} />}
    </div>
  );
});
