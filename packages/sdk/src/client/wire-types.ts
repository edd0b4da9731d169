/**
 * The shapes Gofer's v0 API sends and accepts, field for field as the server's OpenAPI document
 * (`/api/openapi.json`) declares them: snake_case names, enums as string unions, `| null` where the server sends
 * `null` and `?` where it may leave a field out. The client returns these objects as parsed, without renaming.
 */

import type { DeclaredSubscription, RegistryAuth, RunConcurrency, TaskRetries } from "../pipeline-config.ts";
import type { TaskResources } from "../resource-quantities.ts";

/** Milliseconds since the Unix epoch. `0` means "not set", e.g. the `ended` time of a run still in progress. */
export type EpochMillis = number;

/** The body of every non-2xx answer. */
export interface ErrorEnvelope {
  /** The server's id for the request; the server log lists failures under it. */
  request_id: string;
  message: string;
  /** A stable code such as `NOT_FOUND` or `INVALID_PIPELINE_CONFIG`, for programs to branch on. */
  error_code?: string;
}

/** `GET /api/system/metadata`: which build of the server is answering. */
/** `GET /api/system`: server-wide switches. */
export interface SystemPreferences {
  bootstrap_token_created: boolean;
  /** While true, every new run is refused (503 `RUNS_PAUSED`). */
  ignore_pipeline_run_events: boolean;
}

/** One server sharing the installation's database: `GET /api/system/replicas`. */
export interface ReplicaSummary {
  id: string;
  /** Where the other replicas reach it (`server.replica_url`). */
  url: string;
  hostname: string;
  pid: number;
  version: string;
  started: number;
  /** Its last heartbeat, epoch ms by the database's clock. */
  heartbeat: number;
  /** `silent`: no heartbeat for longer than the lease timeout (likely dead); `stopped`: stopped cleanly. */
  state: "leader" | "taking_over" | "follower" | "silent" | "stopped";
  /** True for the replica that answered. */
  self: boolean;
  /** What the leader has in hand; absent on the others. */
  owns?: { runs_in_flight: number; tasks_in_flight: number; extensions: number };
}

/** `GET /api/system/replicas`: which servers share the database and which one runs the work. */
export interface ReplicaListing {
  storage: "sqlite" | "postgres";
  lease_timeout_ms: number;
  /** The work lease, by the database's clock; null on SQLite. */
  lease: { holder: string; term: number; acquired: number; expires: number; serving: boolean } | null;
  replicas: ReplicaSummary[];
}

export interface SystemMetadata {
  /** The source commit the server was built from. */
  commit: string;
  /** The server's version, e.g. `0.1.0`. */
  semver: string;
}

/** An API token as the server describes it. The secret itself is never sent back after creation. */
export interface Token {
  id: string;
  created: EpochMillis;
  /** Free-form labels given when the token was made. */
  metadata: Record<string, string>;
  /** When the token stops working; `0` means never. */
  expires: EpochMillis;
  disabled: boolean;
  /** Who the token belongs to; recorded as the initiator of the runs it starts. */
  user: string;
  /** Role ids whose permissions the token carries, e.g. `admin`. */
  roles: string[];
}

/** A newly created token together with its secret, which is shown this once only. */
export interface TokenWithSecret {
  token_details: Token;
  /** The bearer secret to send as `Authorization: Bearer <secret>`. */
  secret: string;
}

/** `POST /api/tokens`: a token for a user with roles. */
export interface CreateTokenInput {
  /** Who the token belongs to, in plain text. */
  user: string;
  /** Role ids; `bootstrap` is refused. */
  roles: string[];
  /** Seconds until the token stops working; `0` (the default) means never. */
  expires?: number;
  /** Free-form labels, e.g. `{team: "ci"}`. */
  metadata?: Record<string, string>;
}

export type PermissionAction = "read" | "write" | "delete";

/**
 * One grant of a role: `actions` on every resource listed. Resources are `all`, `configs`, `deployments`,
 * `events`, `extensions:<regex>`, `namespaces:<regex>`, `objects`, `permissions`, `pipelines:<regex>`, `runs`,
 * `secrets`, `subscriptions`, `system`, `task_executions`, `tokens`; a regex must match the whole id.
 */
export interface Permission {
  resources: string[];
  actions: PermissionAction[];
}

/** A named set of permissions that tokens carry. */
export interface Role {
  id: string;
  description: string;
  permissions: Permission[];
  /** Created by the server (`admin`, `user`, `anonymous`, `bootstrap`); cannot be changed or deleted. */
  system_role: boolean;
}

/** `POST /api/roles`. */
export interface CreateRoleInput {
  id: string;
  description?: string;
  permissions: Permission[];
}

/** `PATCH /api/roles/{id}`: only the fields given change; `permissions` replaces the whole list. */
export interface UpdateRoleInput {
  description?: string;
  permissions?: Permission[];
}

/** A namespace: a named group of pipelines that permissions and secrets are scoped to. */
export interface Namespace {
  id: string;
  name: string;
  description: string;
  created: EpochMillis;
  modified: EpochMillis;
}

/** The body of `POST /api/namespaces`. */
export interface CreateNamespaceInput {
  /** 3–32 letters, digits and hyphens; the namespace's permanent key. */
  id: string;
  name: string;
  description: string;
}

/** The body of `PATCH /api/namespaces/{namespace_id}`: only the fields given change. */
export interface UpdateNamespaceInput {
  name?: string | null;
  description?: string | null;
}

/**
 * Whether a pipeline accepts new runs.
 *
 * - `active`: runs may start. New pipelines are active.
 * - `disabled`: starting a run is refused (503 `PIPELINE_INACTIVE`); runs in progress continue.
 * - `unknown`: never set by this server; part of the v0 enum.
 */
export type PipelineState = "unknown" | "active" | "disabled";

/** A pipeline's own record, separate from its config versions. Created by the first config registration. */
export interface PipelineMetadata {
  namespace_id: string;
  pipeline_id: string;
  created: EpochMillis;
  modified: EpochMillis;
  state: PipelineState;
}

/**
 * The condition on a parent task, as the server stores and returns it (lowercase; registration sends the
 * PascalCase {@link import("../pipeline-config.ts").RequiredParentStatus}). `unknown` is never met.
 */
export type TaskDependencyCondition = "unknown" | "any" | "success" | "failure";

/**
 * Where a variable's value came from.
 *
 * - `pipeline_config`: the task's `variables` in the registered config.
 * - `system`: set by Gofer (`GOFER_PIPELINE_ID`, `GOFER_RUN_ID`, …).
 * - `run_options`: given when the run was started.
 * - `extension`, `unknown`: part of the v0 enum.
 */
export type VariableSource = "unknown" | "pipeline_config" | "system" | "run_options" | "extension";

/** One environment variable of a task or run, before secrets and objects are substituted into it. */
export interface Variable {
  key: string;
  value: string;
  source: VariableSource;
}

/** A task as stored in a registered config version and copied into each of its executions. */
export interface Task {
  id: string;
  /** Empty when the config gave none. */
  description: string;
  image: string;
  /** The pull credentials, with `pass` replaced by `[redacted]`; `null` when the image is pulled anonymously. */
  registry_auth: RegistryAuth | null;
  /** Parent task id → the final state that parent must reach. */
  depends_on: Record<string, TaskDependencyCondition>;
  variables: Variable[];
  /** `null` keeps the image's ENTRYPOINT. */
  entrypoint: string[] | null;
  /** `null` keeps the image's CMD. */
  command: string[] | null;
  inject_api_token: boolean;
  always_pull_newest_image: boolean;
  /** CPU and memory limits as registered (an extension of v0); absent when the task declared none. */
  resources?: TaskResources;
  /** The longest one attempt may run, a Go-style duration (an extension of v0); absent: none declared. */
  timeout?: string;
  /** The task's retry policy (an extension of v0); absent: one attempt. */
  retries?: TaskRetries;
}

/**
 * Where a config version is in its life.
 *
 * - `unreleased`: registered, never deployed. New versions start here.
 * - `live`: deployed; new runs execute it. At most one version of a pipeline is live.
 * - `deprecated`: was live until another version was deployed.
 * - `unknown`: never set by this server; part of the v0 enum.
 */
export type ConfigState = "unknown" | "unreleased" | "live" | "deprecated";

/** One registered, immutable version of a pipeline's config (the v0 `Config` schema). */
export interface PipelineConfigVersion {
  namespace_id: string;
  pipeline_id: string;
  /** 1 for the first registration, then one more for each. */
  version: number;
  /** How many runs may be in progress at once; `0` means the server's default limit. */
  parallelism: number;
  name: string;
  /** Empty when the config gave none. */
  description: string;
  /** Task id → task. */
  tasks: Record<string, Task>;
  state: ConfigState;
  registered: EpochMillis;
  /** When another version replaced this one as live; `0` while it has not been. */
  deprecated: EpochMillis;
  /** The longest a run may take (an extension of v0); absent: no limit. */
  timeout?: string;
  /** Runs of one group run one at a time (an extension of v0). */
  concurrency?: RunConcurrency;
  /** Subscriptions this version declares (an extension of v0). */
  subscriptions?: DeclaredSubscription[];
}

/** What `POST …/configs` answers: the pipeline's record and the version just registered. */
export interface RegisteredPipeline {
  metadata: PipelineMetadata;
  config: PipelineConfigVersion;
}

/** Deployment progress. PascalCase on the wire, unlike every other v0 enum. */
export type DeploymentState = "Unknown" | "Running" | "Complete";

/** Deployment outcome; `Unknown` until it is `Complete`. */
export type DeploymentStatus = "Unknown" | "Failed" | "Successful";

/** Why something ended the way it did, with a sentence for people. */
export interface StatusReason<Reason extends string> {
  reason: Reason;
  description: string;
}

/** A switch of a pipeline's live version from `start_version` to `end_version`. */
export interface Deployment {
  namespace_id: string;
  pipeline_id: string;
  /** Counts up from 1 within the pipeline. */
  deployment_id: number;
  /** The version that was live before; equals `end_version` when none was. */
  start_version: number;
  end_version: number;
  started: EpochMillis;
  ended: EpochMillis;
  state: DeploymentState;
  status: DeploymentStatus;
  /** Set only when the deployment failed. */
  status_reason: StatusReason<"Unknown"> | null;
  /** Events recorded during the deployment. */
  logs: GoferEvent[];
}

/**
 * Where a run is in its life.
 *
 * - `pending`: accepted, waiting for a free parallelism slot.
 * - `running`: its tasks are being scheduled and run.
 * - `complete`: every task execution is complete; `status` says how it went.
 * - `unknown`: never set by this server; part of the v0 enum.
 */
export type RunState = "unknown" | "pending" | "running" | "complete";

/**
 * What a run list may be narrowed to (`status` on the runs list, an extension of v0): where an unfinished run is,
 * or how a finished one ended, the words the web UI and the CLI show for a run.
 */
export const RUN_LIST_STATUSES = ["pending", "running", "successful", "failed", "cancelled"] as const;
export type RunListStatus = (typeof RUN_LIST_STATUSES)[number];

/**
 * How a run ended; `unknown` until it is `complete`.
 *
 * - `successful`: every task succeeded or was skipped.
 * - `failed`: at least one task failed.
 * - `cancelled`: the run or one of its tasks was cancelled; wins over `failed`.
 */
export type RunStatus = "unknown" | "failed" | "successful" | "cancelled";

/** Why a run ended as it did. */
export type RunStatusReasonKind =
  | "unknown"
  | "abnormal_exit"
  | "scheduler_error"
  | "failed_precondition"
  | "user_cancelled"
  | "admin_cancelled"
  | "timeout"
  | "superseded";

/** Who started a run. */
export interface Initiator {
  /** The id of the token the run was started with. */
  id: string;
  /** That token's user. */
  user: string;
}

/** One execution of a pipeline's live config. */
export interface Run {
  namespace_id: string;
  pipeline_id: string;
  /** The config version this run executes. */
  pipeline_config_version: number;
  /** Counts up from 1 within the pipeline. */
  run_id: number;
  started: EpochMillis;
  ended: EpochMillis;
  state: RunState;
  status: RunStatus;
  /** `null` unless the run failed or was cancelled. */
  status_reason: StatusReason<RunStatusReasonKind> | null;
  initiator: Initiator;
  /** The variables the run was started with. */
  variables: Variable[];
  /** The token injected into tasks with `inject_api_token`; `null` when no task asked for one. */
  token_id: string | null;
  /** The run's objects were removed by retention. */
  store_objects_expired: boolean;
  /** The id of the event that queued the run. */
  event_id: string | null;
  /** How many times the run was retried after it ended (`POST …/runs/{run_id}/retry`); absent when never. */
  retries?: number;
  /** The resolved concurrency group the run belongs to, when its pipeline declares one. */
  concurrency_group?: string;
  /** Present once the run's cancellation was asked (or a newer run of its group superseded it); cleared by a retry. */
  cancellation?: RunCancellation;
}

/**
 * A run's cancellation (an extension of v0): from `requested` its running tasks have `stop_timeout_ms` to stop
 * before they are killed. `requested_by` is absent when nobody asked: a newer run of its concurrency group
 * superseded it.
 */
export interface RunCancellation {
  requested: EpochMillis;
  requested_by?: Initiator;
  stop_timeout_ms: number;
}

/**
 * Where a task execution is in its life: `processing` → `waiting` (for its parents) → `processing` → `running`
 * → `complete`. It may become `complete` without running: skipped, cancelled or failed before its container
 * started. `unknown` is never set by this server.
 */
export type TaskExecutionState = "unknown" | "processing" | "waiting" | "running" | "complete";

/**
 * How a task execution ended; `unknown` until it is `complete`.
 *
 * - `successful`: the container exited 0.
 * - `failed`: a non-zero exit, or it could not be started.
 * - `cancelled`: stopped by a cancel request.
 * - `skipped`: a parent did not reach the state its `depends_on` condition asks for.
 */
export type TaskExecutionStatus = "unknown" | "failed" | "successful" | "cancelled" | "skipped";

/** Why a task execution ended as it did. */
export type TaskExecutionStatusReasonKind =
  | "unknown"
  | "abnormal_exit"
  | "scheduler_error"
  | "failed_precondition"
  | "cancelled"
  | "orphaned"
  | "timeout";

/** One task of one run. */
export interface TaskExecution {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_id: string;
  /** The task as configured when the run started. */
  task: Task;
  created: EpochMillis;
  started: EpochMillis;
  ended: EpochMillis;
  /** The container's exit code; `null` until it has exited. */
  exit_code: number | null;
  /** The log was removed by retention. */
  logs_expired: boolean;
  /** The log is gone, by retention or by request; reading it answers 410 `LOGS_REMOVED`. */
  logs_removed: boolean;
  state: TaskExecutionState;
  status: TaskExecutionStatus;
  status_reason: StatusReason<TaskExecutionStatusReasonKind> | null;
  /** The merged variables the container got, before secrets and objects were substituted. */
  variables: Variable[];
  /**
   * Which attempt this is, from 1 (an extension of v0): a task with `retries` is tried again after an attempt
   * that failed, and a retried run starts its unsuccessful tasks again; earlier attempts are kept (see
   * {@link TaskAttempt}).
   */
  attempt: number;
  /** When the next attempt starts (epoch ms), while the task waits out a retry delay; absent otherwise. */
  retry_at?: EpochMillis;
}

/** One finished attempt of a task execution, kept when the task is tried again. */
export interface TaskAttempt {
  attempt: number;
  started: EpochMillis;
  ended: EpochMillis;
  exit_code: number | null;
  status: TaskExecutionStatus;
  status_reason: StatusReason<TaskExecutionStatusReasonKind> | null;
}

/**
 * Something that happened, such as a run starting or a task completing. The kind is externally tagged: one key
 * naming it, whose value holds its fields, e.g. `{ "completed_run": { "namespace_id": "…", … } }`.
 */
export interface GoferEvent {
  /** Increasing with time; a decimal string on the wire. */
  id: string;
  kind: EventKind;
  emitted: EpochMillis;
}

interface PipelineRef {
  namespace_id: string;
  pipeline_id: string;
}

interface RunRef extends PipelineRef {
  run_id: number;
}

interface TaskExecutionRef extends RunRef {
  /** The task's id within the run (v0 calls it `task_execution_id`). */
  task_execution_id: string;
}

interface ExtensionRef {
  id: string;
  image: string;
}

interface SubscriptionRef extends PipelineRef {
  extension_id: string;
  subscription_id: string;
}

/** Every event kind the server publishes, with the fields it carries: the one list publisher and listeners share. */
export interface EventDetailsByKind {
  created_namespace: { namespace_id: string };
  deleted_namespace: { namespace_id: string };
  created_pipeline: PipelineRef;
  enabled_pipeline: PipelineRef;
  disabled_pipeline: PipelineRef;
  deleted_pipeline: PipelineRef;
  /** The config versions a deployment moves between. */
  started_deployment: PipelineRef & { start_version: number; end_version: number };
  completed_deployment: PipelineRef & { start_version: number; end_version: number };
  queued_run: RunRef;
  started_run: RunRef;
  completed_run: RunRef & { status: RunStatus };
  started_run_cancellation: RunRef;
  created_task_execution: TaskExecutionRef;
  started_task_execution: TaskExecutionRef;
  completed_task_execution: TaskExecutionRef & { status: TaskExecutionStatus };
  /** `timeout`: the grace period in seconds before the container is killed. */
  started_task_execution_cancellation: TaskExecutionRef & { timeout: number };
  /** v0 names an extension by `id` (with its `image`) in these four, unlike everywhere else. */
  installed_extension: ExtensionRef;
  uninstalled_extension: ExtensionRef;
  enabled_extension: ExtensionRef;
  disabled_extension: ExtensionRef;
  pipeline_extension_subscription_registered: SubscriptionRef;
  pipeline_extension_subscription_unregistered: SubscriptionRef;
  created_role: { role_id: string };
  deleted_role: { role_id: string };
}

export type EventKindName = keyof EventDetailsByKind;

/** An event's kind on the wire: one key, the kind's name, whose value holds its details. */
export type EventKind = { [K in EventKindName]: { [P in K]: EventDetailsByKind[K] } }[EventKindName];

/** An event's kind taken apart: `name` narrows `details` to that kind's fields. */
export type EventOf = { [K in EventKindName]: { name: K; details: EventDetailsByKind[K] } }[EventKindName];

/**
 * An extension's life as the server sees it:
 * - `unknown`: part of the v0 enum; not sent.
 * - `processing`: its container is being started, or Gofer is waiting for its first healthy answer.
 * - `running`: healthy and holding its subscriptions.
 * - `exited`: stopped: disabled, failed to start, crashed or stopped answering; `state_reason` says which, and a
 *   failed extension is restarted with backoff.
 */
export type ExtensionState = "unknown" | "processing" | "running" | "exited";

/** Whether an admin allows the extension to run: a disabled extension's container is stopped and starts no runs. */
export type ExtensionStatus = "unknown" | "enabled" | "disabled";

/** One setting an extension takes, as its `/api/info` documents it. */
export interface ExtensionParameter {
  key: string;
  required: boolean;
  documentation: string;
}

/** What an extension says about itself: how to configure it and how to subscribe to it. */
export interface ExtensionDocumentation {
  /** Free text (Markdown) explaining the extension. */
  body: string;
  /** Settings given at install (`gofer extension install -c key=value`). */
  config_params: ExtensionParameter[];
  /** Settings each subscription gives (`gofer pipeline subscription create -s key=value`). */
  pipeline_subscription_params: ExtensionParameter[];
}

/** How an extension was installed. Setting values are shown to admins only; others see `[redacted]`, and the registry password is never shown. */
export interface ExtensionRegistration {
  extension_id: string;
  image: string;
  registry_auth: RegistryAuth | null;
  settings: Variable[];
  created: EpochMillis;
  modified: EpochMillis;
  status: ExtensionStatus;
  /** Roles added to the extension's own token. */
  additional_roles: string[];
}

/** Why an extension is not running (or last failed): `reason` is a stable code, `description` the details. */
export type ExtensionStateReasonKind = "disabled" | "start_failed" | "crashed" | "unhealthy" | "stopped";

/** An installed extension and its current state. */
export interface Extension {
  registration: ExtensionRegistration;
  /** Where Gofer reaches the extension, e.g. `http://127.0.0.1:40211`; empty while it is not running. */
  url: string;
  /** When its current container started; `0` if it is not running. */
  started: EpochMillis;
  state: ExtensionState;
  /** Empty (no parameters, no body) until the extension has answered `/api/info` once. */
  documentation: ExtensionDocumentation;
  /** Set while the extension is not running because of a failure, or is disabled; otherwise `null`. */
  state_reason: StatusReason<ExtensionStateReasonKind> | null;
  /** How many times Gofer has restarted it since the server started. */
  restarts: number;
}

/** `POST /api/extensions` (admin). */
export interface InstallExtensionInput {
  /** An identifier: 3–32 letters, digits and hyphens. */
  id: string;
  image: string;
  /** The extension's config parameters, e.g. `{min_interval: "1m"}`. */
  settings: Record<string, string>;
  registry_auth?: RegistryAuth | null;
  /** Role ids added to the extension's token. */
  additional_roles?: string[] | null;
}

/** `active` subscriptions are held by the extension; `disabled` ones are kept but start no runs. */
export type SubscriptionStatus = "unknown" | "active" | "error" | "disabled";

export type SubscriptionStatusReasonKind = "unknown" | "not_found" | "failed";

/** A pipeline's subscription to an extension, e.g. "run every 5 minutes". */
export interface Subscription {
  namespace_id: string;
  pipeline_id: string;
  extension_id: string;
  subscription_id: string;
  /** As given, before secret references are resolved (resolved values never leave the server). */
  settings: Record<string, string>;
  status: SubscriptionStatus;
  status_reason: StatusReason<SubscriptionStatusReasonKind> | null;
  /**
   * The config version whose `subscriptions` declared it (an extension of v0): deploying a version that no longer
   * declares it removes it. Absent for a subscription made through the API or CLI, which deploys leave alone.
   */
  declared_by_version?: number;
}

/** `POST .../pipelines/{pipeline_id}/subscriptions`. */
export interface CreateSubscriptionInput {
  extension_id: string;
  /** An identifier naming this subscription among the pipeline's subscriptions to the extension. */
  subscription_id: string;
  /** The extension's subscription parameters; values may be `pipeline_secret{{key}}` or `global_secret{{key}}`. */
  settings: Record<string, string>;
}

/**
 * One API call that could change something, from the audit trail (`GET /api/audit`, an extension of v0). Written
 * in the transaction of the change it made, so a committed change always has its row. Holds no request body:
 * secret values, token secrets and object contents never appear in it.
 */
export interface AuditRecord {
  /** Increasing with time. */
  id: number;
  time: EpochMillis;
  /** The server's id for the request, as in its `x-request-id` header and error envelope. */
  request_id: string;
  /** The token the call was made with; `null` without one (the bootstrap call). */
  token_id: string | null;
  /** The token's user; `anonymous` for calls without a token. */
  user: string;
  method: string;
  /** The operation id, e.g. `delete_pipeline`. */
  operation: string;
  /** The route pattern, e.g. `/api/namespaces/:namespace_id/pipelines/:pipeline_id`. */
  route: string;
  /** What the call named: its path below `/api/`, e.g. `namespaces/default/pipelines/build`. */
  target: string;
  /** `failed` for every answer of 400 or above. */
  outcome: "succeeded" | "failed";
  /** The HTTP status the call was answered with (101 for an attached terminal). */
  status: number;
  /** The `error_code` of a failure's envelope. */
  error_code: string | null;
  /** The address the call came from; for a call another replica forwarded, the address that replica saw. */
  client_address: string;
  /** `X-Forwarded-For` as proxies in front of Gofer sent it (not verified), without the forwarding replica's entry. */
  forwarded_for: string | null;
  /** The replica that forwarded the call to the leader, if one did. */
  forwarded_by: string | null;
}
