// The minimap, beside the canvas rather than over it: it never covers a node or a handle. It shares the
// canvas's state through the editor's ReactFlowProvider; drag or scroll it to pan and zoom the canvas.
import { MiniMap } from "@xyflow/react";
import { memo } from "react";
import type { FlowNode } from "./model";

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

export const Overview = memo(function Overview() {
  return (
    <div className="overview" data-testid="overview">
      <MiniMap<FlowNode> pannable zoomable nodeStrokeWidth={3} nodeColor={minimapColor} ariaLabel="Overview of the workflow" />
    </div>
  );
});
