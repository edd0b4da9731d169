/**
 * How long to wait before asking an unreachable container engine again: short at first (a restarting engine
 * answers within seconds), doubling up to a few seconds, and never past the configured limit, after which the
 * affected tasks fail with `scheduler_error` instead of hanging.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { type SchedulerError, SchedulerError as SchedulerErrorClass } from "../scheduler/scheduler.ts";

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

export class EngineRetry {
  readonly #deadline: number;
  #delay = FIRST_DELAY_MS;

  /** The retry budget starts now. */
  constructor(limitMs: number) {
    this.#deadline = Date.now() + limitMs;
  }

  /**
   * Waits before the next attempt. False when the budget is spent (the caller gives up) or `signal` aborted
   * (the caller stops quietly).
   */
  async wait(signal?: AbortSignal): Promise<boolean> {
    const left = this.#deadline - Date.now();
    if (left <= 0 || signal?.aborted) return false;
    const delay = Math.min(this.#delay, left);
    this.#delay = Math.min(this.#delay * 2, MAX_DELAY_MS);
    try {
      await sleep(delay, undefined, { signal });
    } catch {
      return false;
    }
    return !signal?.aborted;
  }
}

/** Whether the engine itself was out of reach or failing (worth retrying), as opposed to refusing what was asked. */
export const isUnavailable = (error: unknown): error is SchedulerError =>
  error instanceof SchedulerErrorClass && error.kind === "unavailable";

export const isGone = (error: unknown): error is SchedulerError =>
  error instanceof SchedulerErrorClass && error.kind === "not_found";
