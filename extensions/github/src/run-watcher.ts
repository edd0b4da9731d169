/**
 * Learns when runs end, for the check runs that report them. While any run is watched, one event stream
 * (`GET /api/events`, readable with the extension's token) tells of each `completed_run` as it happens; every
 * watched run is also looked up (`GET …/runs/{id}`) at a bounded interval, which covers a run that ended before
 * the stream was connected and any time the stream is down. Nothing is opened while nothing is watched.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { eventOf, GoferApiError, type GoferClient, type GoferEvent, type RunStatus } from "@gofer/sdk/client";
import type { ExtensionLogger } from "@gofer/sdk/extension";

export interface RunKey {
  namespaceId: string;
  pipelineId: string;
  runId: number;
}

/**
 * How watching a run ended:
 * - `complete`: the run is complete; `started`/`ended` (epoch ms) when Gofer could be asked for them.
 * - `gone`: the run no longer exists (deleted, or its pipeline was).
 * - `stopped`: the watch was cancelled, or the extension is shutting down.
 */
export type RunOutcome =
  | { kind: "complete"; status: RunStatus; started?: number; ended?: number }
  | { kind: "gone" }
  | { kind: "stopped" };

export interface Watch {
  outcome: Promise<RunOutcome>;
  /** Stops watching; `outcome` becomes `stopped` unless it was already settled. */
  cancel(): void;
}

export interface RunWatcherOptions {
  client: Pick<GoferClient, "runs" | "events">;
  log: ExtensionLogger;
  /** Aborted when the extension stops: the stream is closed and every watch ends `stopped`. */
  signal: AbortSignal;
  /** How often watched runs are looked up. Default 30 s (v0 polled every minute, without a stream). */
  pollIntervalMs?: number;
  /** The pause before reconnecting a failed stream, doubling from `min` up to `max`. Default 1 s to 30 s. */
  reconnectDelayMs?: { min: number; max: number };
}

export const DEFAULT_POLL_INTERVAL_MS = 30_000;
const DEFAULT_RECONNECT_DELAY_MS = { min: 1_000, max: 30_000 };

const keyOf = (key: RunKey) => `${key.namespaceId}/${key.pipelineId}/${key.runId}`;
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

interface Waiting {
  key: RunKey;
  waiters: Set<(outcome: RunOutcome) => void>;
}

export class RunWatcher {
  readonly #client: RunWatcherOptions["client"];
  readonly #log: ExtensionLogger;
  readonly #signal: AbortSignal;
  readonly #pollIntervalMs: number;
  readonly #reconnect: { min: number; max: number };
  readonly #waiting = new Map<string, Waiting>();
  #following = false;
  /** Aborted when the last watch ends, closing the stream until a new one begins. */
  #idle: AbortController | undefined;
  #pollTimer: NodeJS.Timeout | undefined;
  #polling = false;
  #streamDown = false;

  constructor(options: RunWatcherOptions) {
    this.#client = options.client;
    this.#log = options.log;
    this.#signal = options.signal;
    this.#pollIntervalMs = options.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
    this.#reconnect = options.reconnectDelayMs ?? DEFAULT_RECONNECT_DELAY_MS;
    this.#signal.addEventListener("abort", () => this.#stop(), { once: true });
  }

  /** How many runs are being watched. */
  get size(): number {
    return this.#waiting.size;
  }

  watch(key: RunKey): Watch {
    if (this.#signal.aborted) return { outcome: Promise.resolve({ kind: "stopped" }), cancel: () => {} };
    const id = keyOf(key);
    let entry = this.#waiting.get(id);
    if (!entry) {
      entry = { key, waiters: new Set() };
      this.#waiting.set(id, entry);
    }
    const waiting = entry;
    let resolve: (outcome: RunOutcome) => void = () => {};
    const outcome = new Promise<RunOutcome>((settle) => {
      resolve = settle;
    });
    waiting.waiters.add(resolve);
    this.#start();
    return {
      outcome,
      cancel: () => {
        waiting.waiters.delete(resolve);
        if (waiting.waiters.size === 0 && this.#waiting.get(id) === waiting) this.#waiting.delete(id);
        resolve({ kind: "stopped" });
        this.#idleIfEmpty();
      },
    };
  }

  /** Looks the run up now rather than at the next poll, e.g. when it may have ended before the stream was up. */
  async check(key: RunKey): Promise<void> {
    if (this.#waiting.has(keyOf(key))) await this.#lookUp(key);
  }

  #start(): void {
    if (this.#waiting.size === 0 || this.#signal.aborted) return;
    if (this.#pollTimer === undefined) {
      this.#pollTimer = setInterval(() => void this.#poll(), this.#pollIntervalMs);
      this.#pollTimer.unref();
    }
    if (!this.#following) {
      this.#following = true;
      void this.#follow();
    }
  }

  #idleIfEmpty(): void {
    if (this.#waiting.size > 0) return;
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#idle?.abort();
  }

  #stop(): void {
    clearInterval(this.#pollTimer);
    this.#pollTimer = undefined;
    const entries = [...this.#waiting.values()];
    this.#waiting.clear();
    for (const entry of entries) for (const resolve of entry.waiters) resolve({ kind: "stopped" });
  }

  #settle(key: RunKey, outcome: RunOutcome): void {
    const id = keyOf(key);
    const entry = this.#waiting.get(id);
    if (!entry) return;
    this.#waiting.delete(id);
    for (const resolve of entry.waiters) resolve(outcome);
    this.#idleIfEmpty();
  }

  /**
   * Asks Gofer for the run and settles it when complete. `reported` is the status a completed_run event gave:
   * the run is known to be complete, and the lookup only adds its times.
   */
  async #lookUp(key: RunKey, reported?: RunStatus): Promise<void> {
    try {
      const run = await this.#client.runs.get(key.namespaceId, key.pipelineId, key.runId);
      if (run.state === "complete") {
        this.#settle(key, { kind: "complete", status: run.status, started: run.started, ended: run.ended });
      } else if (reported !== undefined) {
        this.#settle(key, { kind: "complete", status: reported });
      }
    } catch (error) {
      if (error instanceof GoferApiError && error.status === 404) {
        this.#settle(key, { kind: "gone" });
      } else if (reported !== undefined) {
        this.#settle(key, { kind: "complete", status: reported });
      } else {
        this.#log.debug("could not look a watched run up; trying again at the next poll", {
          run: keyOf(key),
          error: errorText(error),
        });
      }
    }
  }

  async #poll(): Promise<void> {
    if (this.#polling) return;
    this.#polling = true;
    try {
      for (const { key } of [...this.#waiting.values()]) {
        if (this.#signal.aborted) break;
        await this.#lookUp(key);
      }
    } finally {
      this.#polling = false;
    }
  }

  #onEvent(event: GoferEvent): void {
    const { name, details } = eventOf(event);
    if (name !== "completed_run") return;
    const key = { namespaceId: details.namespace_id, pipelineId: details.pipeline_id, runId: details.run_id };
    if (!this.#waiting.has(keyOf(key))) return;
    // A newer server may report a status this extension does not know; the run is then looked up as is.
    const reported = isRunStatus(details.status) ? details.status : "unknown";
    void this.#lookUp(key, reported);
  }

  async #follow(): Promise<void> {
    let pause = this.#reconnect.min;
    try {
      while (this.#waiting.size > 0 && !this.#signal.aborted) {
        const idle = new AbortController();
        this.#idle = idle;
        const signal = AbortSignal.any([this.#signal, idle.signal]);
        try {
          for await (const event of this.#client.events.stream({ signal })) {
            if (this.#streamDown) {
              this.#streamDown = false;
              this.#log.info("the event stream is back");
            }
            pause = this.#reconnect.min;
            this.#onEvent(event);
          }
        } catch (error) {
          if (!signal.aborted) {
            const fields = { error: errorText(error), poll_interval_ms: this.#pollIntervalMs };
            if (this.#streamDown) this.#log.debug("the event stream is still down", fields);
            else this.#log.warn("the event stream failed; watched runs are polled until it is back", fields);
            this.#streamDown = true;
          }
        }
        if (idle.signal.aborted) continue;
        try {
          await sleep(pause, undefined, { signal: this.#signal });
        } catch {
          break;
        }
        pause = Math.min(pause * 2, this.#reconnect.max);
      }
    } finally {
      this.#following = false;
      this.#idle = undefined;
    }
  }
}

const RUN_STATUSES: readonly string[] = [
  "unknown",
  "failed",
  "successful",
  "cancelled",
] satisfies RunStatus[];

function isRunStatus(value: unknown): value is RunStatus {
  return typeof value === "string" && RUN_STATUSES.includes(value);
}
