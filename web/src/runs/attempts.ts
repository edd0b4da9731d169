/**
 * A task's attempts as the run page shows them: one timeline segment per attempt that ran, the countdown while a
 * retry waits, and a task's retry policy in words. Pure, so it is tested in Node.
 */
import type { Task, TaskAttempt, TaskExecution } from "../api/types.ts";
import { outcome } from "../format.ts";

export interface AttemptSegment {
  attempt: number;
  started: number;
  /** Where the bar ends: the attempt's end, or now while it runs. */
  finish: number;
  /** 0 while it runs. */
  ended: number;
  /** The status or state word that colours it. */
  look: string;
  /** The execution's own attempt (the last); earlier ones are drawn dimmed. */
  current: boolean;
}

/**
 * Every attempt of `execution` that started, oldest first. `attempts` is the task's attempts list (its last
 * entry, the current attempt, may be stale: the execution itself is the truth for it).
 */
export function attemptSegments(
  execution: TaskExecution,
  attempts: readonly TaskAttempt[],
  now: number,
): AttemptSegment[] {
  const earlier = attempts
    .filter((attempt) => attempt.attempt < execution.attempt && attempt.started > 0)
    .map((attempt) => ({
      attempt: attempt.attempt,
      started: attempt.started,
      finish: attempt.ended || attempt.started,
      ended: attempt.ended,
      look: attempt.status,
      current: false,
    }));
  if (!execution.started) return earlier;
  const running = execution.state === "running";
  return [
    ...earlier,
    {
      attempt: execution.attempt,
      started: execution.started,
      finish: execution.ended || (running ? now : execution.started),
      ended: execution.ended,
      look: outcome(execution.state, execution.status),
      current: true,
    },
  ];
}

/** "retrying in 4s" while a task waits out its retry delay; undefined when it does not. */
export function retryCountdown(execution: TaskExecution, now: number): string | undefined {
  if (execution.retry_at === undefined || execution.state === "complete") return undefined;
  const seconds = Math.ceil((execution.retry_at - now) / 1000);
  return seconds > 0 ? `retrying in ${seconds}s` : "retrying now";
}

/** A task's retry policy in words: "up to 2 more attempts, 1s apart (×2, at most 5m), on failure, timeout". */
export function describeRetries(retries: NonNullable<Task["retries"]>): string {
  const attempts = `up to ${retries.limit} more attempt${retries.limit === 1 ? "" : "s"}`;
  const growth = retries.factor > 1 ? ` (×${retries.factor}, at most ${retries.max_delay})` : "";
  const causes = retries.on.length > 0 ? `, on ${retries.on.join(", ")}` : "";
  return `${attempts}, ${retries.delay} apart${growth}${causes}`;
}
