/** The v0 API objects, with the fields the UI reads (see packages/gofer/openapi.json for the whole shapes). */

export type RunState = "unknown" | "pending" | "running" | "complete";
export type RunStatus = "unknown" | "failed" | "successful" | "cancelled";
export type TaskState = "unknown" | "processing" | "waiting" | "running" | "complete";
export type TaskStatus = "unknown" | "failed" | "successful" | "cancelled" | "skipped";
export type RequiredParentStatus = "unknown" | "any" | "success" | "failure";

export interface StatusReason {
  reason: string;
  description: string;
}

export interface Variable {
  key: string;
  value: string;
  source: string;
}

export interface Namespace {
  id: string;
  name: string;
  description: string;
}

export interface PipelineMetadata {
  namespace_id: string;
  pipeline_id: string;
  created: number;
  modified: number;
  state: "unknown" | "active" | "disabled";
}

export interface Task {
  id: string;
  description?: string | null;
  image: string;
  depends_on: Record<string, RequiredParentStatus>;
  command?: string[] | null;
  entrypoint?: string[] | null;
}

export interface PipelineConfig {
  namespace_id: string;
  pipeline_id: string;
  version: number;
  parallelism: number;
  name: string;
  description: string;
  tasks: Record<string, Task>;
  state: "unknown" | "unreleased" | "live" | "deprecated";
  registered: number;
  deprecated: number;
}

export interface Deployment {
  deployment_id: number;
  start_version: number;
  end_version: number;
  started: number;
  ended: number;
  state: string;
  status: string;
}

export interface Run {
  namespace_id: string;
  pipeline_id: string;
  pipeline_config_version: number;
  run_id: number;
  started: number;
  ended: number;
  state: RunState;
  status: RunStatus;
  status_reason?: StatusReason | null;
  initiator: { id: string; user: string; kind?: string };
  variables: Variable[];
}

export interface TaskExecution {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_id: string;
  task: Task;
  created: number;
  started: number;
  ended: number;
  exit_code?: number | null;
  logs_expired: boolean;
  logs_removed: boolean;
  state: TaskState;
  status: TaskStatus;
  status_reason?: StatusReason | null;
}

export interface Subscription {
  namespace_id: string;
  pipeline_id: string;
  extension_id: string;
  subscription_id: string;
  settings: Record<string, string>;
  status: string;
  status_reason?: StatusReason | null;
}

export interface ExtensionParam {
  key: string;
  required: boolean;
  documentation: string;
}

export interface Extension {
  registration: { extension_id: string; image: string; status: string; created: number };
  url: string;
  started: number;
  state: "unknown" | "processing" | "running" | "exited";
  documentation?: {
    body: string;
    config_params: ExtensionParam[];
    pipeline_subscription_params: ExtensionParam[];
  } | null;
  state_reason?: StatusReason | null;
  restarts?: number;
}

/** An event: `kind` holds one key, the event's name, mapping to its details. */
export interface GoferEvent {
  id: string;
  kind: Record<string, Record<string, unknown>>;
  emitted: number;
}

export interface Token {
  id: string;
  user: string;
  roles: string[];
}

export interface SystemPreferences {
  bootstrap_token_created: boolean;
  ignore_pipeline_run_events: boolean;
}
