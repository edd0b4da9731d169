/**
 * A run's own timeout: its deadline is when it started plus the timeout its config had when it was accepted.
 * Measured from stored times, so it holds across restarts.
 */
import { formatDuration } from "@gofer/sdk";

export interface RunTiming {
  started: number;
  timeout_ms: number | null;
}

/** When the run must be over, or `undefined` when it has no timeout or has not started. */
export function runDeadline(run: RunTiming): number | undefined {
  if (run.timeout_ms === null || run.started === 0) return undefined;
  return run.started + run.timeout_ms;
}

export function runTimedOut(run: RunTiming, now: number): boolean {
  const deadline = runDeadline(run);
  return deadline !== undefined && now >= deadline;
}

export const describeRunTimeout = (run: RunTiming): string =>
  `The run ran longer than its ${formatDuration(run.timeout_ms ?? 0)} timeout`;
