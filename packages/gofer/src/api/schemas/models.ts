/** The v0 wire models, as response schemas. Field names, enums and envelopes follow Gofer's v0 contract. */
import { Type } from "typebox";
import {
  DeclaredSubscriptions,
  Duration,
  EpochMs,
  Literals,
  Nullable,
  RunConcurrency,
  StatusReason,
  StringMap,
  TaskResources,
  TaskRetries,
  Variable,
} from "./common.ts";

export const Namespace = Type.Object(
  {
    id: Type.String(),
    name: Type.String(),
    description: Type.String(),
    created: EpochMs,
    modified: EpochMs,
  },
  { $id: "Namespace" },
);

export const PipelineMetadata = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    created: EpochMs,
    modified: EpochMs,
    state: Literals(["unknown", "active", "disabled"]),
  },
  { $id: "Metadata" },
);

export const RegistryAuth = Type.Object({ user: Type.String(), pass: Type.String() });

export const Task = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    image: Type.String(),
    registry_auth: Nullable(RegistryAuth),
    depends_on: Type.Record(Type.String(), Literals(["unknown", "any", "success", "failure"])),
    variables: Type.Array(Variable),
    entrypoint: Nullable(Type.Array(Type.String())),
    command: Nullable(Type.Array(Type.String())),
    inject_api_token: Type.Boolean(),
    always_pull_newest_image: Type.Boolean(),
    resources: Type.Optional(TaskResources),
    timeout: Type.Optional(
      Duration("The longest one attempt may run (an extension of v0); absent: none declared."),
    ),
    retries: Type.Optional(TaskRetries),
  },
  { $id: "Task" },
);

export const Config = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    version: Type.Integer({ minimum: 0 }),
    parallelism: Type.Integer({ minimum: 0 }),
    name: Type.String(),
    description: Type.String(),
    tasks: Type.Record(Type.String(), Type.Ref("Task")),
    state: Literals(["unknown", "unreleased", "live", "deprecated"]),
    registered: EpochMs,
    deprecated: EpochMs,
    timeout: Type.Optional(Duration("The longest a run may take (an extension of v0); absent: no limit.")),
    concurrency: Type.Optional(RunConcurrency),
    subscriptions: Type.Optional(DeclaredSubscriptions),
  },
  { $id: "Config" },
);

export const EventSchema = Type.Object(
  {
    id: Type.String(),
    kind: Type.Record(Type.String(), Type.Record(Type.String(), Type.Unknown())),
    emitted: EpochMs,
  },
  { $id: "Event" },
);

export const Deployment = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    deployment_id: Type.Integer({ minimum: 0 }),
    start_version: Type.Integer({ minimum: 0 }),
    end_version: Type.Integer({ minimum: 0 }),
    started: EpochMs,
    ended: EpochMs,
    state: Literals(["Unknown", "Running", "Complete"]),
    status: Literals(["Unknown", "Failed", "Successful"]),
    status_reason: StatusReason(["Unknown"]),
    logs: Type.Array(Type.Ref("Event")),
  },
  { $id: "Deployment" },
);

export const Initiator = Type.Object({ id: Type.String(), user: Type.String() });

export const Run = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    pipeline_config_version: Type.Integer({ minimum: 0 }),
    run_id: Type.Integer({ minimum: 0 }),
    started: EpochMs,
    ended: EpochMs,
    state: Literals(["unknown", "pending", "running", "complete"]),
    status: Literals(["unknown", "failed", "successful", "cancelled"]),
    status_reason: StatusReason([
      "unknown",
      "abnormal_exit",
      "scheduler_error",
      "failed_precondition",
      "user_cancelled",
      "admin_cancelled",
      "timeout",
      "superseded",
    ]),
    initiator: Initiator,
    variables: Type.Array(Variable),
    token_id: Nullable(Type.String()),
    store_objects_expired: Type.Boolean(),
    event_id: Nullable(Type.String()),
    retries: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "How many times the run was retried after it ended (an extension of v0); absent when never.",
      }),
    ),
    concurrency_group: Type.Optional(
      Type.String({
        description: "The resolved concurrency group of the run (an extension of v0); absent when none.",
      }),
    ),
    cancellation: Type.Optional(
      Type.Object(
        {
          requested: EpochMs,
          requested_by: Type.Optional(Initiator),
          stop_timeout_ms: Type.Integer({ minimum: 0 }),
        },
        {
          description:
            "Who asked to cancel the run and when (an extension of v0); from then its running tasks have " +
            "`stop_timeout_ms` to stop before they are killed. `requested_by` is absent when a newer run of its " +
            "concurrency group superseded it. Absent unless cancellation was asked; a retry clears it.",
        },
      ),
    ),
  },
  { $id: "Run" },
);

const TaskExecutionStatus = Literals(["unknown", "failed", "successful", "cancelled", "skipped"]);

const TaskExecutionStatusReason = StatusReason([
  "unknown",
  "abnormal_exit",
  "scheduler_error",
  "failed_precondition",
  "cancelled",
  "orphaned",
  "timeout",
]);

export const TaskExecution = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    run_id: Type.Integer({ minimum: 0 }),
    task_id: Type.String(),
    task: Type.Ref("Task"),
    created: EpochMs,
    started: EpochMs,
    ended: EpochMs,
    exit_code: Nullable(Type.Integer({ minimum: 0, maximum: 255 })),
    logs_expired: Type.Boolean(),
    logs_removed: Type.Boolean(),
    state: Literals(["unknown", "processing", "waiting", "running", "complete"]),
    status: TaskExecutionStatus,
    status_reason: TaskExecutionStatusReason,
    variables: Type.Array(Variable),
    attempt: Type.Integer({
      minimum: 1,
      description:
        "Which attempt this is, from 1 (an extension of v0); earlier attempts are listed by the attempts route.",
    }),
    retry_at: Type.Optional(
      Type.Integer({
        minimum: 0,
        description:
          "Epoch milliseconds: when the next attempt starts, while the task waits out a retry delay; absent otherwise.",
      }),
    ),
  },
  { $id: "TaskExecution" },
);

/** One finished attempt of a task execution, kept when the task is tried again (an extension of v0). */
export const TaskAttempt = Type.Object(
  {
    attempt: Type.Integer({ minimum: 1 }),
    started: EpochMs,
    ended: EpochMs,
    exit_code: Nullable(Type.Integer({ minimum: 0, maximum: 255 })),
    status: TaskExecutionStatus,
    status_reason: TaskExecutionStatusReason,
  },
  { $id: "TaskAttempt" },
);

export const Token = Type.Object(
  {
    id: Type.String(),
    created: EpochMs,
    metadata: StringMap,
    expires: EpochMs,
    disabled: Type.Boolean(),
    user: Type.String(),
    roles: Type.Array(Type.String()),
  },
  { $id: "Token" },
);

export const Permission = Type.Object(
  {
    resources: Type.Array(Type.String(), {
      description:
        "Resources this permission covers: all, configs, deployments, events, extensions:<regex>, " +
        "namespaces:<regex>, objects, permissions, pipelines:<regex>, runs, secrets, subscriptions, system, " +
        "task_executions, tokens. A regex must match the whole id.",
    }),
    actions: Type.Array(Literals(["read", "write", "delete"])),
  },
  { $id: "Permission" },
);

export const Role = Type.Object(
  {
    id: Type.String(),
    description: Type.String(),
    permissions: Type.Array(Type.Ref("Permission")),
    system_role: Type.Boolean({ description: "Created by Gofer; cannot be updated or deleted." }),
  },
  { $id: "Role" },
);

// Extensions: v0's shapes plus the fields this server adds, `state_reason` and `restarts`.
const Parameter = Type.Object({
  key: Type.String(),
  required: Type.Boolean(),
  documentation: Type.String(),
});

const Documentation = Type.Object({
  body: Type.String({
    description: "What the extension does (Markdown), as the extension describes itself.",
  }),
  config_params: Type.Array(Parameter, { description: "Settings given at install." }),
  pipeline_subscription_params: Type.Array(Parameter, { description: "Settings each subscription gives." }),
});

const Registration = Type.Object({
  extension_id: Type.String(),
  image: Type.String(),
  registry_auth: Nullable(RegistryAuth),
  settings: Type.Array(Variable, { description: "Install settings; values are shown to admins only." }),
  created: EpochMs,
  modified: EpochMs,
  status: Literals(["unknown", "enabled", "disabled"]),
  additional_roles: Type.Array(Type.String()),
});

export const ExtensionSchema = Type.Object(
  {
    registration: Registration,
    url: Type.String({ description: "Where Gofer reaches the extension; empty while it is not running." }),
    started: EpochMs,
    state: Literals(["unknown", "processing", "running", "exited"]),
    documentation: Documentation,
    state_reason: StatusReason(["disabled", "start_failed", "crashed", "unhealthy", "stopped"]),
    restarts: Type.Integer({ minimum: 0, description: "Restarts since the server started." }),
  },
  { $id: "Extension" },
);

export const SubscriptionSchema = Type.Object(
  {
    namespace_id: Type.String(),
    pipeline_id: Type.String(),
    extension_id: Type.String(),
    subscription_id: Type.String(),
    settings: StringMap,
    status: Literals(["unknown", "active", "error", "disabled"]),
    status_reason: StatusReason(["unknown", "not_found", "failed"]),
    declared_by_version: Type.Optional(
      Type.Integer({
        minimum: 1,
        description:
          "The config version whose `subscriptions` declared it (an extension of v0); absent when made " +
          "through the API or CLI. Deploys reconcile declared subscriptions and leave the others alone.",
      }),
    ),
  },
  { $id: "Subscription" },
);

/** Shared schemas registered once with `addSchema`, referenced by `$id` everywhere else. */
export const SHARED_SCHEMAS = [
  Namespace,
  PipelineMetadata,
  Task,
  Config,
  EventSchema,
  Deployment,
  Run,
  TaskExecution,
  TaskAttempt,
  Token,
  Permission,
  Role,
  ExtensionSchema,
  SubscriptionSchema,
];
