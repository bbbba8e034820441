// One canvas node: title, kind, status badge, an input handle per input (left) and an output handle
// per output (right), each named with its type; validation messages in red.
import { Handle, Position, type NodeProps } from "@xyflow/react";
import { memo } from "react";
import { kindLabel } from "../format";
import { IN, OUT, type FlowNode } from "./model";

/** A restored node's badge says it was not run again, and which run's results it shows. */
function restoredTitle(runId: string | undefined): string {
  return runId ? `From the cache: the results of run ${runId}` : "From the cache: not run again";
}

function PlynxNodeView({ data, selected }: NodeProps<FlowNode>) {
  const node = data.node;
  const status = node.node_running_status ?? "CREATED";
  const errors = data.errors ?? [];
  return (
    <div
      className={`pnode kind-${node.base_node_name} status-${status} ${errors.length ? "has-errors" : ""} ${selected ? "selected" : ""}`}
      data-testid="pnode"
      data-title={node.title}
      data-status={status}
    >
      <div className="pnode-head">
        <span className="pnode-kind">{kindLabel(node.base_node_name, true)}</span>
        <span className="pnode-title">{node.title || "(untitled)"}</span>
        {status !== "CREATED" && status !== "STATIC" && (
          <span className={`badge status-${status}`} title={status === "RESTORED" ? restoredTitle(node.restored_from?.run_id) : undefined}>
            {status}
          </span>
        )}
      </div>
      <div className="pnode-body">
        <div className="pnode-col">
          {node.inputs.map((input) => (
            <div className="port in" key={input.name} title={`accepts ${input.file_types.join(", ")}`}>
              <Handle type="target" position={Position.Left} id={IN + input.name} className="handle-in" data-port={input.name} />
              <span>{input.name}</span> <small>{input.file_types.join("|")}{input.max_count !== 1 ? "[]" : ""}</small>
            </div>
          ))}
        </div>
        <div className="pnode-col right">
          {node.outputs.map((output) => (
            <div className="port out" key={output.name}>
              <small>{output.file_type}</small> <span>{output.name}</span>
              <Handle type="source" position={Position.Right} id={OUT + output.name} className="handle-out" data-port={output.name} />
            </div>
          ))}
        </div>
      </div>
      {errors.length > 0 && (
        <ul className="pnode-errors" data-testid="node-errors">
          {errors.map((error, i) => (
            <li key={i}>{error}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export default memo(PlynxNodeView);
