/**
 * Pure rules of DAG progression: whether a task may start once its parents are complete, and what a run's
 * final status is. The orchestrator applies them; keeping them here makes every rule unit-testable.
 */
import type { RequiredParentStatus, RunStatus, TaskExecutionStatus } from "./states.ts";

export type ParentVerdict = "wait" | "start" | "skip" | "cancel";

/**
 * A task starts only after every parent is complete. `success` needs a successful parent, `failure` a failed
 * one, `any` accepts successful, failed or skipped, `unknown` never holds. A cancelled parent cancels its
 * dependents instead of skipping them: cancelling a task means "stop this branch", not "this branch failed".
 */
export function judgeParents(
  dependsOn: Record<string, RequiredParentStatus>,
  parentStatuses: Record<string, TaskExecutionStatus | undefined>,
): ParentVerdict {
  let verdict: ParentVerdict = "start";
  for (const [parent, required] of Object.entries(dependsOn)) {
    const status = parentStatuses[parent];
    if (status === undefined) return "wait";
    if (status === "cancelled") verdict = "cancel";
    else if (verdict !== "cancel" && !conditionHolds(required, status)) verdict = "skip";
  }
  return verdict;
}

function conditionHolds(required: RequiredParentStatus, status: TaskExecutionStatus): boolean {
  switch (required) {
    case "success":
      return status === "successful";
    case "failure":
      return status === "failed";
    case "any":
      return status === "successful" || status === "failed" || status === "skipped";
    default:
      return false;
  }
}

/** A cancellation anywhere makes the run cancelled; otherwise any failure makes it failed. Skips are not failures. */
export function finalRunStatus(taskStatuses: TaskExecutionStatus[]): RunStatus {
  if (taskStatuses.includes("cancelled")) return "cancelled";
  if (taskStatuses.includes("failed") || taskStatuses.includes("unknown")) return "failed";
  return "successful";
}

/** Describes the unmet conditions, for the skipped task's status reason. */
export function describeUnmetParents(
  dependsOn: Record<string, RequiredParentStatus>,
  parentStatuses: Record<string, TaskExecutionStatus | undefined>,
): string {
  const unmet = Object.entries(dependsOn)
    .filter(([parent, required]) => {
      const status = parentStatuses[parent];
      return status !== undefined && !conditionHolds(required, status);
    })
    .map(([parent, required]) => `${parent} is ${parentStatuses[parent]} (required: ${required})`);
  return `Task skipped because its dependencies were not met: ${unmet.join("; ")}`;
}
