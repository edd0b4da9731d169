/**
 * Lifecycle states and statuses of everything Gofer tracks, as they appear on the v0 wire. `state` says where an
 * object is in its lifecycle; `status` says how it ended. The v0 wire types in `@gofer/sdk/client` are the one
 * definition (documented there, state by state), so the server and every client agree by construction.
 */
export type {
  ConfigState,
  DeploymentState,
  DeploymentStatus,
  PipelineState,
  RunState,
  RunStatus,
  RunStatusReasonKind as RunStatusReasonType,
  /** Stored (lowercase) form of a `depends_on` condition. */
  TaskDependencyCondition as RequiredParentStatus,
  TaskExecutionState,
  TaskExecutionStatus,
  TaskExecutionStatusReasonKind as TaskExecutionStatusReasonType,
  VariableSource,
} from "@gofer/sdk/client";
