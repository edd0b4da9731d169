// Beside orchestrator/: it prunes through the stores (storage, logs, objects); only service/ starts it.
/**
 * Retention keeps the database and the log folder bounded under a steady workload: old runs lose their task
 * logs, then their records; config versions nothing needs, old events and old audit rows are deleted.
 *
 * A pipeline is pruned right after each of its runs completes (the committed `completed_run` event), and every
 * pipeline plus the event log at boot and on an interval, which catches what no completion triggers (runs that
 * finished before a restart, events aging out). Prunes run one at a time: two passes over one pipeline would
 * race to delete the same rows and files. Rows go first, in one transaction per pass; files after the commit,
 * so a crash in between leaves at worst a file nothing names, never a row naming a missing file.
 */
import { eventOf } from "@gofer/sdk/client";
import { GoferError } from "../domain/errors.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { ObjectStore } from "../objects/object-store.ts";
import { deleteAuditRecordsBefore } from "../storage/audit-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { deleteEventsEmittedBefore } from "../storage/events-store.ts";
import {
  closeRunObjects,
  type LogOwner,
  listPipelineKeys,
  listRunsPastRetention,
  type PipelineKey,
  prunePipelineRows,
} from "../storage/retention-store.ts";

export interface RetentionLimits {
  /** Newest runs of a pipeline whose task logs are kept. */
  taskLogs: number;
  /** Newest complete runs of a pipeline whose records are kept; 0 keeps every run. */
  runs: number;
  /** Newest config versions of a pipeline kept (beside the live one and those of kept runs). */
  configVersions: number;
  /** How long events, and the audit trail's rows, are kept; 0 keeps them all. */
  eventsMs: number;
}

export interface RetentionOptions {
  db: GoferDb;
  bus: EventBus;
  logs: LogStore;
  objects: ObjectStore;
  limits: RetentionLimits;
  /** Between full prunes; 0 prunes in full only at boot (completed runs still prune their pipeline). */
  intervalMs: number;
  /** After runs were deleted: what lives exactly as long as a run (its API token). */
  onRunsDeleted: () => Promise<unknown>;
  log: (message: string, error?: unknown) => void;
}

/** Runs (and events) one transaction handles: a large backlog never holds the database for long. */
const BATCH = 200;
const EVENT_BATCH = 1000;

export class Retention {
  readonly #options: RetentionOptions;
  /** The prune in flight and those queued behind it; never rejects. */
  #chain: Promise<void> = Promise.resolve();
  /** Work queued but not started, by what it prunes: asking again joins it instead of queueing a repeat. */
  readonly #queued = new Map<string, Promise<void>>();
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: RetentionOptions) {
    this.#options = options;
  }

  /** Subscribes to completed runs, queues the boot prune and starts the interval. */
  start(): void {
    this.#unsubscribe = this.#options.bus.subscribe((event) => {
      const { name, details } = eventOf(event);
      if (name === "completed_run") void this.prunePipeline(details);
    });
    void this.pruneAll();
    if (this.#options.intervalMs > 0) {
      this.#timer = setInterval(() => void this.pruneAll(), this.#options.intervalMs);
      this.#timer.unref();
    }
  }

  /** Prunes one pipeline's runs, logs and config versions; settles (never rejects) once done. */
  prunePipeline(pipeline: PipelineKey): Promise<void> {
    const name = `${pipeline.namespace_id}/${pipeline.pipeline_id}`;
    return this.#enqueue(`pipeline ${name}`, () => this.#prunePipeline(pipeline));
  }

  /** Prunes every pipeline, then the event log; settles (never rejects) once done. */
  pruneAll(): Promise<void> {
    return this.#enqueue("everything", async () => {
      for (const pipeline of await listPipelineKeys(this.#options.db)) {
        if (this.#closed) return;
        await this.#prunePipeline(pipeline).catch((error: unknown) =>
          this.#options.log(
            `retention: pruning ${pipeline.namespace_id}/${pipeline.pipeline_id} failed`,
            error,
          ),
        );
      }
      await this.#pruneEvents();
    });
  }

  /** Stops the interval and the subscription, drops queued work and waits for the prune in flight. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#unsubscribe?.();
    await this.#chain;
  }

  #enqueue(what: string, work: () => Promise<void>): Promise<void> {
    const queued = this.#queued.get(what);
    if (queued) return queued;
    const job = this.#chain.then(async () => {
      this.#queued.delete(what);
      if (this.#closed) return;
      try {
        await work();
      } catch (error) {
        this.#options.log(`retention: pruning ${what} failed`, error);
      }
    });
    this.#queued.set(what, job);
    this.#chain = job;
    return job;
  }

  async #prunePipeline(pipeline: PipelineKey): Promise<void> {
    const { db, limits, onRunsDeleted } = this.#options;
    const retention = { taskLogs: limits.taskLogs, configVersions: limits.configVersions, batch: BATCH };
    let deletedRuns = 0;
    for (;;) {
      const doomed = limits.runs > 0 ? await listRunsPastRetention(db, pipeline, limits.runs, BATCH) : [];
      await this.#removeRunObjects(
        pipeline,
        doomed.filter((run) => !run.store_objects_expired).map((run) => run.run_id),
      );
      const pruned = await prunePipelineRows(
        db,
        pipeline,
        doomed.map((run) => run.run_id),
        retention,
      );
      await this.#removeLogs(pipeline, pruned.logs);
      deletedRuns += pruned.deletedRuns.length;
      if (this.#closed || (doomed.length < BATCH && pruned.expiredLogRuns.length < BATCH)) break;
    }
    if (deletedRuns > 0) await onRunsDeleted();
  }

  /**
   * Deleting a run cascades its object rows but cannot reach their files, so objects that have not expired yet
   * (`run_retention` below `object_store.run_object_expiry`) are deleted through the object store first.
   */
  async #removeRunObjects(pipeline: PipelineKey, runIds: number[]): Promise<void> {
    const { db, objects } = this.#options;
    await closeRunObjects(db, pipeline, runIds);
    for (const runId of runIds) {
      const scope = { kind: "run" as const, ...pipeline, run_id: runId };
      for (const object of await objects.list(scope)) {
        await objects.delete(scope, object.key).catch((error: unknown) => {
          // Deleted meanwhile by its owner: what this wanted anyway.
          if (!(error instanceof GoferError && error.code === "NOT_FOUND")) throw error;
        });
      }
    }
  }

  async #removeLogs(pipeline: PipelineKey, owners: LogOwner[]): Promise<void> {
    const { logs, log } = this.#options;
    const runs = new Map<number, TaskExecutionKey>();
    for (const owner of owners) {
      const key: TaskExecutionKey = {
        namespace_id: pipeline.namespace_id,
        pipeline_id: pipeline.pipeline_id,
        run_id: owner.run_id,
        task_id: owner.task_id,
      };
      await logs.remove(key);
      runs.set(owner.run_id, key);
    }
    for (const key of runs.values()) {
      await logs
        .removeRunFolderIfEmpty(key)
        .catch((error: unknown) =>
          log(`retention: could not remove the log folder of run ${key.run_id}`, error),
        );
    }
  }

  async #pruneEvents(): Promise<void> {
    const { db, limits } = this.#options;
    if (limits.eventsMs === 0) return;
    const cutoff = Date.now() - limits.eventsMs;
    let deleted: number;
    do {
      deleted = await deleteEventsEmittedBefore(db, cutoff, EVENT_BATCH);
    } while (deleted === EVENT_BATCH && !this.#closed);
    // The audit trail is kept as long as the events: both say what happened, and when.
    do {
      deleted = await deleteAuditRecordsBefore(db, cutoff, EVENT_BATCH);
    } while (deleted === EVENT_BATCH && !this.#closed);
  }
}

export function startRetention(options: RetentionOptions): Retention {
  const retention = new Retention(options);
  retention.start();
  return retention;
}
