/** The objects Gofer stores and serves, in their v0 wire shape (snake_case, epoch-millisecond times). */
import type {
  ConfigState,
  DeploymentState,
  DeploymentStatus,
  PipelineState,
  RequiredParentStatus,
  RunState,
  RunStatus,
  RunStatusReasonType,
  TaskExecutionState,
  TaskExecutionStatus,
  TaskExecutionStatusReasonType,
  VariableSource,
} from "./states.ts";

export interface Namespace {
  id: string;
  name: string;
  description: string;
  created: number;
  modified: number;
}

export interface PipelineMetadata {
  namespace_id: string;
  pipeline_id: string;
  created: number;
  modified: number;
  state: PipelineState;
}

export interface Variable {
  key: string;
  value: string;
  source: VariableSource;
}

export interface RegistryAuth {
  user: string;
  pass: string;
}

export interface Task {
  id: string;
  description: string;
  image: string;
  registry_auth: RegistryAuth | null;
  depends_on: Record<string, RequiredParentStatus>;
  variables: Variable[];
  entrypoint: string[] | null;
  command: string[] | null;
  inject_api_token: boolean;
  always_pull_newest_image: boolean;
}

export interface PipelineConfig {
  namespace_id: string;
  pipeline_id: string;
  version: number;
  parallelism: number;
  name: string;
  description: string;
  tasks: Record<string, Task>;
  state: ConfigState;
  registered: number;
  deprecated: number;
}

export interface StatusReason<T extends string> {
  reason: T;
  description: string;
}

export interface Deployment {
  namespace_id: string;
  pipeline_id: string;
  deployment_id: number;
  start_version: number;
  end_version: number;
  started: number;
  ended: number;
  state: DeploymentState;
  status: DeploymentStatus;
  status_reason: StatusReason<"Unknown"> | null;
  logs: GoferEvent[];
}

export interface Initiator {
  id: string;
  user: string;
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
  status_reason: StatusReason<RunStatusReasonType> | null;
  initiator: Initiator;
  variables: Variable[];
  token_id: string | null;
  store_objects_expired: boolean;
  event_id: string | null;
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
  exit_code: number | null;
  logs_expired: boolean;
  logs_removed: boolean;
  state: TaskExecutionState;
  status: TaskExecutionStatus;
  status_reason: StatusReason<TaskExecutionStatusReasonType> | null;
  variables: Variable[];
}

/** v0 events are externally tagged: `{ "completed_run": { ...fields } }`. */
export type EventKind = Record<string, Record<string, unknown>>;

export interface GoferEvent {
  id: string;
  kind: EventKind;
  emitted: number;
}

export interface Token {
  id: string;
  created: number;
  metadata: Record<string, string>;
  expires: number;
  disabled: boolean;
  user: string;
  roles: string[];
}
