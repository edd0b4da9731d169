/**
 * The v0 wire shapes the API serves. They are defined once, in `@gofer/sdk/client` (documented there field by
 * field), so the server's responses and every client's expectations cannot drift apart.
 */
export type {
  AuditRecord,
  Deployment,
  EventDetailsByKind,
  EventKind,
  EventKindName,
  EventOf,
  Extension,
  GoferEvent,
  Initiator,
  Namespace,
  PipelineConfigVersion as PipelineConfig,
  PipelineMetadata,
  Run,
  RunCancellation,
  StatusReason,
  Subscription,
  Task,
  TaskAttempt,
  TaskExecution,
  Token,
  Variable,
} from "@gofer/sdk/client";

/** A registry credential as stored with a task; the API serves the password as `[redacted]`. */
export interface RegistryAuth {
  user: string;
  pass: string;
}
