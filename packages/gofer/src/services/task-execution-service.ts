/**
 * The task executions of a run: reading them, cancelling one, its log, and a terminal into its container.
 * Cancelling and attaching are the orchestrator's; this service checks that the task exists and may be
 * acted on first, so a caller gets a status instead of a failure from deeper down.
 */
import { redactTask } from "../domain/config-conversion.ts";
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import type { Initiator, TaskAttempt, TaskExecution } from "../domain/models.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { LogStore } from "../logs/log-store.ts";
import { attachableContainer, type Orchestrator } from "../orchestrator/orchestrator.ts";
import type { ExecSession } from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import type { RunKey } from "../storage/runs-store.ts";
import {
  getTaskExecution,
  listTaskAttempts,
  listTaskExecutions,
  publicTaskExecution,
  type StoredTaskExecution,
  updateTaskExecution,
} from "../storage/task-executions-store.ts";
import { requireRun, requireTaskExecution } from "./lookups.ts";

export interface TaskExecutionServiceOptions {
  db: GoferDb;
  orchestrator: Orchestrator;
  logs: LogStore;
  /** Grace period for a cancelled task when the caller gives none. */
  stopTimeoutMs: number;
  /** `api.task_attach`: whether a terminal may be attached to a running task. */
  taskAttach: boolean;
}

/** Task definitions can carry secret values inline; they are never shown back. */
const present = (execution: StoredTaskExecution): TaskExecution => {
  const wire = publicTaskExecution(execution);
  return { ...wire, task: redactTask(wire.task) };
};

export class TaskExecutionService {
  readonly #options: TaskExecutionServiceOptions;

  constructor(options: TaskExecutionServiceOptions) {
    this.#options = options;
  }

  async list({ namespace_id, pipeline_id, run_id }: RunKey): Promise<TaskExecution[]> {
    const { db } = this.#options;
    await requireRun(db, namespace_id, pipeline_id, run_id);
    return (await listTaskExecutions(db, namespace_id, pipeline_id, run_id)).map(present);
  }

  async get(key: TaskExecutionKey): Promise<TaskExecution> {
    return present(await requireTaskExecution(this.#options.db, key));
  }

  /**
   * SIGTERM, then SIGKILL after `waitForSeconds` (0 = at once; the server's stop timeout when undefined).
   * Dependents that have not started end `cancelled`.
   */
  async cancel(key: TaskExecutionKey, waitForSeconds: number | undefined, by: Initiator): Promise<void> {
    const { db, orchestrator, stopTimeoutMs } = this.#options;
    await requireTaskExecution(db, key);
    const waitForMs = waitForSeconds === undefined ? stopTimeoutMs : waitForSeconds * 1000;
    await orchestrator.cancelTask(taskKey(key), waitForMs, by);
  }

  /** Every attempt of the task, oldest first; the last is the current one (an extension of v0). */
  async attempts(key: TaskExecutionKey): Promise<TaskAttempt[]> {
    const { db } = this.#options;
    const execution = await requireTaskExecution(db, key);
    const current: TaskAttempt = {
      attempt: execution.attempt,
      started: execution.started,
      ended: execution.ended,
      exit_code: execution.exit_code,
      status: execution.status,
      status_reason: execution.status_reason,
    };
    return [...(await listTaskAttempts(db, taskKey(key))), current];
  }

  /**
   * Refuses a log that was deleted (410) or an attempt the task never had (404), before a reader is promised
   * one; answers which attempt's log will be read (the latest when none is named).
   */
  async requireLog(key: TaskExecutionKey, attempt?: number): Promise<number> {
    const execution = await requireTaskExecution(this.#options.db, key);
    if (attempt !== undefined && attempt > execution.attempt) {
      throw notFound(
        `Attempt ${attempt} of task "${execution.task_id}" (it has had ${execution.attempt} attempt(s))`,
      );
    }
    if (execution.logs_removed) {
      throw new GoferError("LOGS_REMOVED", `The logs of task "${execution.task_id}" were removed`);
    }
    return attempt ?? execution.attempt;
  }

  /**
   * An attempt's log as blocks of whole lines; following ends once that attempt is over (the task complete, or
   * a later attempt begun) and its log read.
   */
  readLog(
    key: TaskExecutionKey,
    attempt: number,
    follow: boolean,
    signal: AbortSignal,
  ): AsyncGenerator<Buffer, void, undefined> {
    const { logs } = this.#options;
    const logKey = { ...taskKey(key), attempt };
    if (!follow) return logs.read(logKey, { follow: false, signal });
    return logs.read(logKey, { follow: true, signal, isFinished: () => this.#isSettled(logKey, attempt) });
  }

  /** Only a complete task's log: a running one is still being written. */
  async deleteLog(key: TaskExecutionKey): Promise<void> {
    const { db, logs } = this.#options;
    const execution = await requireTaskExecution(db, key);
    if (execution.state !== "complete") {
      throw badRequest(
        `Task "${execution.task_id}" is still ${execution.state}; its log can be deleted once it completes`,
      );
    }
    await logs.remove(taskKey(execution));
    await updateTaskExecution(db, taskKey(key), { logs_removed: true });
  }

  /** Everything that can refuse a terminal, checked before a WebSocket upgrade so the refusal is a status. */
  async requireAttachable(key: TaskExecutionKey): Promise<void> {
    if (!this.#options.taskAttach) {
      throw new GoferError(
        "ATTACH_DISABLED",
        "Attaching to tasks is turned off on this server; an operator can allow it with api.task_attach = true",
      );
    }
    attachableContainer(await requireTaskExecution(this.#options.db, key));
  }

  /** The task may have ended since {@link requireAttachable}; the orchestrator then refuses. */
  attach(key: TaskExecutionKey, command: string[], tty: boolean): Promise<ExecSession> {
    return this.#options.orchestrator.attach(taskKey(key), command, tty);
  }

  /** An attempt is settled once its task is complete or has moved on; an unknown task is settled too. */
  async #isSettled(key: TaskExecutionKey, attempt: number): Promise<boolean> {
    const execution = await getTaskExecution(this.#options.db, key);
    return execution === undefined || execution.state === "complete" || execution.attempt > attempt;
  }
}

/** Just the key: request params and stored rows carry more, and keys are copied into events and labels. */
const taskKey = ({ namespace_id, pipeline_id, run_id, task_id }: TaskExecutionKey): TaskExecutionKey => ({
  namespace_id,
  pipeline_id,
  run_id,
  task_id,
});
