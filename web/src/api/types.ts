/**
 * The v0 API objects as the SDK's typed client describes them: one definition for every client of the API. Type
 * imports only, so nothing of the SDK's runtime reaches the bundle.
 */
export type {
  Deployment,
  EventDetailsByKind,
  EventKindName,
  EventOf,
  Extension,
  GoferEvent,
  Namespace,
  PipelineConfigVersion as PipelineConfig,
  PipelineMetadata,
  ReplicaListing,
  ReplicaSummary,
  Run,
  RunCancellation,
  RunState,
  RunStatus,
  Subscription,
  SystemPreferences,
  Task,
  TaskAttempt,
  TaskDependencyCondition,
  TaskExecution,
  TaskExecutionState as TaskState,
  TaskExecutionStatus as TaskStatus,
  Token,
} from "../../../packages/sdk/src/client/wire-types.ts";
