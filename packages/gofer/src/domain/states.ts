/**
 * Lifecycle states and statuses of everything Gofer tracks, as they appear on the v0 wire.
 * `state` says where an object is in its lifecycle; `status` says how it ended.
 */

/** `active`: runs may start. `disabled`: start requests are refused with 503. */
export type PipelineState = "unknown" | "active" | "disabled";

/**
 * `unreleased`: registered, never deployed. `live`: the version new runs execute.
 * `deprecated`: was live, replaced by a later deployment.
 */
export type ConfigState = "unknown" | "unreleased" | "live" | "deprecated";

/** Deployments serialise PascalCase in v0. */
export type DeploymentState = "Unknown" | "Running" | "Complete";
export type DeploymentStatus = "Unknown" | "Failed" | "Successful";

/**
 * `pending`: accepted, waiting for a parallelism slot (queued in order).
 * `running`: its tasks are being scheduled. `complete`: every task has reached a final state.
 */
export type RunState = "unknown" | "pending" | "running" | "complete";
/** `unknown` until the run is complete. A cancellation takes precedence over a failure. */
export type RunStatus = "unknown" | "failed" | "successful" | "cancelled";
export type RunStatusReasonType =
  | "unknown"
  | "abnormal_exit"
  | "scheduler_error"
  | "failed_precondition"
  | "user_cancelled"
  | "admin_cancelled";

/**
 * `processing`: being prepared. `waiting`: its parents have not all completed.
 * `running`: its container is started. `complete`: final; see `status`.
 */
export type TaskExecutionState = "unknown" | "processing" | "waiting" | "running" | "complete";
export type TaskExecutionStatus = "unknown" | "failed" | "successful" | "cancelled" | "skipped";
export type TaskExecutionStatusReasonType =
  | "unknown"
  | "abnormal_exit"
  | "scheduler_error"
  | "failed_precondition"
  | "cancelled"
  | "orphaned";

/** Stored (lowercase) form of a `depends_on` condition. */
export type RequiredParentStatus = "unknown" | "any" | "success" | "failure";

export type VariableSource = "unknown" | "pipeline_config" | "system" | "run_options" | "extension";
