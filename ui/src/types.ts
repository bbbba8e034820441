// The REST API's objects, as the seed's "Internal data structures" chapter names their fields.

export type NodeRunningStatus =
  | "STATIC"
  | "CREATED"
  | "READY"
  | "IN_QUEUE"
  | "RUNNING"
  | "SUCCESS"
  | "RESTORED"
  | "FAILED"
  | "CANCELED";

export type GraphRunningStatus =
  | "CREATED"
  | "READY"
  | "RUNNING"
  | "SUCCESS"
  | "FAILED_WAITING"
  | "FAILED"
  | "CANCELED";

export type NodeStatus = "CREATED" | "READY" | "DEPRECATED" | "MANDATORY_DEPRECATED";

export type BaseNodeName = "python" | "bash_jinja2" | "file" | string;

export interface InputValue {
  node_id: string;
  output_id: string;
  resource_id?: string | null;
}

export interface NodeInput {
  name: string;
  file_types: string[];
  values: InputValue[];
  min_count: number;
  max_count: number;
}

export interface NodeOutput {
  name: string;
  file_type: string;
  resource_id: string | null;
}

export type ParameterType =
  | "str"
  | "int"
  | "float"
  | "bool"
  | "text"
  | "enum"
  | "list_str"
  | "list_int"
  | "list_node"
  | "code"
  | "color";

export interface CodeValue {
  mode: string;
  value: string;
}

export interface EnumValue {
  values: string[];
  index: number | string;
}

export interface Parameter {
  name: string;
  parameter_type: ParameterType;
  value: unknown;
  mutable_type?: boolean;
  removable?: boolean;
  publicable?: boolean;
  widget?: { alias?: string } | null;
}

export interface PlynxNode {
  _id: string;
  title: string;
  description: string;
  base_node_name: BaseNodeName;
  parent_node_id?: string | null;
  successor_node_id?: string | null;
  inputs: NodeInput[];
  outputs: NodeOutput[];
  parameters: Parameter[];
  logs: NodeOutput[];
  /** A RESTORED operation: the run its results came from (the cache entry's), GET /graphs and GET /runs. */
  restored_from?: RestoredFrom | null;
  node_running_status?: NodeRunningStatus;
  node_status?: NodeStatus;
  cache_url?: string;
  x?: number;
  y?: number;
  author?: string;
  starred?: boolean;
  insertion_date?: string | null;
  update_date?: string | null;
  _readonly?: boolean;
  /** A stored operation or file: when it was archived (hidden from lists, searches and hubs), or null. */
  archived?: string | null;
  /** Search results: the position among its author's versions (1: the first), and that first version. */
  version_number?: number;
  first_version_id?: string;
}

export interface Graph {
  _id: string;
  title: string;
  description: string;
  author?: string;
  graph_running_status: GraphRunningStatus;
  insertion_date?: string | null;
  update_date?: string | null;
  run_id?: string | null;
  latest_run_id?: string | null;
  /** READY and still being prepared (cache planning, compile, state machines) after APPROVE answered. */
  preparing?: boolean;
  nodes: PlynxNode[];
  _readonly?: boolean;
  /** When it was archived (hidden from lists and searches), or null. */
  archived?: string | null;
}

/** One kept run of a graph (GET /graphs/{id}/runs); `graph`: the graph as it ran (GET /runs/{id}). */
export interface Run {
  _id: string;
  graph_id: string;
  graph_version: number;
  title: string;
  node_count: number;
  started_by: string;
  acting_for: string | null;
  how: string;
  parameters: Record<string, unknown>;
  start: string;
  end: string | null;
  run_status: GraphRunningStatus;
  error: string | null;
  latest: boolean;
  retry_of?: string | null;
  /** The schedule that started it (`how`: SCHEDULE). */
  schedule_id?: string | null;
  /** `trial`: a run of POST /nodes/try (its author's only). */
  kind?: "run" | "trial";
  /** READY and still being prepared after APPROVE answered. */
  preparing?: boolean;
  graph?: Omit<Graph, "nodes"> & { nodes: RunNode[] };
  /** GET /runs/{id}: the estimate of what it cost (computed from what the engine recorded). */
  cost?: RunCost;
}

/** A graph's schedule (GET /graphs/{id}/schedules): EventBridge Scheduler's expression in an IANA zone. */
export interface Schedule {
  _id: string;
  graph_id: string;
  expression: string;
  timezone: string;
  parameters: Record<string, unknown>;
  enabled: boolean;
  author: string;
  updated_by: string | null;
  created: string;
  updated: string;
  fires: number;
  /** The next 5, ISO 8601 in the schedule's zone; none while paused. */
  next_fire_times: string[];
  last_fire: { scheduled: string | null; fired: string; outcome: "STARTED" | "REFUSED" | "INVALID" | "FAILED"; run_id: string | null; message: string } | null;
  _readonly: boolean;
}

/** GET /runs/{id}/compare/{other}: two runs of one graph side by side. */
export interface RunComparison {
  graph_id: string;
  left: Run;
  right: Run;
  parameters: { name: string; left: unknown; right: unknown; same: boolean }[];
  nodes: { node_id: string; title: string; left: ComparedNode | null; right: ComparedNode | null; same_status: boolean; same_outputs: boolean }[];
}

export interface ComparedNode {
  status: NodeRunningStatus;
  started: string | null;
  ended: string | null;
  duration_seconds: number;
  attempts: number;
  placement: string | null;
  restored_from?: RestoredFrom | null;
  outputs: Record<string, string | null>;
}

export interface RunCost {
  lambda_gb_seconds: number;
  lambda_requests: number;
  fargate_vcpu_seconds: number;
  fargate_gb_seconds: number;
  state_transitions: number;
  estimated_usd: number;
}

/** A node as it ran: its first claim, its end and how many claims it took. */
export interface RunNode extends PlynxNode {
  started?: string | null;
  ended?: string | null;
  attempts?: number;
  duration_seconds?: number;
  placement?: "lambda" | "fargate";
}

export interface GraphHeader extends Omit<Graph, "nodes"> {
  nodes?: PlynxNode[];
}

export interface ResourceKind {
  kind: string;
  title: string;
  icon: string;
  color: string;
  /** What the type is for (the resource type's config), shown by the upload type picker. */
  description?: string;
  is_array?: boolean;
}

export type ResourcesDict = Record<string, ResourceKind>;

export interface ValidationError {
  target: "GRAPH" | "NODE" | "INPUT" | "PARAMETER" | "PROPERTY" | string;
  object_id: string;
  validation_code: string;
  children: ValidationError[];
}

export interface PostResponse {
  status: "SUCCESS" | "FAILED" | "VALIDATION_FAILED" | string;
  message: string;
  graph?: Graph;
  node?: PlynxNode;
  url?: string;
  validation_error?: ValidationError;
  new_graph_id?: string;
  code?: string;
  preview_text?: string;
  upgraded_nodes_count?: number;
  replaced_node_id?: string;
  replace_skipped?: string;
}

export interface SearchResponse<T> {
  status: string;
  items: T[];
  total_count: number;
  resources_dict?: ResourcesDict;
}

export const ACTIVE_GRAPH_STATUSES: GraphRunningStatus[] = ["READY", "RUNNING", "FAILED_WAITING"];
export const FINISHED_GRAPH_STATUSES: GraphRunningStatus[] = ["SUCCESS", "FAILED", "CANCELED"];
export const OPERATION_KINDS = ["python", "bash_jinja2"] as const;

/** Where a restored operation's results came from: the run that stored them in the cache, and when. */
export interface RestoredFrom {
  run_id: string;
  graph_id: string;
  date: string;
  /** "retry": kept from the run a retry restarted (not the cache). */
  kind?: "cache" | "retry";
}
