// The selected node: title, description, parameters (a widget each), inputs, and after a run its
// outputs with previews and its logs, refreshed while it runs.
import { kindLabel } from "../format";
import { CompositeInside } from "../components/CompositeInside";
import { ParameterWidget } from "../components/ParameterWidget";
import { ResourceView } from "../components/ResourceView";
import { CachedFrom } from "../components/CachedFrom";
import { StatusBadge } from "../components/StatusBadge";
import { Link } from "../router";
import type { PlynxNode } from "../types";

export function Properties({
  node,
  errors,
  readOnly,
  refreshKey,
  onChange,
}: {
  node: PlynxNode;
  errors: string[];
  readOnly: boolean;
  refreshKey: number;
  onChange: (patch: Partial<PlynxNode>) => void;
}) {
  const status = node.node_running_status;
  const isFile = node.base_node_name === "file";
  const visibleParameters = node.parameters.filter((p) => !p.name.startsWith("_") || p.name === "_cmd" || p.publicable);
  return (
    <aside className="properties" data-testid="properties">
      <div className="prop-head">
        <span className={`pnode-kind kind-${node.base_node_name}`}>{kindLabel(node.base_node_name)}</span>
        <StatusBadge status={status} />
      </div>
      {status === "RESTORED" && <CachedFrom source={node.restored_from} />}
      <label>
        Title
        <input value={node.title} disabled={readOnly} onChange={(e) => onChange({ title: e.target.value })} name="title" />
      </label>
      <label>
        Description
        <textarea rows={2} value={node.description} disabled={readOnly} onChange={(e) => onChange({ description: e.target.value })} name="description" />
      </label>
      {node.parent_node_id && (
        <p className="muted">
          From {isFile ? "file" : "operation"} <Link to={`/nodes/${node.parent_node_id}`}>{node.parent_node_id}</Link>
        </p>
      )}
      {errors.length > 0 && (
        <div className="message error" role="alert" data-testid="prop-errors">
          <ul>
            {errors.map((error, i) => (
              <li key={i}>{error}</li>
            ))}
          </ul>
        </div>
      )}
      {visibleParameters.length > 0 && <h3>Parameters</h3>}
      {visibleParameters.map((parameter) => (
        <ParameterWidget
          key={parameter.name}
          parameter={parameter}
          readOnly={readOnly}
          onChange={(value) =>
            onChange({ parameters: node.parameters.map((p) => (p.name === parameter.name ? { ...p, value } : p)) })
          }
        />
      ))}
      {node.inputs.length > 0 && (
        <>
          <h3>Inputs</h3>
          <ul className="ports">
            {node.inputs.map((input) => (
              <li key={input.name}>
                <strong>{input.name}</strong> <small>{input.file_types.join(", ")}</small> — {input.values.length} connected
                {input.min_count > 0 ? `, needs ${input.min_count}` : ""}
                {input.max_count >= 0 ? `, at most ${input.max_count}` : ""}
              </li>
            ))}
          </ul>
        </>
      )}
      {node.base_node_name === "graph" && <CompositeInside node={node} refreshKey={refreshKey} />}
      <h3>{isFile ? "File" : "Outputs"}</h3>
      {node.outputs.map((output) => (
        <ResourceView
          key={output.name}
          name={output.name}
          resourceId={output.resource_id}
          fileType={output.file_type}
          refreshKey={refreshKey}
          testId={`output-${output.name}`}
        />
      ))}
      {!isFile && node.logs.length > 0 && (
        <>
          <h3>Logs {status === "RUNNING" && <small className="muted">refreshing…</small>}</h3>
          {node.logs.map((log) => (
            <ResourceView
              key={log.name}
              name={log.name}
              resourceId={log.resource_id}
              fileType="file"
              refreshKey={refreshKey}
              testId={`log-${log.name}`}
              initiallyOpen={log.name === "stderr" && status === "FAILED"}
            />
          ))}
        </>
      )}
    </aside>
  );
}
