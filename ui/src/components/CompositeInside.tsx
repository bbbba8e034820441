// What runs inside a composite operation: its operations with their live statuses (after a run, each
// one's outputs and logs), and which of them read the composite's inputs and feed its outputs.
import { useState } from "react";
import { kindLabel } from "../format";
import { ResourceView } from "./ResourceView";
import { StatusBadge } from "./StatusBadge";
import type { PlynxNode } from "../types";

export const INPUT_ID = "2419f9f6d8b5da6e4bb8f8d4";
export const OUTPUT_ID = "56a2bd3af3fe5ee6d63ac7dd";

/** The sub-graph of a composite (its `_nodes` parameter). */
export function innerNodes(node: PlynxNode): PlynxNode[] {
  const value = node.parameters.find((p) => p.name === "_nodes")?.value;
  return Array.isArray(value) ? (value as PlynxNode[]) : [];
}

function InnerOperation({ node, refreshKey }: { node: PlynxNode; refreshKey?: number }) {
  const [open, setOpen] = useState(node.node_running_status === "FAILED");
  const finished = node.outputs.some((o) => o.resource_id) || node.logs.some((l) => l.resource_id);
  return (
    <li data-testid="inner-node" data-title={node.title} data-status={node.node_running_status ?? "CREATED"}>
      <button className="link" onClick={() => setOpen(!open)} disabled={!finished} aria-expanded={open}>
        {node.title || "(untitled)"}
      </button>{" "}
      <small className="muted">{kindLabel(node.base_node_name, true)}</small>{" "}
      <StatusBadge status={node.node_running_status === "CREATED" ? null : node.node_running_status} />
      {open && (
        <div className="inner-results">
          {[...node.outputs, ...node.logs].map((resource) => (
            <ResourceView
              key={resource.name}
              name={resource.name}
              resourceId={resource.resource_id}
              fileType={node.outputs.includes(resource) ? resource.file_type : "file"}
              refreshKey={refreshKey}
              initiallyOpen={resource.name === "stderr" && node.node_running_status === "FAILED"}
            />
          ))}
        </div>
      )}
    </li>
  );
}

export function CompositeInside({ node, refreshKey }: { node: PlynxNode; refreshKey?: number }) {
  const inner = innerNodes(node);
  const operations = inner.filter((n) => n._id !== INPUT_ID && n._id !== OUTPUT_ID && n.base_node_name !== "file");
  const titles = new Map(inner.map((n) => [n._id, n.title || n._id]));
  const collector = inner.find((n) => n._id === OUTPUT_ID);
  const readers = (name: string) =>
    operations.filter((n) => n.inputs.some((i) => i.values.some((v) => v.node_id === INPUT_ID && v.output_id === name))).map((n) => n.title);
  return (
    <div className="composite-inside" data-testid="composite-inside">
      <h3>Inside: {operations.length} operation{operations.length === 1 ? "" : "s"}</h3>
      <ul className="ports">
        {operations.map((n) => (
          <InnerOperation key={n._id} node={n} refreshKey={refreshKey} />
        ))}
      </ul>
      {(node.inputs.length > 0 || node.outputs.length > 0) && (
        <ul className="ports muted">
          {node.inputs.map((input) => (
            <li key={`in-${input.name}`}>
              input <strong>{input.name}</strong> → {readers(input.name).join(", ") || "nothing reads it"}
            </li>
          ))}
          {node.outputs.map((output) => {
            const source = collector?.inputs.find((i) => i.name === output.name)?.values[0];
            return (
              <li key={`out-${output.name}`}>
                output <strong>{output.name}</strong> ← {source ? `${titles.get(source.node_id) ?? source.node_id}.${source.output_id}` : "not wired"}
              </li>
            );
          })}
        </ul>
      )}
    </div>
  );
}
