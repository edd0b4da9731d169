/**
 * The tables as Kysely sees them. JSON columns hold text; `*_json` names make the encoding obvious at every
 * use. Booleans are 0/1 integers.
 */
import type { Generated } from "kysely";

export interface NamespacesTable {
  id: string;
  name: string;
  description: string;
  created: number;
  modified: number;
}

export interface PipelinesTable {
  namespace_id: string;
  pipeline_id: string;
  created: number;
  modified: number;
  state: string;
}

export interface PipelineConfigsTable {
  namespace_id: string;
  pipeline_id: string;
  version: number;
  parallelism: number;
  name: string;
  description: string;
  state: string;
  registered: number;
  deprecated: number;
  /** The config's extensions of v0 (`timeout`, `concurrency`, `subscriptions`) as JSON; `null` for a v0 config. */
  controls_json: string | null;
}

export interface PipelineTasksTable {
  namespace_id: string;
  pipeline_id: string;
  version: number;
  task_id: string;
  position: number;
  /** The stored `Task` (v0 shape) as JSON. */
  task_json: string;
}

export interface DeploymentsTable {
  namespace_id: string;
  pipeline_id: string;
  deployment_id: number;
  start_version: number;
  end_version: number;
  started: number;
  ended: number;
  state: string;
  status: string;
  status_reason_json: string | null;
}

export interface RunsTable {
  /** Global arrival order; the queue of pending runs is served in this order. */
  seq: Generated<number>;
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  pipeline_config_version: number;
  created: number;
  started: number;
  ended: number;
  state: string;
  status: string;
  status_reason_json: string | null;
  initiator_json: string;
  variables_json: string;
  token_id: string | null;
  store_objects_expired: number;
  event_id: string | null;
  /** Set when cancellation was requested, so a restart still knows. */
  cancel_requested: number;
  /** How many times the run was retried after it ended. */
  retries: Generated<number>;
  /** The concurrency group the run resolved to, when its config declares one. */
  concurrency_group: string | null;
  /** The run's timeout in ms, from its config when accepted; the deadline is `started` plus this. */
  timeout_ms: number | null;
  /** Who asked to cancel the run, when, and the tasks' grace period (JSON); null unless cancellation was asked. */
  cancellation_json: Generated<string | null>;
}

/** The last run id handed out per pipeline: ids stay unique even after retention deletes the newest rows. */
export interface RunCountersTable {
  namespace_id: string;
  pipeline_id: string;
  last_run_id: number;
}

export interface TaskExecutionsTable {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_id: string;
  task_json: string;
  created: number;
  started: number;
  ended: number;
  exit_code: number | null;
  logs_expired: number;
  logs_removed: number;
  state: string;
  status: string;
  status_reason_json: string | null;
  variables_json: string;
  /** The scheduler's handle for the container, once started: recovery finds the container by it. */
  container_id: string | null;
  /** Why the task was asked to stop (its cancellation's description), while the stop is under way. */
  stop_requested: string | null;
  /** Which attempt the row describes, from 1; earlier ones are in `task_attempts`. */
  attempt: Generated<number>;
  /** While waiting out a retry delay: when the next attempt starts (epoch ms). */
  retry_at: number | null;
}

/** A finished attempt of a task execution that was tried again. */
export interface TaskAttemptsTable {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_id: string;
  attempt: number;
  started: number;
  ended: number;
  exit_code: number | null;
  status: string;
  status_reason_json: string | null;
}

export interface EventsTable {
  id: Generated<number>;
  kind: string;
  details_json: string;
  emitted: number;
}

export interface TokensTable {
  id: string;
  hash: string;
  created: number;
  metadata_json: string;
  expires: number;
  disabled: number;
  roles_json: string;
  user: string;
}

export interface RolesTable {
  id: string;
  description: string;
  /** The role's `Permission[]` (v0 shape) as JSON. */
  permissions_json: string;
  system_role: number;
}

export interface SystemTable {
  id: number;
  bootstrap_token_created: number;
  ignore_pipeline_run_events: number;
  instance_id: string;
}

/** `value` columns: nonce ‖ AES-256-GCM ciphertext ‖ tag (see secrets/secret-cipher.ts). */
export interface PipelineSecretsTable {
  namespace_id: string;
  pipeline_id: string;
  key: string;
  created: number;
  value: Uint8Array;
}

export interface GlobalSecretsTable {
  key: string;
  /** The namespace regexes (`string[]`) as JSON. */
  namespaces_json: string;
  created: number;
  value: Uint8Array;
}

/** One row (id 1): a known marker encrypted under the store key, to detect a wrong key at boot. */
export interface SecretStoreMetaTable {
  id: number;
  key_check: Uint8Array;
}

/** Pipeline, run and extension objects' metadata; `owner` names the scope, the other scopes' columns are NULL. */
export interface ObjectsTable {
  owner: string;
  key: string;
  namespace_id: string | null;
  pipeline_id: string | null;
  run_id: number | null;
  extension_id: string | null;
  /** The content's file name inside the scope's folder of the object store. */
  file: string;
  size: number;
  created: number;
}

export interface ExtensionsTable {
  extension_id: string;
  image: string;
  /** `RegistryAuth | null` as JSON. */
  registry_auth_json: string | null;
  /** The install settings (`Record<string, string>`) as JSON; values may hold secret references. */
  settings_json: string;
  additional_roles_json: string;
  /** `enabled` or `disabled`. */
  status: string;
  token_id: string | null;
  created: number;
  modified: number;
  /** The running container's address and secret, sealed with the secret store's key; see replicas. */
  runtime_sealed: Generated<Uint8Array | null>;
}

export interface SubscriptionsTable {
  namespace_id: string;
  pipeline_id: string;
  extension_id: string;
  subscription_id: string;
  /** The settings as given (`Record<string, string>`), before secret references are resolved. */
  settings_json: string;
  status: string;
  status_reason_json: string | null;
  created: number;
  /** The config version whose `subscriptions` declared it; `null` when made through the API or CLI. */
  declared_by_version: number | null;
}

export interface Database {
  namespaces: NamespacesTable;
  pipelines: PipelinesTable;
  pipeline_configs: PipelineConfigsTable;
  pipeline_tasks: PipelineTasksTable;
  deployments: DeploymentsTable;
  runs: RunsTable;
  run_counters: RunCountersTable;
  task_executions: TaskExecutionsTable;
  task_attempts: TaskAttemptsTable;
  events: EventsTable;
  tokens: TokensTable;
  roles: RolesTable;
  system: SystemTable;
  pipeline_secrets: PipelineSecretsTable;
  global_secrets: GlobalSecretsTable;
  secret_store_meta: SecretStoreMetaTable;
  objects: ObjectsTable;
  extensions: ExtensionsTable;
  subscriptions: SubscriptionsTable;
  replicas: ReplicasTable;
  leases: LeasesTable;
  audit: AuditTable;
  notification_targets: NotificationTargetsTable;
  notification_deliveries: NotificationDeliveriesTable;
  notification_progress: NotificationProgressTable;
}

/**
 * One API call that could change something: who, what, when and how it ended. Never holds a request body, so no
 * secret value, token secret or object content reaches it.
 */
export interface AuditTable {
  id: Generated<number>;
  time: number;
  request_id: string;
  token_id: string | null;
  user: string;
  method: string;
  operation: string;
  route: string;
  target: string;
  /** `succeeded` or `failed`. */
  outcome: string;
  status: number;
  error_code: string | null;
  client_address: string;
  forwarded_for: string | null;
  forwarded_by: string | null;
}

/** A server sharing the PostgreSQL database with others; rows of stopped or silent replicas are pruned later. */
export interface ReplicasTable {
  replica_id: string;
  /** Where the other replicas reach its API (server.replica_url). */
  url: string;
  /** Where they reach its external events listener, when it has one. */
  external_events_url: string | null;
  hostname: string;
  pid: number;
  version: string;
  started: number;
  /** Database time (epoch ms) of its last heartbeat. */
  heartbeat: number;
  /** Database time it stopped cleanly; 0 while it runs or after a crash. */
  stopped: Generated<number>;
}

/** A lease one replica holds at a time: `work` is the right to run the work. Times are the database's. */
export interface LeasesTable {
  name: string;
  holder: string;
  /** Increases each time another replica takes the lease. */
  term: number;
  acquired: number;
  renewed: number;
  expires: number;
  /** 1 once the holder has taken over the work (recovery done) and serves what only the leader may. */
  serving: Generated<number>;
}

/** Where a namespace (`pipeline_id` null) or a pipeline is told of its runs; see notifications/. */
export interface NotificationTargetsTable {
  notification_id: string;
  namespace_id: string;
  pipeline_id: string | null;
  /** The whole URL, sealed with the secret store's key (purpose `notification-url/<id>`). */
  url_sealed: Uint8Array;
  /** Scheme, host and port: all of the URL the API shows. */
  url_origin: string;
  format: string;
  /** `NotificationEvent[]` as JSON. */
  events_json: string;
  /** The HMAC key of a json target, sealed (purpose `notification-secret/<id>`). */
  secret_sealed: Uint8Array | null;
  description: string;
  /** `enabled` or `disabled`. */
  state: string;
  state_reason_json: string | null;
  failures_in_a_row: number;
  created: number;
  modified: number;
}

/** One notification sent, or being sent, to a target, with every attempt's outcome. */
export interface NotificationDeliveriesTable {
  delivery_id: string;
  notification_id: string;
  event: string;
  /** The Gofer event it was made for; null for a test delivery. */
  event_id: number | null;
  pipeline_id: string | null;
  run_id: number | null;
  task_execution_id: string | null;
  /** The body's fields, fixed when the delivery is made, so every attempt sends the same. */
  payload_json: string;
  /** `pending`, `succeeded`, `failed` or `skipped`. */
  state: string;
  state_reason: string | null;
  /** `NotificationAttempt[]` as JSON. */
  attempts_json: string;
  /** Epoch ms the next attempt is due while pending; 0 otherwise. */
  next_attempt: number;
  created: number;
  completed: number;
}

/** One row (id 1): the newest event id whose deliveries were made. */
export interface NotificationProgressTable {
  id: number;
  last_event_id: number;
}
