// Run with parameters: the workflow's run parameters, prefilled with the saved values, one typed widget
// each; Run starts a run with these values (the workflow keeps its own), Cancel starts nothing.
import { useState } from "react";
import { ParameterWidget, parameterProblem } from "../components/ParameterWidget";
import type { Graph } from "../types";
import { runParameters } from "./runParameters";

export function RunForm({ graph, onRun, onClose }: { graph: Graph; onRun: (values: Record<string, unknown>) => void; onClose: () => void }) {
  const listed = runParameters(graph);
  const [values, setValues] = useState<Record<string, unknown>>(() => Object.fromEntries(listed.map((p) => [p.key, p.parameter.value])));
  const invalid = listed.some((p) => parameterProblem({ ...p.parameter, value: values[p.key] }));
  const nodes = [...new Map(listed.map((p) => [p.node._id, p.node])).values()];
  return (
    <div className="modal" role="dialog" aria-label="Run parameters">
      <form
        className="modal-body narrow-modal run-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (!invalid) onRun(values);
        }}
      >
        <h2>Run &ldquo;{graph.title || "(untitled)"}&rdquo;</h2>
        <p className="muted">These values are this run's only: the workflow keeps its own.</p>
        {nodes.map((node) => (
          <fieldset key={node._id} data-testid={`run-form-node-${node.title}`}>
            <legend>{node.title || "(untitled)"}</legend>
            {listed
              .filter((p) => p.node._id === node._id)
              .map((p) => (
                <ParameterWidget
                  key={p.key}
                  parameter={{ ...p.parameter, value: values[p.key] }}
                  readOnly={false}
                  onChange={(value) => setValues((old) => ({ ...old, [p.key]: value }))}
                />
              ))}
          </fieldset>
        ))}
        <div className="modal-actions">
          <button type="submit" className="primary" disabled={invalid}>
            Run
          </button>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
