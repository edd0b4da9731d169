/**
 * The rules of timeouts and retries: how long an attempt may run, which endings are tried again, and when the next
 * attempt starts. Pure: the task launcher and the run loop ask, storage remembers.
 */
import { parseDuration, type RetryCause, type TaskRetries } from "@gofer/sdk";
import type { StatusReason } from "./models.ts";
import type { TaskExecutionStatus, TaskExecutionStatusReasonType } from "./states.ts";

/** The server-wide limits on task timeouts (`api.task_timeout_default`, `api.task_timeout_max`); 0: none. */
export interface TimeoutLimits {
  defaultMs: number;
  maxMs: number;
}

/** How long one attempt of a task may run, in ms; 0 when it may run for ever. */
export function taskTimeoutMs(declared: string | undefined, limits: TimeoutLimits): number {
  const own = declared === undefined ? undefined : parseDuration(declared);
  const chosen = own ?? limits.defaultMs;
  if (limits.maxMs > 0 && (chosen === 0 || chosen > limits.maxMs)) return limits.maxMs;
  return chosen;
}

/** A run's timeout in ms from its config, or `null` for none. */
export function runTimeoutMs(declared: string | undefined): number | null {
  const ms = declared === undefined ? undefined : parseDuration(declared);
  return ms === undefined || ms === 0 ? null : ms;
}

/** Which retry cause an attempt's ending is, if any: cancels and unmet preconditions are never retried. */
export function retryCauseOf(
  status: TaskExecutionStatus,
  reason: StatusReason<TaskExecutionStatusReasonType> | null,
): RetryCause | undefined {
  if (status !== "failed") return undefined;
  switch (reason?.reason) {
    case "abnormal_exit":
      return "failure";
    case "timeout":
      return "timeout";
    case "scheduler_error":
      return "scheduler_error";
    case "orphaned":
      return "orphaned";
    default:
      return undefined;
  }
}

/**
 * When the attempt after `attempt` (1-based) should start, or `undefined` when the policy does not retry this
 * ending: the cause is not listed, or the attempts are spent.
 */
export function nextAttemptAt(
  retries: TaskRetries | undefined,
  attempt: number,
  cause: RetryCause | undefined,
  endedAt: number,
): number | undefined {
  if (!retries || cause === undefined || !retries.on.includes(cause) || attempt > retries.limit)
    return undefined;
  const delay = parseDuration(retries.delay) ?? 1000;
  const maxDelay = parseDuration(retries.max_delay) ?? 300_000;
  // Whole milliseconds: a fractional factor must not produce a time an integer column refuses.
  return endedAt + Math.round(Math.min(delay * retries.factor ** (attempt - 1), maxDelay));
}
