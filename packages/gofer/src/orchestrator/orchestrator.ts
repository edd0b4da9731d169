/**
 * The run lifecycle: accept a run, queue it under the parallelism limits, walk its DAG as tasks finish, and
 * close it with the status its tasks deserve.
 *
 * SQLite is the truth: every transition is committed before the side effect that depends on it (a container
 * start, an event), and the only in-memory state is what is in flight right now (container waits, cancel
 * requests), which storage plus the scheduler's labels can rebuild.
 */
import { describeUnmetParents, finalRunStatus, judgeParents } from "../domain/dag-progress.ts";
import { GoferError, notFound } from "../domain/errors.ts";
import type { Initiator, Run, StatusReason } from "../domain/models.ts";
import type { RunStatusReasonType, TaskExecutionStatus } from "../domain/states.ts";
import { mergeVariables, variablesFromRecord } from "../domain/variables.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { LineTransform } from "../logs/log-writer.ts";
import type { ExecSession, Scheduler } from "../scheduler/scheduler.ts";
import { getLiveConfig } from "../storage/configs-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { getPipeline } from "../storage/pipelines-store.ts";
import {
  completeRun,
  countRunningRuns,
  getRun,
  insertRun,
  listPendingRuns,
  listUnfinishedRuns,
  markRunCancelRequested,
  markRunRunning,
  nextRunId,
  type RunKey,
  type StoredRun,
} from "../storage/runs-store.ts";
import { getSystemState } from "../storage/system-store.ts";
import {
  getTaskExecution,
  insertTaskExecutions,
  listTaskExecutions,
  type StoredTaskExecution,
  type TaskExecutionKey,
} from "../storage/task-executions-store.ts";
import { type RecoveryReport, recoverTasks } from "./recovery.ts";
import { admitRuns, type Limits } from "./run-admission.ts";
import { SerialQueue } from "./serial-queue.ts";
import { TaskLauncher } from "./task-launcher.ts";
import type { ReferenceResolvers } from "./variable-resolution.ts";

export interface OrchestratorOptions {
  db: GoferDb;
  scheduler: Scheduler;
  logs: LogStore;
  bus: EventBus;
  limits: Limits;
  /** Grace period before a cancelled task's container is killed. */
  stopTimeoutMs: number;
  /** The API address tasks are told about (`GOFER_API_BASE_URL`); read late because the port may be chosen at listen time. */
  apiBaseUrl: () => string;
  /** Labels every container of this installation, to tell it from another server's on the same engine. */
  instanceId: string;
  /** How secret and object references in task variables are resolved when a task starts. */
  resolvers?: ReferenceResolvers;
  /** Builds the log transform that masks a task's secrets. */
  maskSecrets?: (secrets: string[]) => LineTransform;
  /** The API token secret for a run's tasks that ask for one. */
  runToken?: (run: RunKey) => Promise<string>;
  /** How long an unreachable engine is retried before the affected tasks fail with `scheduler_error`. */
  retryLimitMs: number;
  log?: (message: string, error?: unknown) => void;
  info?: (message: string) => void;
}

const runKeyString = (key: RunKey): string => `${key.namespace_id}/${key.pipeline_id}/${key.run_id}`;

export class Orchestrator {
  readonly #options: OrchestratorOptions;
  readonly #launcher: TaskLauncher;
  /** Serialises all decisions about one run; "admission" serialises the queue. */
  readonly #serial = new SerialQueue();
  #closed = false;

  constructor(options: OrchestratorOptions) {
    this.#options = options;
    this.#launcher = new TaskLauncher({
      ...options,
      onTaskComplete: (key) => this.#advance(key),
    });
  }

  /** Accepts a run and returns at once; it starts when the parallelism limits allow. */
  async startRun(
    namespaceId: string,
    pipelineId: string,
    variables: Record<string, string>,
    initiator: Initiator,
  ): Promise<Run> {
    const { db, bus } = this.#options;
    const { run, event } = await db.transaction().execute(async (tx) => {
      if ((await getSystemState(tx)).ignore_pipeline_run_events) {
        throw new GoferError("RUNS_PAUSED", "New runs are paused on this server; an admin can resume them");
      }
      const pipeline = await getPipeline(tx, namespaceId, pipelineId);
      if (!pipeline) throw notFound(`pipeline "${pipelineId}" in namespace "${namespaceId}"`);
      if (pipeline.state !== "active") {
        throw new GoferError(
          "PIPELINE_INACTIVE",
          `Pipeline "${pipelineId}" is disabled; enable it (PATCH the pipeline with state "active") to start runs`,
        );
      }
      const config = await getLiveConfig(tx, namespaceId, pipelineId);
      if (!config) {
        throw new GoferError(
          "CONFLICT",
          `Pipeline "${pipelineId}" has no live config version; deploy one (POST .../configs/{version}) first`,
        );
      }
      const now = Date.now();
      const runVariables = variablesFromRecord(variables, "run_options");
      const run: Run = {
        namespace_id: namespaceId,
        pipeline_id: pipelineId,
        pipeline_config_version: config.version,
        run_id: await nextRunId(tx, namespaceId, pipelineId),
        started: 0,
        ended: 0,
        state: "pending",
        status: "unknown",
        status_reason: null,
        initiator,
        variables: runVariables,
        token_id: null,
        store_objects_expired: false,
        event_id: null,
      };
      const event = await bus.publish(
        "queued_run",
        { namespace_id: namespaceId, pipeline_id: pipelineId, run_id: run.run_id },
        tx,
      );
      run.event_id = event.id;
      await insertRun(tx, run, now);
      const executions: StoredTaskExecution[] = Object.values(config.tasks).map((task) => ({
        namespace_id: namespaceId,
        pipeline_id: pipelineId,
        run_id: run.run_id,
        task_id: task.id,
        task,
        created: now,
        started: 0,
        ended: 0,
        exit_code: null,
        logs_expired: false,
        logs_removed: false,
        state: "waiting",
        status: "unknown",
        status_reason: null,
        // Stored before interpolation: resolved secret values never reach the database.
        variables: mergeVariables(task.variables, runVariables),
        container_id: null,
        stop_requested: null,
      }));
      await insertTaskExecutions(tx, executions);
      return { run, event };
    });
    bus.deliver(event);
    this.#admit();
    return run;
  }

  /** Cancels a run: queued runs end at once; running tasks get a graceful stop, waiting ones never start. */
  async cancelRun(key: RunKey, by: Initiator): Promise<void> {
    const { db, bus } = this.#options;
    const run = await getRun(db, key.namespace_id, key.pipeline_id, key.run_id);
    if (!run) throw notFound(`run ${key.run_id} of pipeline "${key.pipeline_id}"`);
    if (run.state === "complete") return;
    if (!(await markRunCancelRequested(db, key))) return;
    await bus.publish("started_run_cancellation", { ...key });
    await this.#serial.run(runKeyString(key), async () => {
      const executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
      for (const execution of executions) {
        if (execution.state === "running") {
          await this.#launcher.requestStop(execution, this.#options.stopTimeoutMs, `Cancelled by ${by.user}`);
        }
      }
    });
    await this.#advance(key);
  }

  /** Cancels one task; its never-started dependents end cancelled too, and so does the run. */
  async cancelTask(key: TaskExecutionKey, waitForMs: number, by: Initiator): Promise<void> {
    const { db } = this.#options;
    const runKey = { namespace_id: key.namespace_id, pipeline_id: key.pipeline_id, run_id: key.run_id };
    await this.#serial.run(runKeyString(runKey), async () => {
      const executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
      const execution = executions.find((candidate) => candidate.task_id === key.task_id);
      if (!execution) throw notFound(`task "${key.task_id}" of run ${key.run_id}`);
      if (execution.state === "complete") return;
      if (execution.state === "running") {
        await this.#launcher.requestStop(execution, waitForMs, `Cancelled by ${by.user}`);
        return;
      }
      await this.#launcher.completeWithoutContainer(execution, "cancelled", {
        reason: "cancelled",
        description: `Cancelled by ${by.user} before it started`,
      });
    });
    await this.#advance(runKey);
  }

  /**
   * Runs a command in a running task's container, with a terminal or plain pipes, for a person debugging it. The task's own
   * process is not touched, and the task ends as it would have.
   */
  async attach(key: TaskExecutionKey, command: string[], tty: boolean): Promise<ExecSession> {
    const { db, scheduler } = this.#options;
    const execution = await getTaskExecution(db, key);
    if (!execution) throw notFound(`Task "${key.task_id}" of run ${key.run_id}`);
    const containerId = attachableContainer(execution);
    if (!scheduler.exec) {
      throw new GoferError("NOT_SUPPORTED", "This server's container backend cannot run commands in a task");
    }
    return scheduler.exec(containerId, { command, tty });
  }

  /**
   * Settles every task caught mid-flight by the previous process against the containers the engine holds (see
   * recovery.ts). Boot calls it once, before serving and before {@link resume}.
   */
  async recover(): Promise<RecoveryReport> {
    const { db, scheduler, instanceId, retryLimitMs, stopTimeoutMs } = this.#options;
    return recoverTasks({
      db,
      scheduler,
      launcher: this.#launcher,
      instanceId,
      retryLimitMs,
      resumeCancellation: (execution, description) =>
        this.#launcher.requestStop(execution, stopTimeoutMs, description),
      log: {
        info: (message) => this.#options.info?.(message),
        error: (message, error) => this.#log(message, error),
      },
    });
  }

  /** Re-reads storage and starts every run the limits now allow. Boot calls it once; completions call it after. */
  resume(): void {
    this.#admit();
    void this.#resumeRunning();
  }

  /**
   * Stops accepting work, waits for in-flight decisions, and detaches from running containers, which keep
   * running for the next boot to adopt (see recovery.ts).
   */
  async close(): Promise<void> {
    this.#closed = true;
    // Detaching first makes a start that is retrying an unreachable engine give up instead of holding the drain.
    const detached = this.#launcher.close();
    await this.#serial.drain();
    await detached;
    await this.#launcher.close();
  }

  async #resumeRunning(): Promise<void> {
    const runs = await listUnfinishedRuns(this.#options.db);
    for (const run of runs) if (run.state === "running") await this.#advance(run);
  }

  #admit(): void {
    if (this.#closed) return;
    void this.#serial
      .run("admission", async () => {
        const { db, bus, limits } = this.#options;
        const pending = await listPendingRuns(db);
        if (pending.length === 0) return;
        const byPipeline = await countRunningRuns(db);
        const global = [...byPipeline.values()].reduce((sum, count) => sum + count, 0);
        for (const run of admitRuns(pending, { global, byPipeline }, limits)) {
          if (!(await markRunRunning(db, run, Date.now()))) continue;
          await bus.publish("started_run", {
            namespace_id: run.namespace_id,
            pipeline_id: run.pipeline_id,
            run_id: run.run_id,
          });
          void this.#advance(run);
        }
      })
      .catch((error: unknown) => this.#log("run admission failed", error));
  }

  /** Decides what happens next in a run: start ready tasks, skip or cancel unreachable ones, or close the run. */
  #advance(key: RunKey): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#serial
      .run(runKeyString(key), async () => {
        const { db } = this.#options;
        const run = await getRun(db, key.namespace_id, key.pipeline_id, key.run_id);
        if (!run || run.state === "complete") return;
        if (run.state === "pending" && !run.cancel_requested) return;
        let executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
        // Completing one task can unblock (or doom) others, so settle until nothing changes.
        const launches: Promise<void>[] = [];
        const launched = new Set<string>();
        // A skip or cancellation completes a task, which can decide its own dependents: settle until stable.
        for (let settled = false; !settled; ) {
          settled = true;
          const statuses = statusesOf(executions);
          for (const execution of executions) {
            if (execution.state !== "waiting" || launched.has(execution.task_id)) continue;
            if (run.cancel_requested) {
              await this.#launcher.completeWithoutContainer(execution, "cancelled", {
                reason: "cancelled",
                description: "The run was cancelled before this task started",
              });
              settled = false;
              continue;
            }
            const verdict = judgeParents(execution.task.depends_on, statuses);
            if (verdict === "wait") continue;
            if (verdict === "start") {
              // Ready tasks start concurrently; the set keeps a later pass from launching them twice.
              launched.add(execution.task_id);
              launches.push(this.#launcher.launch(run, execution));
              continue;
            }
            settled = false;
            if (verdict === "skip") {
              await this.#launcher.completeWithoutContainer(execution, "skipped", {
                reason: "failed_precondition",
                description: describeUnmetParents(execution.task.depends_on, statuses),
              });
            } else {
              await this.#launcher.completeWithoutContainer(execution, "cancelled", {
                reason: "cancelled",
                description: "A task this one depends on was cancelled",
              });
            }
          }
          if (!settled)
            executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
        }
        await Promise.all(launches);
        if (launches.length > 0) return;
        if (executions.every((execution) => execution.state === "complete"))
          await this.#closeRun(run, executions);
      })
      .catch((error: unknown) => this.#log(`advancing run ${runKeyString(key)} failed`, error));
  }

  async #closeRun(run: StoredRun, executions: StoredTaskExecution[]): Promise<void> {
    const { db, bus } = this.#options;
    const status = finalRunStatus(executions.map((execution) => execution.status));
    const reason = runStatusReason(status, run, executions);
    await completeRun(db, run, status, reason, Date.now());
    await bus.publish("completed_run", {
      namespace_id: run.namespace_id,
      pipeline_id: run.pipeline_id,
      run_id: run.run_id,
      status,
    });
    this.#admit();
  }

  #log(message: string, error?: unknown): void {
    this.#options.log?.(message, error);
  }
}

function statusesOf(executions: StoredTaskExecution[]): Record<string, TaskExecutionStatus | undefined> {
  return Object.fromEntries(
    executions.map((execution) => [
      execution.task_id,
      execution.state === "complete" ? execution.status : undefined,
    ]),
  );
}

function runStatusReason(
  status: string,
  run: StoredRun,
  executions: StoredTaskExecution[],
): StatusReason<RunStatusReasonType> | null {
  if (status === "cancelled") {
    return {
      reason: "user_cancelled",
      description: "The run was cancelled before all of its tasks finished",
    };
  }
  if (status !== "failed") return null;
  const failed = executions.filter(
    (execution) => execution.status === "failed" || execution.status === "unknown",
  );
  const schedulerError = failed.some((execution) => execution.status_reason?.reason === "scheduler_error");
  const precondition = failed.some((execution) => execution.status_reason?.reason === "failed_precondition");
  const names = failed.map((execution) => execution.task_id).join(", ");
  if (schedulerError) {
    return { reason: "scheduler_error", description: `Tasks could not be scheduled: ${names}` };
  }
  if (precondition) {
    return { reason: "failed_precondition", description: `Tasks failed before starting: ${names}` };
  }
  return {
    reason: "abnormal_exit",
    description: `One or more task executions failed during execution: ${names} (run ${run.run_id})`,
  };
}

/** The container a terminal may be attached to: only a running task's; anything else is a 409 saying why. */
export function attachableContainer(execution: StoredTaskExecution): string {
  if (execution.state !== "running" || !execution.container_id) {
    throw new GoferError(
      "CONFLICT",
      `Task "${execution.task_id}" is ${execution.state}; only a running task can be attached to`,
    );
  }
  return execution.container_id;
}
