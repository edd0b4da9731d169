/**
 * @gofer/sdk: what pipeline and extension authors import. Runs on any JavaScript runtime; never imports server
 * code, and the server imports its pipeline model and rules from here.
 */

export { concurrencyGroupVariables, fillConcurrencyGroup } from "./concurrency-group.ts";
export { formatDuration, parseDuration } from "./durations.ts";
export {
  describeIdentifierRule,
  describeTaskIdRule,
  isValidIdentifier,
  isValidTaskId,
  MAX_TASK_ID_LENGTH,
} from "./identifiers.ts";
export { globalSecret, pipelineObject, pipelineSecret, runObject } from "./interpolation.ts";
export type { ConcurrencyOptions, DependsOnCondition, RetriesOptions } from "./pipeline-builder.ts";
export { isPipelineBuilder, PipelineBuilder, pipeline, TaskBuilder, task } from "./pipeline-builder.ts";
export type {
  DeclaredSubscription,
  PipelineConfig,
  PipelineConfigInput,
  RegistryAuth,
  RequiredParentStatus,
  RequiredParentStatusInput,
  RetryCause,
  RunConcurrency,
  TaskConfig,
  TaskConfigInput,
  TaskRetries,
} from "./pipeline-config.ts";
export { normaliseRequiredParentStatus, REQUIRED_PARENT_STATUSES, RETRY_CAUSES } from "./pipeline-config.ts";
export { PipelineConfigError } from "./pipeline-config-error.ts";
export type { DependencyNode } from "./pipeline-dag.ts";
export { findDependencyCycles, topologicalOrder } from "./pipeline-dag.ts";
export { PIPELINE_CONFIG_LIMITS } from "./pipeline-limits.ts";
export type { QuantityParse, TaskResources } from "./resource-quantities.ts";
export { parseCpuQuantity, parseMemoryQuantity, RESOURCE_LIMITS } from "./resource-quantities.ts";
export type { PipelineValidationResult, ValidationProblem } from "./validate-pipeline.ts";
export { MAX_REPORTED_PROBLEMS, RETRY_DEFAULTS, validatePipelineConfig } from "./validate-pipeline.ts";
