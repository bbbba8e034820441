// A workflow's run parameters, as the API counts them (chalicelib/domain/run_parameters.py): the parameters
// marked publicable of the operations placed on it, not the system ones whose names start with `_`.
import type { CodeValue, EnumValue, Graph, Parameter, PlynxNode } from "../types";

export interface RunParameter {
  /** `<node_id>.<name>`, the key of `{"parameters": {...}}`. */
  key: string;
  node: PlynxNode;
  parameter: Parameter;
}

export function runParameters(graph: Pick<Graph, "nodes">): RunParameter[] {
  const found: RunParameter[] = [];
  for (const node of graph.nodes) {
    if (node.base_node_name === "file") continue;
    for (const parameter of node.parameters ?? [])
      if (parameter.publicable && !parameter.name.startsWith("_") && parameter.parameter_type !== "list_node")
        found.push({ key: `${node._id}.${parameter.name}`, node, parameter });
  }
  return found;
}

/** A value as a person reads it: an enum's choice, code's text, a list's items. */
export function shownValue(value: unknown): string {
  if (value && typeof value === "object" && !Array.isArray(value)) {
    const enumValue = value as EnumValue;
    if (Array.isArray(enumValue.values)) return String(enumValue.values[Number(enumValue.index ?? 0)] ?? "");
    const code = value as CodeValue;
    if (typeof code.value === "string") return code.value;
  }
  if (Array.isArray(value)) return value.map(String).join(", ");
  return typeof value === "string" ? value : JSON.stringify(value);
}
