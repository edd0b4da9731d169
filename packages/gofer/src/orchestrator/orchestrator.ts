/**
 * The run lifecycle: accept a run, queue it under the parallelism limits, walk its DAG as tasks finish, and
 * close it with the status its tasks deserve.
 *
 * SQLite is the truth: every transition is committed before the side effect that depends on it (a container
 * start, an event), and the only in-memory state is what is in flight right now (container waits, cancel
 * requests), which storage plus the scheduler's labels can rebuild.
 */

import { runTimeoutMs, type TimeoutLimits } from "../domain/attempts.ts";
import { resolveConcurrencyGroup } from "../domain/concurrency-group.ts";
import { describeUnmetParents, finalRunStatus, judgeParents } from "../domain/dag-progress.ts";
import { GoferError, notFound } from "../domain/errors.ts";
import type { Initiator, Run, StatusReason, Task } from "../domain/models.ts";
import { describeRunTimeout, runDeadline, runTimedOut } from "../domain/run-deadline.ts";
import type { RunStatus, RunStatusReasonType, TaskExecutionStatus } from "../domain/states.ts";
import {
  cancelRequest,
  encodeStopRequest,
  failRequest,
  type StopRequest,
  timeoutRequest,
} from "../domain/stop-requests.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { ReferenceResolvers } from "../domain/variable-resolution.ts";
import { mergeVariables, variablesFromRecord } from "../domain/variables.ts";
import type { EventBus, PublishInTransaction } from "../events/event-bus.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { LineTransform } from "../logs/log-writer.ts";
import type { ExecSession, Scheduler } from "../scheduler/scheduler.ts";
import { getLiveConfig } from "../storage/configs-store.ts";
import type { GoferDb } from "../storage/database.ts";
import { getPipeline } from "../storage/pipelines-store.ts";
import {
  completeRun,
  countRunningRuns,
  countRunningRunsByGroup,
  getRun,
  insertRun,
  listCancellableRunsOfGroup,
  listCancelledQueuedRuns,
  listPendingGroupHeads,
  listPendingUngroupedRuns,
  listPipelinesWithPendingRuns,
  listUnfinishedRuns,
  markRunCancelRequested,
  markRunRunning,
  markRunSuperseded,
  nextRunId,
  pipelineParallelismBound,
  type QueuedRun,
  type RunKey,
  requeueRun,
  type StoredRun,
} from "../storage/runs-store.ts";
import { getSystemState } from "../storage/system-store.ts";
import {
  archiveAttempt,
  getTaskExecution,
  getTaskExecutions,
  hasUnfinishedTasks,
  insertTaskExecutions,
  listTaskExecutions,
  type StoredTaskExecution,
  updateTaskExecution,
} from "../storage/task-executions-store.ts";
import { SerialQueue } from "../support/serial-queue.ts";
import { type RecoveryReport, recoverTasks } from "./recovery.ts";
import { admitRuns, groupKey, type Limits, pipelineKey } from "./run-admission.ts";
import { TaskLauncher } from "./task-launcher.ts";

export interface OrchestratorOptions {
  db: GoferDb;
  scheduler: Scheduler;
  logs: LogStore;
  bus: EventBus;
  limits: Limits;
  /** Grace period before a cancelled task's container is killed. */
  stopTimeoutMs: number;
  /** The server's default and maximum task timeouts. */
  timeouts: TimeoutLimits;
  /** The API address tasks are told about (`GOFER_API_BASE_URL`); read late because the port may be chosen at listen time. */
  apiBaseUrl: () => string;
  /** Labels every container of this installation, to tell it from another server's on the same engine. */
  instanceId: string;
  /** How secret and object references in task variables are resolved when a task starts. */
  resolvers?: ReferenceResolvers;
  /** The `TRACEPARENT` a task attempt is given when tracing is on. */
  traceparent?: (run: RunKey, taskId: string, attempt: number) => string;
  /** Builds the log transform that masks a task's secrets. */
  maskSecrets?: (secrets: string[]) => LineTransform;
  /** The API token secret for a run's tasks that ask for one. */
  runToken?: (run: RunKey) => Promise<string>;
  /** How long an unreachable engine is retried before the affected tasks fail with `scheduler_error`. */
  retryLimitMs: number;
  /** `subject` names the run or task (`namespace/pipeline/run[/task]`) the line is about, when there is one. */
  log?: (message: string, error?: unknown, subject?: string) => void;
  info?: (message: string) => void;
}

const runKeyOf = (run: RunKey): RunKey => ({
  namespace_id: run.namespace_id,
  pipeline_id: run.pipeline_id,
  run_id: run.run_id,
});

const runKeyString = (key: RunKey): string => `${key.namespace_id}/${key.pipeline_id}/${key.run_id}`;

/** The description a superseded run ends with; the pipeline is named because groups span a namespace. */
const supersededBy = (run: RunKey): string => `Superseded by run ${run.run_id} of ${run.pipeline_id}`;

/** How often a failed decision about a run (or the queue) is retried before giving up on it. */
const ADVANCE_RETRIES = 4;

/** 250 ms, 500 ms, 1 s, 2 s: long enough for a busy database to free up, short enough for nobody to wait. */
const retryDelay = (failures: number): number => 250 * 2 ** (failures - 1);

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export class Orchestrator {
  readonly #options: OrchestratorOptions;
  readonly #launcher: TaskLauncher;
  /** Serialises all decisions about one run; "admission" serialises the queue. */
  readonly #serial = new SerialQueue();
  /** Timers that wake a run at its deadline or at the end of a task's retry delay. */
  readonly #wakeups = new Map<string, NodeJS.Timeout>();
  /** Consecutive failed decisions per run, for the bounded retry of {@link #advanceFailed}. */
  readonly #advanceFailures = new Map<string, number>();
  /** Each unfinished run's DAG, read once: the part of a run's rows that never changes (see {@link #advanceFrom}). */
  readonly #shapes = new Map<string, RunShape>();
  #admitFailures = 0;
  /** Whether admission has closed the queued runs a previous process left being cancelled (see {@link #admit}). */
  #cancelledQueueClosed = false;
  #closed = false;

  constructor(options: OrchestratorOptions) {
    this.#options = options;
    this.#launcher = new TaskLauncher({
      ...options,
      onTaskComplete: (task) => this.#advance(runKeyOf(task), task.task_id),
    });
  }

  /**
   * Accepts a run and returns at once; it starts when the parallelism limits and its concurrency group allow.
   * With `cancel_in_progress`, the older runs of its group are superseded in the same transaction (see
   * {@link #supersede}), and stopped after it commits without the caller waiting for their containers.
   */
  async startRun(
    namespaceId: string,
    pipelineId: string,
    variables: Record<string, string>,
    initiator: Initiator,
  ): Promise<Run> {
    const { bus } = this.#options;
    let superseded: RunKey[] = [];
    const run = await bus.transaction(async (tx, publish) => {
      await requireRunsAccepted(tx, namespaceId, pipelineId);
      const config = await getLiveConfig(tx, namespaceId, pipelineId);
      if (!config) {
        throw new GoferError(
          "CONFLICT",
          `Pipeline "${pipelineId}" has no live config version; deploy one (POST .../configs/{version}) first`,
        );
      }
      const group = config.concurrency ? resolveConcurrencyGroup(config.concurrency.group, variables) : null;
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
        ...(group !== null && { concurrency_group: group }),
      };
      const event = await publish("queued_run", {
        namespace_id: namespaceId,
        pipeline_id: pipelineId,
        run_id: run.run_id,
      });
      run.event_id = event.id;
      // The timeout is fixed when the run is accepted: deploying another version does not change it.
      await insertRun(tx, run, now, { timeout_ms: runTimeoutMs(config.timeout) });
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
        attempt: 1,
        retry_at: null,
      }));
      await insertTaskExecutions(tx, executions);
      if (group !== null && config.concurrency?.cancel_in_progress)
        superseded = await this.#supersede(tx, publish, run, group);
      return run;
    });
    for (const key of superseded) void this.#stopSuperseded(key, supersededBy(run));
    this.#admit();
    return run;
  }

  /**
   * Requests the cancellation of the unfinished runs of `group` older than `run`, in the transaction that
   * accepts `run`: each is marked `cancel_requested` with its final reason (`superseded`, naming `run`) already
   * in its `status_reason`, and its `started_run_cancellation` commits with it. A crash after the commit leaves
   * nothing undone that boot does not finish: recovery stops the started tasks of runs being cancelled, and
   * admission closes queued ones instead of starting them.
   */
  async #supersede(tx: GoferDb, publish: PublishInTransaction, run: Run, group: string): Promise<RunKey[]> {
    const reason = { reason: "superseded" as const, description: supersededBy(run) };
    const cancellation = { requested: Date.now(), stop_timeout_ms: this.#options.stopTimeoutMs };
    const keys: RunKey[] = [];
    for (const older of await listCancellableRunsOfGroup(tx, run.namespace_id, group)) {
      if (older.pipeline_id === run.pipeline_id && older.run_id === run.run_id) continue;
      if (!(await markRunSuperseded(tx, older, reason, cancellation))) continue;
      await publish("started_run_cancellation", runKeyOf(older));
      keys.push(runKeyOf(older));
    }
    return keys;
  }

  /** What {@link cancelRun} does once the cancellation is recorded: stop started tasks, close what is left. */
  async #stopSuperseded(key: RunKey, description: string): Promise<void> {
    if (this.#closed) return;
    const { db, stopTimeoutMs } = this.#options;
    try {
      await this.#serial.run(runKeyString(key), async () => {
        const executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
        for (const execution of executions) {
          if (execution.state === "running" || execution.state === "processing") {
            await this.#stopStarted(execution, stopTimeoutMs, cancelRequest(description));
          }
        }
      });
    } catch (error) {
      this.#log(`stopping the superseded run ${runKeyString(key)} failed`, error, runKeyString(key));
    }
    await this.#advance(key);
  }

  /** Cancels a run: queued runs end at once; running tasks get a graceful stop, waiting ones never start. */
  async cancelRun(key: RunKey, by: Initiator): Promise<void> {
    const { db, bus } = this.#options;
    const run = await getRun(db, key.namespace_id, key.pipeline_id, key.run_id);
    if (!run) throw notFound(`run ${key.run_id} of pipeline "${key.pipeline_id}"`);
    if (run.state === "complete") return;
    // A repeated cancel announces nothing again, but stops again what a failed first attempt may have missed.
    const cancellation = {
      requested: Date.now(),
      requested_by: { id: by.id, user: by.user },
      stop_timeout_ms: this.#options.stopTimeoutMs,
    };
    if (await markRunCancelRequested(db, key, cancellation))
      await bus.publish("started_run_cancellation", { ...key });
    await this.#serial.run(runKeyString(key), async () => {
      const executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
      for (const execution of executions) {
        if (execution.state === "running" || execution.state === "processing") {
          await this.#stopStarted(
            execution,
            this.#options.stopTimeoutMs,
            cancelRequest(`Cancelled by ${by.user}`),
          );
        }
      }
    });
    await this.#advance(key);
  }

  /**
   * Stops a task that has been handed to the launcher: a launch still in flight (pulling its image, say) is
   * abandoned at once; a running container gets its graceful stop. The launch moves a task to `running` before
   * it lets go of its cancel switch, so when there is no launch to cancel, a fresh read shows the container.
   */
  async #stopStarted(execution: StoredTaskExecution, timeoutMs: number, request: StopRequest): Promise<void> {
    if (this.#launcher.cancelLaunch(execution, timeoutMs, request)) {
      // Stored too: a restart before the abandoned launch records its end still ends the task as asked.
      await updateTaskExecution(this.#options.db, execution, { stop_requested: encodeStopRequest(request) });
      return;
    }
    const current = await getTaskExecution(this.#options.db, execution);
    if (current?.state === "running") await this.#launcher.requestStop(current, timeoutMs, request);
  }

  /**
   * Runs a finished run again, in place: the tasks that did not succeed (and those skipped or cancelled because of
   * them) start over as a new attempt each; successful tasks and their logs are kept. The run queues again under
   * the same limits as a new one, and ends with a new status.
   */
  async retryRun(key: RunKey): Promise<void> {
    const { bus } = this.#options;
    await this.#serial.run(runKeyString(key), () =>
      bus.transaction(async (tx, publish) => {
        await requireRunsAccepted(tx, key.namespace_id, key.pipeline_id);
        const run = await getRun(tx, key.namespace_id, key.pipeline_id, key.run_id);
        if (!run) throw notFound(`Run ${key.run_id} of pipeline "${key.pipeline_id}"`);
        if (!(await requeueRun(tx, key))) {
          throw new GoferError(
            "CONFLICT",
            run.state === "complete"
              ? `Run ${key.run_id} was successful; only a failed or cancelled run can be retried`
              : `Run ${key.run_id} is still ${run.state}; it can be retried once it has ended`,
          );
        }
        for (const execution of await listTaskExecutions(tx, key.namespace_id, key.pipeline_id, key.run_id)) {
          if (execution.status !== "successful") {
            await archiveAttempt(tx, execution, execution.ended, null);
            await publish("created_task_execution", {
              ...runKeyOf(key),
              task_execution_id: execution.task_id,
            });
          }
        }
        await publish("queued_run", runKeyOf(key));
      }),
    );
    this.#admit();
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
      if (execution.state === "running" || execution.state === "processing") {
        await this.#stopStarted(execution, waitForMs, cancelRequest(`Cancelled by ${by.user}`));
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
      resumeCancellation: (execution, request) =>
        this.#launcher.requestStop(execution, stopTimeoutMs, request),
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
    for (const timer of this.#wakeups.values()) clearTimeout(timer);
    this.#wakeups.clear();
    this.#shapes.clear();
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
        // A queued run being cancelled never starts, nor holds back its group. Its cancellation closes it; once,
        // at boot, so do we: a crash between a cancel's commit and that close leaves nobody else to.
        if (!this.#cancelledQueueClosed) {
          this.#cancelledQueueClosed = true;
          for (const run of await listCancelledQueuedRuns(db)) void this.#advance(run);
        }
        const byPipeline = await countRunningRuns(db);
        const global = [...byPipeline.values()].reduce((sum, count) => sum + count, 0);
        if (global >= limits.global) return;
        const pending = await this.#admissionCandidates(byPipeline, limits.global - global);
        if (pending.length === 0) return;
        const byGroup = new Map(
          (await countRunningRunsByGroup(db)).map((row) => [
            groupKey(row.namespace_id, row.concurrency_group),
            row.running,
          ]),
        );
        for (const run of admitRuns(pending, { global, byPipeline, byGroup }, limits)) {
          // One commit for the run's start and its tasks' announcements, however many tasks it has.
          const started = await bus.transaction(async (tx, publish) => {
            if (!(await markRunRunning(tx, run, Date.now()))) return false;
            await publish("started_run", runKeyOf(run));
            // v0 creates a run's task executions as it starts; here they exist from the run's acceptance (so a
            // queued run shows its tasks), and their creation is announced when they become the run's work.
            for (const execution of await listTaskExecutions(
              tx,
              run.namespace_id,
              run.pipeline_id,
              run.run_id,
            )) {
              await publish("created_task_execution", {
                ...runKeyOf(run),
                task_execution_id: execution.task_id,
              });
            }
            return true;
          });
          if (!started) continue;
          void this.#advance(run);
        }
      })
      .then(
        () => {
          this.#admitFailures = 0;
        },
        (error: unknown) => {
          this.#admitFailures++;
          this.#log(`run admission failed (${this.#admitFailures} time(s))`, error);
          // Queued runs wait for the next completion or start otherwise; retried so they do not wait for one.
          if (this.#admitFailures <= ADVANCE_RETRIES)
            setTimeout(() => this.#admit(), retryDelay(this.#admitFailures)).unref();
        },
      );
  }

  /**
   * The pending runs admission could start now: each concurrency group's oldest, and each pipeline's oldest runs
   * without a group, as many as it has room for. Admitting from these decides exactly what admitting from the whole
   * queue would (the others are skipped there: a group's later runs, a pipeline's runs past its limit), and reading
   * them costs the same whether 10 runs are queued or 10,000.
   */
  async #admissionCandidates(byPipeline: Map<string, number>, globalRoom: number): Promise<QueuedRun[]> {
    const { db, limits } = this.#options;
    const candidates = await listPendingGroupHeads(db);
    for (const { namespace_id, pipeline_id } of await listPipelinesWithPendingRuns(db)) {
      const bound = await pipelineParallelismBound(db, namespace_id, pipeline_id, limits.perPipelineDefault);
      const room = Math.min(
        globalRoom,
        bound - (byPipeline.get(pipelineKey(namespace_id, pipeline_id)) ?? 0),
      );
      if (room > 0) candidates.push(...(await listPendingUngroupedRuns(db, namespace_id, pipeline_id, room)));
    }
    return candidates.sort((a, b) => a.seq - b.seq);
  }

  /**
   * Decides what happens next in a run: start ready tasks, skip or cancel unreachable ones, or close the run.
   *
   * With `completed` (the task whose attempt just ended) only that task and its dependents are looked at: a
   * completion can unblock or doom nothing else, as every earlier decision started whatever was ready. So a task's
   * completion costs the same in a DAG of 10 tasks or 1,000. Everything else (a run starting, a cancellation, a
   * deadline, a retry delay ending, recovery, a retried decision) walks the whole run.
   */
  #advance(key: RunKey, completed?: string): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#serial
      .run(runKeyString(key), async () => {
        const run = await getRun(this.#options.db, key.namespace_id, key.pipeline_id, key.run_id);
        if (!run || run.state === "complete") return;
        if (run.state === "pending" && !run.cancel_requested) return;
        const now = Date.now();
        const shape = this.#shapes.get(runKeyString(run));
        if (completed !== undefined && shape && !run.cancel_requested && !runTimedOut(run, now))
          await this.#advanceFrom(run, completed, shape, now);
        else await this.#advanceAll(run, now);
      })
      .then(
        () => void this.#advanceFailures.delete(runKeyString(key)),
        (error: unknown) => this.#advanceFailed(runKeyOf(key), error),
      );
  }

  /** The whole-run decision: every waiting task is judged, until nothing changes. */
  async #advanceAll(run: StoredRun, now: number): Promise<void> {
    const { db } = this.#options;
    const key = runKeyOf(run);
    let executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
    this.#shapes.set(runKeyString(key), runShapeOf(executions));
    const timedOut = !run.cancel_requested && runTimedOut(run, now);
    if (timedOut) await this.#stopForTimeout(run, executions);
    else this.#wakeAt(`run ${runKeyString(key)}`, runDeadline(run), key);
    let launched = 0;
    // A skip or cancellation completes a task, which can decide its own dependents: settle until stable.
    for (let settled = false; !settled; ) {
      settled = true;
      const statuses = statusesOf(executions);
      for (const execution of executions) {
        if (execution.state !== "waiting") continue;
        const outcome = await this.#decide(run, execution, statuses, now, timedOut);
        if (outcome === "completed") settled = false;
        else if (outcome === "launched") launched++;
      }
      if (!settled) executions = await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id);
    }
    if (launched > 0) return;
    if (executions.every((execution) => execution.state === "complete"))
      await this.#closeRun(run, executions);
  }

  /**
   * The decision after one task's attempt ended: that task (it may be waiting for a retry) and its dependents are
   * judged; a dependent skipped or cancelled passes the judgement on to its own, round by round. Reads only the
   * rows those judgements need, and closes the run when an index probe finds nothing unfinished.
   */
  async #advanceFrom(run: StoredRun, completed: string, shape: RunShape, now: number): Promise<void> {
    const { db } = this.#options;
    const key = runKeyOf(run);
    this.#wakeAt(`run ${runKeyString(key)}`, runDeadline(run), key);
    let launched = 0;
    let candidates = [completed, ...(shape.dependents.get(completed) ?? [])];
    while (candidates.length > 0) {
      const parents = candidates.flatMap((task) => Object.keys(shape.dependsOn.get(task) ?? {}));
      const rows = await getTaskExecutions(db, key, [...new Set([...candidates, ...parents])]);
      const statuses = statusesOf(rows);
      const byTask = new Map(rows.map((row) => [row.task_id, row]));
      const decided: string[] = [];
      for (const task of candidates) {
        const execution = byTask.get(task);
        if (execution?.state !== "waiting") continue;
        const outcome = await this.#decide(run, execution, statuses, now, false);
        if (outcome === "completed") decided.push(task);
        else if (outcome === "launched") launched++;
      }
      candidates = [...new Set(decided.flatMap((task) => shape.dependents.get(task) ?? []))];
    }
    if (launched > 0 || (await hasUnfinishedTasks(db, key))) return;
    await this.#closeRun(run, await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id));
  }

  /**
   * Judges one waiting task: it fails when the run has timed out, is cancelled with the run, waits out a retry
   * delay, starts when its parents allow, or is skipped or cancelled when they never will. `completed` means the
   * task was completed here, so its own dependents are to be judged next.
   */
  async #decide(
    run: StoredRun,
    execution: StoredTaskExecution,
    statuses: Record<string, TaskExecutionStatus | undefined>,
    now: number,
    timedOut: boolean,
  ): Promise<"launched" | "completed" | "waiting"> {
    const complete = async (
      status: TaskExecutionStatus,
      reason: StatusReason<"timeout" | "cancelled" | "failed_precondition">,
    ) => {
      await this.#launcher.completeWithoutContainer(execution, status, reason, { moveOn: false });
      return "completed" as const;
    };
    if (timedOut) {
      return complete("failed", {
        reason: "timeout",
        description: `${describeRunTimeout(run)} before this task started`,
      });
    }
    if (run.cancel_requested) {
      return complete("cancelled", {
        reason: "cancelled",
        description: "The run was cancelled before this task started",
      });
    }
    // A task waiting out a retry delay starts when it has passed; the run is woken for it then.
    if (execution.retry_at !== null && execution.retry_at > now) {
      this.#wakeAt(`task ${runKeyString(run)}/${execution.task_id}`, execution.retry_at, run);
      return "launched";
    }
    const verdict = judgeParents(execution.task.depends_on, statuses);
    if (verdict === "wait") return "waiting";
    if (verdict === "start") {
      // Committed as `processing` under the lock; the launch itself (image pull, container start) runs outside
      // it, so a cancel never waits for a pull. Ready tasks start concurrently.
      const prepared = await this.#launcher.prepare(run, execution);
      execution.state = prepared.state;
      void this.#launcher.launch(prepared);
      return "launched";
    }
    if (verdict === "skip") {
      return complete("skipped", {
        reason: "failed_precondition",
        description: describeUnmetParents(execution.task.depends_on, statuses),
      });
    }
    return complete("cancelled", {
      reason: "cancelled",
      description: "A task this one depends on was cancelled",
    });
  }

  /** Stops what is still running of a run past its deadline; tasks not yet started fail in the settle loop. */
  async #stopForTimeout(run: StoredRun, executions: StoredTaskExecution[]): Promise<void> {
    const request = timeoutRequest(`${describeRunTimeout(run)}; the task was stopped`);
    for (const execution of executions) {
      if (execution.state === "running" || execution.state === "processing")
        await this.#stopStarted(execution, this.#options.stopTimeoutMs, request);
    }
  }

  /** Runs the run loop for `key` again at `at` (a deadline, the end of a retry delay); one timer per purpose. */
  #wakeAt(purpose: string, at: number | undefined, key: RunKey): void {
    if (at === undefined || this.#closed || this.#wakeups.has(purpose)) return;
    const timer = setTimeout(
      () => {
        this.#wakeups.delete(purpose);
        void this.#advance(key);
      },
      Math.max(0, at - Date.now()),
    );
    timer.unref();
    this.#wakeups.set(purpose, timer);
  }

  /**
   * A decision that failed (storage refusing a write, say) is retried with backoff; a run that still cannot
   * move on is failed with the reason, so it never stays `running` with nothing in flight until a restart.
   */
  #advanceFailed(key: RunKey, error: unknown): void {
    const id = runKeyString(key);
    const failures = (this.#advanceFailures.get(id) ?? 0) + 1;
    this.#advanceFailures.set(id, failures);
    this.#log(`advancing run ${id} failed (${failures} time(s))`, error, id);
    if (this.#closed) return;
    if (failures <= ADVANCE_RETRIES) {
      setTimeout(() => void this.#advance(key), retryDelay(failures)).unref();
      return;
    }
    this.#advanceFailures.delete(id);
    void this.#serial
      .run(id, () => this.#failRun(key, `Gofer could not move the run on: ${messageOf(error)}`))
      .catch((failure: unknown) => this.#log(`failing the stuck run ${id} failed too`, failure, id));
  }

  /** Ends a run that cannot move on: tasks not yet started fail, started ones are stopped, and the run closes. */
  async #failRun(key: RunKey, description: string): Promise<void> {
    const { db, stopTimeoutMs } = this.#options;
    const run = await getRun(db, key.namespace_id, key.pipeline_id, key.run_id);
    if (!run || run.state === "complete") return;
    const reason = { reason: "scheduler_error" as const, description };
    let started = 0;
    for (const execution of await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id)) {
      if (execution.state === "complete") continue;
      if (execution.state === "waiting") {
        await this.#launcher.completeWithoutContainer(execution, "failed", reason, { moveOn: false });
        continue;
      }
      started++;
      await this.#stopStarted(execution, stopTimeoutMs, failRequest(description));
    }
    // Started tasks close the run as they end; with none, it closes here with the reason.
    if (started === 0) await this.#finishRun(run, "failed", reason);
  }

  async #closeRun(run: StoredRun, executions: StoredTaskExecution[]): Promise<void> {
    const status = finalRunStatus(executions.map((execution) => execution.status));
    await this.#finishRun(run, status, runStatusReason(status, run, executions));
  }

  async #finishRun(
    run: StoredRun,
    status: RunStatus,
    reason: StatusReason<RunStatusReasonType> | null,
  ): Promise<void> {
    const { db, bus } = this.#options;
    await completeRun(db, run, status, reason, Date.now());
    // A finished run needs no wake-up at its deadline (runs may declare up to 168 h).
    this.#shapes.delete(runKeyString(run));
    const timer = this.#wakeups.get(`run ${runKeyString(run)}`);
    clearTimeout(timer);
    this.#wakeups.delete(`run ${runKeyString(run)}`);
    await bus.publish("completed_run", {
      namespace_id: run.namespace_id,
      pipeline_id: run.pipeline_id,
      run_id: run.run_id,
      status,
    });
    this.#admit();
  }

  #log(message: string, error?: unknown, subject?: string): void {
    this.#options.log?.(message, error, subject);
  }
}

/** Refuses new work for a pipeline while runs are paused, or the pipeline is missing or disabled. */
async function requireRunsAccepted(db: GoferDb, namespaceId: string, pipelineId: string): Promise<void> {
  if ((await getSystemState(db)).ignore_pipeline_run_events) {
    throw new GoferError("RUNS_PAUSED", "New runs are paused on this server; an admin can resume them");
  }
  const pipeline = await getPipeline(db, namespaceId, pipelineId);
  if (!pipeline) throw notFound(`pipeline "${pipelineId}" in namespace "${namespaceId}"`);
  if (pipeline.state !== "active") {
    throw new GoferError(
      "PIPELINE_INACTIVE",
      `Pipeline "${pipelineId}" is disabled; enable it (PATCH the pipeline with state "active") to start runs`,
    );
  }
}

/** Which tasks depend on which: fixed for the life of a run. */
interface RunShape {
  dependents: Map<string, string[]>;
  dependsOn: Map<string, Task["depends_on"]>;
}

function runShapeOf(executions: StoredTaskExecution[]): RunShape {
  const dependents = new Map<string, string[]>();
  for (const execution of executions) {
    for (const parent of Object.keys(execution.task.depends_on)) {
      const children = dependents.get(parent) ?? [];
      children.push(execution.task_id);
      dependents.set(parent, children);
    }
  }
  return {
    dependents,
    dependsOn: new Map(executions.map((execution) => [execution.task_id, execution.task.depends_on])),
  };
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
    // Stored when a newer run of its concurrency group superseded it (see Orchestrator.#supersede).
    if (run.status_reason?.reason === "superseded") return run.status_reason;
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
  const timedOut = failed.filter((execution) => execution.status_reason?.reason === "timeout");
  const names = failed.map((execution) => execution.task_id).join(", ");
  if (timedOut.length > 0 && runTimedOut(run, Date.now())) {
    return { reason: "timeout", description: describeRunTimeout(run) };
  }
  if (timedOut.length > 0) {
    const late = timedOut.map((execution) => execution.task_id).join(", ");
    return { reason: "timeout", description: `Tasks ran longer than their timeout: ${late}` };
  }
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
