/**
 * Why a running task was asked to stop, as stored with it (`task_executions.stop_requested`) so a restart during
 * the grace period still ends it the same way: a cancel ends it `cancelled`, a timeout `failed` with reason
 * `timeout`. Stored as JSON; plain text (what earlier versions stored) is a cancel with that description.
 */
import type { StatusReason } from "./models.ts";
import type { TaskExecutionStatus, TaskExecutionStatusReasonType } from "./states.ts";

export interface StopRequest {
  /** The status the task ends with once its container has stopped. */
  status: Extract<TaskExecutionStatus, "cancelled" | "failed">;
  reason: StatusReason<Extract<TaskExecutionStatusReasonType, "cancelled" | "timeout" | "scheduler_error">>;
}

export const cancelRequest = (description: string): StopRequest => ({
  status: "cancelled",
  reason: { reason: "cancelled", description },
});

export const timeoutRequest = (description: string): StopRequest => ({
  status: "failed",
  reason: { reason: "timeout", description },
});

/** A run that Gofer could not move on is failed, not cancelled: nobody asked for it. */
export const failRequest = (description: string): StopRequest => ({
  status: "failed",
  reason: { reason: "scheduler_error", description },
});

export const encodeStopRequest = (request: StopRequest): string => JSON.stringify(request);

export function decodeStopRequest(stored: string): StopRequest {
  try {
    const parsed = JSON.parse(stored) as Partial<StopRequest>;
    if (
      (parsed.status === "cancelled" || parsed.status === "failed") &&
      parsed.reason?.description !== undefined
    )
      return parsed as StopRequest;
  } catch {
    // Plain text below.
  }
  return cancelRequest(stored);
}
