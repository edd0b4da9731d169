/**
 * A run being cancelled, as the run's `cancellation` (an extension of v0) tells it: who asked, when, and how
 * long its running tasks have to stop before the server kills them.
 */
import type { Run, RunCancellation } from "../api/types.ts";

export type { RunCancellation };

/** The run's cancellation; servers without the extension leave the field out. */
export const cancellationOf = (run: Run): RunCancellation | undefined => run.cancellation;

/**
 * Whether the run is being cancelled: asked (the run says so, or its `started_run_cancellation` event arrived
 * before the run was read again) and not yet complete.
 */
export function isCancelling(run: Run, announced: boolean): boolean {
  return run.state !== "complete" && (announced || cancellationOf(run) !== undefined);
}

/** What the grace period leaves, counting down: "tasks still running are killed in 4 s". */
export function graceLeft(cancellation: RunCancellation, now: number): string {
  // `now` may be up to a tick older than the request: never more than the whole period is left.
  const left = Math.min(
    cancellation.stop_timeout_ms,
    cancellation.requested + cancellation.stop_timeout_ms - now,
  );
  if (left <= 0) return "the grace period is over: tasks still running are being killed";
  return `tasks still running are killed in ${Math.ceil(left / 1000)} s`;
}

/** Who asked, in words: "asked by admin", or the superseding run. */
export function askedBy(run: Run, cancellation: RunCancellation): string {
  if (cancellation.requested_by) return `asked by ${cancellation.requested_by.user}`;
  return run.status_reason?.reason === "superseded" ? run.status_reason.description : "asked";
}
