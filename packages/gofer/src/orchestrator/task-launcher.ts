/**
 * Runs one task execution on the scheduler: builds its environment, starts its container, stores every log
 * line, observes its exit and records the result. The result is committed before the container is removed,
 * so a crash between the two leaves a container that recovery can still read, never a lost exit code.
 *
 * Observation survives interruptions: when the engine is out of reach it is retried (up to `retryLimitMs`)
 * and log capture resumes exactly after the last stored piece; at shutdown it detaches and leaves the
 * container running for the next boot to adopt.
 */

import { setTimeout as delay } from "node:timers/promises";
import { formatDuration } from "@gofer/sdk";
import { nextAttemptAt, retryCauseOf, type TimeoutLimits, taskTimeoutMs } from "../domain/attempts.ts";
import type { StatusReason, Variable } from "../domain/models.ts";
import { runTimedOut } from "../domain/run-deadline.ts";
import type { TaskExecutionStatus, TaskExecutionStatusReasonType } from "../domain/states.ts";
import {
  decodeStopRequest,
  encodeStopRequest,
  type StopRequest,
  timeoutRequest,
} from "../domain/stop-requests.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import { resourceAmounts } from "../domain/task-resources.ts";
import {
  ReferenceRefusedError,
  type ReferenceResolvers,
  type ResolvedEnvironment,
  resolveVariables,
  UnresolvedReferenceError,
} from "../domain/variable-resolution.ts";
import { mergeVariables } from "../domain/variables.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { LogKey, LogStore } from "../logs/log-store.ts";
import type { LineTransform } from "../logs/log-writer.ts";
import { taskContainerName, taskLabels } from "../scheduler/container-labels.ts";
import {
  type ExitResult,
  type LiveOutput,
  type Scheduler,
  SchedulerError,
  type StartedContainer,
} from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import { getRun, type RunKey } from "../storage/runs-store.ts";
import {
  archiveAttempt,
  getTaskExecution,
  type StoredTaskExecution,
  updateTaskExecution,
} from "../storage/task-executions-store.ts";
import { EngineRetry, isGone, isUnavailable } from "./engine-retry.ts";
import { capturePass, LogCaptureError, noteIncompleteLog } from "./log-capture.ts";

export interface TaskLauncherOptions {
  db: GoferDb;
  scheduler: Scheduler;
  logs: LogStore;
  bus: EventBus;
  apiBaseUrl: () => string;
  instanceId: string;
  /** Called with the task whose attempt ended (complete, or waiting to be retried). */
  onTaskComplete: (task: TaskExecutionKey) => Promise<void>;
  /** How secret and object references in variables are resolved at task start. */
  resolvers?: ReferenceResolvers;
  /** The `TRACEPARENT` a task attempt is given when tracing is on. */
  traceparent?: (run: RunKey, taskId: string, attempt: number) => string;
  /** Builds the line transform that masks a task's resolved secrets in its log (identity when none). */
  maskSecrets?: (secrets: string[]) => LineTransform;
  /** The API token secret for a run's tasks that ask for one (`inject_api_token`). */
  runToken?: (run: RunKey) => Promise<string>;
  /** How long an unreachable engine is retried before the affected task fails with `scheduler_error`. */
  retryLimitMs: number;
  /** The grace a task that ran past its timeout gets before it is killed, as a cancelled one does. */
  stopTimeoutMs: number;
  /** The server's default and maximum task timeouts. */
  timeouts: TimeoutLimits;
  /** `subject` names the run or task (`namespace/pipeline/run[/task]`) the line is about, when there is one. */
  log?: (message: string, error?: unknown, subject?: string) => void;
  info?: (message: string) => void;
}

type Reason = StatusReason<TaskExecutionStatusReasonType>;

/** How often storing a task's end is tried (250 ms, doubling, between tries) before it is left for the next boot. */
const COMPLETE_ATTEMPTS = 5;

/** How often capture resumes after its log failed for reasons of its own before the log is given up. */
const LOG_RESUMES = 3;

/** How observing a container ended. */
type Observation =
  | { kind: "exited"; exit: ExitResult; interrupted: boolean }
  | { kind: "lost"; reason: Reason }
  | { kind: "detached" };

/** The execution's key with its attempt, which names the attempt's log. */
const executionKey = (execution: LogKey): LogKey => ({
  namespace_id: execution.namespace_id,
  pipeline_id: execution.pipeline_id,
  run_id: execution.run_id,
  task_id: execution.task_id,
  attempt: execution.attempt ?? 1,
});

const keyString = (key: TaskExecutionKey): string =>
  `${key.namespace_id}/${key.pipeline_id}/${key.run_id}/${key.task_id}`;

/** The variables Gofer itself provides to every task; task and run variables may override them. */
export function systemVariables(
  run: RunKey,
  execution: StoredTaskExecution,
  apiBaseUrl: string,
  traceparent?: string,
): Variable[] {
  const values: Record<string, string> = {
    // W3C trace context: the task's own span in its run's trace, for a task that traces to join it.
    ...(traceparent !== undefined && { TRACEPARENT: traceparent }),
    GOFER_NAMESPACE_ID: run.namespace_id,
    GOFER_PIPELINE_ID: run.pipeline_id,
    GOFER_RUN_ID: String(run.run_id),
    GOFER_TASK_ID: execution.task_id,
    GOFER_TASK_ATTEMPT: String(execution.attempt),
    GOFER_TASK_IMAGE: execution.task.image,
    GOFER_API_BASE_URL: apiBaseUrl,
  };
  return Object.entries(values).map(([key, value]) => ({ key, value, source: "system" }));
}

export class TaskLauncher {
  readonly #options: TaskLauncherOptions;
  /** Containers asked to stop, with how their task ends once they have. */
  readonly #stopRequests = new Map<string, StopRequest>();
  /** Per running task with a timeout, the timer that stops it. */
  readonly #deadlines = new Map<string, NodeJS.Timeout>();
  readonly #watches = new Set<Promise<void>>();
  /** Per running task, the transform that masks the secrets it received. */
  readonly #masks = new Map<string, LineTransform>();
  /** Launches between their `processing` commit and their container running, each with its cancel switch. */
  readonly #launching = new Map<string, AbortController>();
  /** Aborted at shutdown: starts give up, observers detach and leave their containers running. */
  readonly #detaching = new AbortController();

  constructor(options: TaskLauncherOptions) {
    this.#options = options;
  }

  /**
   * Commits the task as `processing` with the variables it will get: the caller holds the run's lock, so a
   * second decision about the run sees it taken. The slow part, {@link launch}, runs after the lock is released.
   */
  async prepare(run: RunKey, execution: StoredTaskExecution): Promise<StoredTaskExecution> {
    // A later attempt's stored variables hold the system ones of the attempt before; they are set afresh.
    // Nothing meant for an earlier attempt (a stop request, a timeout) may reach this one.
    this.#stopRequests.delete(keyString(execution));
    this.#disarm(execution);
    const declared = execution.variables.filter((variable) => variable.source !== "system");
    const traceparent = this.#options.traceparent?.(run, execution.task_id, execution.attempt);
    const variables = mergeVariables(
      systemVariables(run, execution, this.#options.apiBaseUrl(), traceparent),
      declared,
    );
    await updateTaskExecution(this.#options.db, executionKey(execution), {
      state: "processing",
      variables,
      retry_at: null,
    });
    return { ...execution, state: "processing", variables, retry_at: null };
  }

  /**
   * Resolves a prepared task's environment and starts its container; settles once it is running or the task
   * has ended (failed to start, or cancelled through {@link cancelLaunch} meanwhile). Never rejects: a launch
   * that fails in an unforeseen way ends its task with `scheduler_error` rather than leaving it `processing`.
   */
  launch(execution: StoredTaskExecution): Promise<void> {
    const id = keyString(execution);
    const cancel = new AbortController();
    this.#launching.set(id, cancel);
    const launched = this.#launch(execution, cancel.signal)
      .catch(async (error: unknown) => {
        this.#options.log?.(`starting task ${id} failed`, error, id);
        await this.#completeReliably(
          executionKey(execution),
          "failed",
          { reason: "scheduler_error", description: `Could not start the task: ${messageOf(error)}` },
          null,
        );
      })
      .catch((error: unknown) =>
        this.#options.log?.(`recording the failed start of task ${id} failed`, error, id),
      )
      .finally(() => {
        if (this.#launching.get(id) === cancel) this.#launching.delete(id);
      });
    this.#track(launched);
    return launched;
  }

  /**
   * Abandons a launch in flight: the task ends as `request` says (cancelled, or failed by the run's timeout)
   * at once, a pull in progress is dropped, and a container that still appears is removed without running.
   * False when no launch of this task is in flight (it is running, or was never launched by this process).
   */
  cancelLaunch(execution: TaskExecutionKey, timeoutMs: number, request: StopRequest): boolean {
    const launch = this.#launching.get(keyString(execution));
    if (!launch) return false;
    launch.abort(new LaunchCancelled(request, timeoutMs));
    return true;
  }

  async #launch(execution: StoredTaskExecution, cancelled: AbortSignal): Promise<void> {
    const { bus } = this.#options;
    const key = executionKey(execution);
    const id = keyString(key);
    const endCancelled = () => {
      const { request } = cancelled.reason as LaunchCancelled;
      return this.completeWithoutContainer(execution, request.status, request.reason);
    };

    let environment: ResolvedEnvironment;
    try {
      environment = await this.#environmentFor(key, execution, execution.variables);
    } catch (error) {
      if (cancelled.aborted) return endCancelled();
      // Whatever goes wrong before the container exists must end the task: a task left in `processing` would
      // hold its run (and a parallelism slot) forever.
      const precondition =
        error instanceof UnresolvedReferenceError || error instanceof ReferenceRefusedError;
      if (!precondition) this.#options.log?.(`preparing task ${id} failed`, error, id);
      await this.completeWithoutContainer(execution, "failed", {
        reason: precondition ? "failed_precondition" : "scheduler_error",
        description: precondition
          ? `Could not start the task: ${messageOf(error)}`
          : "Could not start the task: its variables could not be prepared (see the server log)",
      });
      return;
    }
    if (cancelled.aborted) return endCancelled();

    const starting = this.#start(execution, environment.env, cancelled);
    // A cancel ends the task now, without waiting for a pull that may take minutes; whatever the start still
    // produces is removed when it settles.
    const outcome = await Promise.race([
      starting.then(
        (container) => ({ kind: "started" as const, container }),
        (error: unknown) => ({ kind: "failed" as const, error }),
      ),
      abortion(cancelled).then(() => ({ kind: "cancelled" as const })),
    ]);
    if (outcome.kind === "cancelled" || (outcome.kind === "failed" && cancelled.aborted)) {
      void starting.then(
        (container) => container && this.#discard(container),
        () => undefined,
      );
      return endCancelled();
    }
    if (outcome.kind === "failed") {
      // Shutting down abandons the start too; the task stays `processing` for the next boot to start.
      if (this.#detaching.signal.aborted) return;
      const error = outcome.error;
      const description =
        error instanceof SchedulerError ? error.message : `Could not start the task: ${String(error)}`;
      await this.completeWithoutContainer(execution, "failed", { reason: "scheduler_error", description });
      return;
    }
    const started = outcome.container;
    if (started === undefined) return; // shutting down: the next boot finds the task and starts it
    if (cancelled.aborted) {
      await this.#discard(started);
      return endCancelled();
    }
    if (environment.secrets.length > 0 && this.#options.maskSecrets)
      this.#masks.set(id, this.#options.maskSecrets(environment.secrets));

    const startedAt = Date.now();
    try {
      // The state and its event in one commit: a crash keeps both or neither.
      await bus.transaction(async (tx, publish) => {
        await updateTaskExecution(tx, key, {
          state: "running",
          started: startedAt,
          container_id: started.id,
        });
        await publish("started_task_execution", {
          namespace_id: key.namespace_id,
          pipeline_id: key.pipeline_id,
          run_id: key.run_id,
          task_execution_id: key.task_id,
        });
      });
    } catch (error) {
      // Not recorded as running, the container would run unwatched while its task is failed: it goes now.
      await this.#discard(started);
      throw error;
    }
    // From here a cancel finds the task running and stops it as any running task; one that came during the
    // update above is honoured below.
    this.#launching.delete(id);
    this.#arm(execution, started.id, startedAt);
    this.#track(this.#watch(key, started.id, false, started.output));
    if (cancelled.aborted) {
      const { request, timeoutMs } = cancelled.reason as LaunchCancelled;
      await this.requestStop(
        { ...execution, state: "running", container_id: started.id },
        timeoutMs,
        request,
      );
    }
  }

  /** Removes a container whose task was cancelled while it was being started. */
  async #discard(container: StartedContainer): Promise<void> {
    container.output?.close();
    await this.#options.scheduler
      .remove(container.id)
      .catch((error: unknown) =>
        this.#options.log?.(`removing the container of a cancelled start ${container.id} failed`, error),
      );
  }

  /**
   * Takes over a container this task already has (found at boot): captures the rest of its output after what
   * the log holds, then records its exit. Never starts anything.
   */
  async adopt(execution: StoredTaskExecution, containerId: string): Promise<void> {
    const key = executionKey(execution);
    const startedAt = execution.started || Date.now();
    if (execution.state !== "running" || execution.container_id !== containerId) {
      await updateTaskExecution(this.#options.db, key, {
        state: "running",
        started: startedAt,
        container_id: containerId,
      });
    }
    await this.#restoreMask(key, execution);
    // A stop asked for before the restart is resumed by recovery; otherwise the timeout runs on from the start.
    if (execution.stop_requested === null) this.#arm(execution, containerId, startedAt);
    this.#track(this.#watch(key, containerId, true));
  }

  /**
   * Asks a running task's container to stop; the exit, when it comes, ends the task as the request says
   * (cancelled, or failed by its timeout). Does not wait for the container: the grace period can be minutes.
   */
  async requestStop(execution: StoredTaskExecution, timeoutMs: number, request: StopRequest): Promise<void> {
    const containerId = execution.container_id;
    if (!containerId) return;
    // A cancel that comes while a timeout stop is under way does not turn the timeout into a cancel.
    if (this.#stopRequests.has(keyString(execution))) return;
    // Stored first: a restart during the grace period must still end the task as asked, not as failed. Only a
    // stored request is remembered, so a write that failed leaves the task stoppable by the next request.
    await this.#options.bus.transaction(async (tx, publish) => {
      await updateTaskExecution(tx, executionKey(execution), { stop_requested: encodeStopRequest(request) });
      if (request.status === "cancelled") {
        await publish("started_task_execution_cancellation", {
          namespace_id: execution.namespace_id,
          pipeline_id: execution.pipeline_id,
          run_id: execution.run_id,
          task_execution_id: execution.task_id,
          timeout: Math.round(timeoutMs / 1000),
        });
      }
    });
    this.#stopRequests.set(keyString(execution), request);
    this.#options.scheduler
      .stop(containerId, Math.ceil(timeoutMs / 1000))
      .catch((error: unknown) => this.#options.log?.(`stopping container ${containerId} failed`, error));
  }

  /** Records a final status for a task that never got (or never will get) a container. */
  async completeWithoutContainer(
    execution: StoredTaskExecution,
    status: TaskExecutionStatus,
    reason: Reason | null,
    { moveOn = true }: { moveOn?: boolean } = {},
  ): Promise<void> {
    await this.#complete(executionKey(execution), status, reason, null, moveOn);
  }

  /**
   * Stops watching: starts in progress give up, log capture saves where it stands, and every container keeps
   * running for the next boot to adopt. Resolves once nothing is being written.
   */
  async close(): Promise<void> {
    this.#detaching.abort();
    // A launch that was already past its start adds its watch late; that one detaches at once too.
    while (this.#watches.size > 0) await Promise.allSettled([...this.#watches]);
  }

  #track(watch: Promise<void>): void {
    this.#watches.add(watch);
    // A failure here (the database gone mid-write) is logged, never left to crash the process as unhandled.
    void watch
      .catch((error: unknown) => this.#options.log?.("watching a task failed", error))
      .finally(() => this.#watches.delete(watch));
  }

  /**
   * Creates and starts the container, retrying while the engine is out of reach. A request cut off mid-way
   * may still have created a container, so before each retry the task's own containers are looked up: one
   * that never started is removed, one that did is adopted, and a second one is never started.
   */
  async #start(
    execution: StoredTaskExecution,
    env: Record<string, string>,
    cancelled: AbortSignal,
  ): Promise<StartedContainer | undefined> {
    const { scheduler, retryLimitMs } = this.#options;
    const signal = this.#detaching.signal;
    const abandoned = AbortSignal.any([signal, cancelled]);
    const labels = taskLabels(this.#options.instanceId, execution);
    const retry = new EngineRetry(retryLimitMs);
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) return undefined;
      cancelled.throwIfAborted();
      try {
        if (attempt > 0) {
          const existing = await scheduler.listManaged(labels);
          const ran = existing.find((container) => container.state !== "created");
          if (ran) return { id: ran.id };
          for (const container of existing) await scheduler.remove(container.id);
        }
        const started = await scheduler.start({
          name: taskContainerName(execution),
          image: execution.task.image,
          env,
          entrypoint: execution.task.entrypoint,
          command: execution.task.command,
          labels,
          registryAuth: execution.task.registry_auth,
          alwaysPull: execution.task.always_pull_newest_image,
          resources: resourceAmounts(execution.task.resources),
          captureOutput: true,
          // Not PID 1, so a cancel's SIGTERM ends a command that does not trap it at once (see ContainerSpec).
          init: true,
          signal: abandoned,
        });
        return started;
      } catch (error) {
        if (!isUnavailable(error) || cancelled.aborted) throw error;
        if (!(await retry.wait(abandoned))) {
          cancelled.throwIfAborted();
          if (signal.aborted) return undefined;
          throw new SchedulerError(
            `Could not start the task: ${error.message} (gave up after ${Math.round(retryLimitMs / 1000)}s)`,
            { cause: error, kind: "unavailable" },
          );
        }
      }
    }
  }

  /** The container's environment: references resolved, and the run's API token when the task asks for one. */
  async #environmentFor(
    key: TaskExecutionKey,
    execution: StoredTaskExecution,
    variables: Variable[],
  ): Promise<ResolvedEnvironment> {
    const environment = await resolveVariables(variables, key, this.#options.resolvers ?? {});
    if (execution.task.inject_api_token && this.#options.runToken) {
      const token = await this.#options.runToken(key);
      // GOFER_API_TOKEN is the documented name; Gofer's own code injected GOFER_TOKEN, which its CLI reads.
      environment.env.GOFER_API_TOKEN = token;
      environment.env.GOFER_TOKEN = token;
      environment.secrets.push(token);
    }
    return environment;
  }

  /**
   * An adopted task's log goes on masking the secrets it was given. They are resolved again (their values are
   * never stored); the run token minted by the previous process is not known here and cannot be masked.
   */
  async #restoreMask(key: TaskExecutionKey, execution: StoredTaskExecution): Promise<void> {
    if (!this.#options.maskSecrets) return;
    try {
      const { secrets } = await resolveVariables(execution.variables, key, this.#options.resolvers ?? {});
      if (secrets.length > 0) this.#masks.set(keyString(key), this.#options.maskSecrets(secrets));
    } catch (error) {
      this.#options.log?.(
        `the secrets of task ${keyString(key)} could not be resolved again to mask its log`,
        error,
      );
    }
  }

  /** Streams the container's output to its log file and records its exit, then lets the run move on. */
  async #watch(key: LogKey, containerId: string, resume: boolean, live?: LiveOutput): Promise<void> {
    const observed = await this.#observe(key, containerId, resume, live);
    if (observed.kind === "detached") {
      this.#masks.delete(keyString(key));
      this.#disarm(key);
      return;
    }
    let status: TaskExecutionStatus;
    let reason: Reason | null = null;
    let exitCode: number | null = null;
    const stopped = this.#stopRequests.get(keyString(key));
    if (observed.kind === "lost") {
      status = "failed";
      reason = observed.reason;
    } else {
      exitCode = observed.exit.exitCode;
      if (stopped !== undefined) {
        status = stopped.status;
        reason = stopped.reason;
      } else if (exitCode === 0) {
        status = "successful";
      } else if (observed.interrupted) {
        status = "failed";
        reason = {
          reason: "scheduler_error",
          description:
            `The container engine was out of reach while the task ran, and its container ended with exit code ` +
            `${exitCode} (an engine restart stops running containers)`,
        };
      } else {
        status = "failed";
        reason = {
          reason: "abnormal_exit",
          description: `Task execution has exited with an abnormal exit code (${exitCode}).`,
        };
      }
    }
    this.#stopRequests.delete(keyString(key));
    this.#masks.delete(keyString(key));
    this.#disarm(key);
    // When the result cannot be stored even after retries, the container stays: the next boot reads it again.
    await this.#completeReliably(key, status, reason, exitCode);
    await this.#options.scheduler
      .remove(containerId)
      .catch((error: unknown) => this.#options.log?.(`removing container ${containerId} failed`, error));
  }

  /**
   * Stores the container's output in the log until it exits, and its exit. Each attempt resumes after the last
   * piece the log holds (`resume` on the first attempt too when adopting: the log may already hold part of the
   * output). A log that fails for reasons of its own is resumed a few times and then given up with a note in
   * it: the task's outcome is its exit code, never its log.
   */
  async #observe(
    key: TaskExecutionKey,
    containerId: string,
    resume: boolean,
    live: LiveOutput | undefined,
  ): Promise<Observation> {
    const { scheduler, logs, log, retryLimitMs } = this.#options;
    const signal = this.#detaching.signal;
    let retry: EngineRetry | undefined;
    let logFailures = 0;
    let logProblem: string | undefined;
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) {
        live?.close();
        return { kind: "detached" };
      }
      // Ends this attempt's calls when it fails part-way, so a wait left open does not outlive it.
      const attemptOver = new AbortController();
      const calls = AbortSignal.any([signal, attemptOver.signal]);
      try {
        const exit = scheduler.wait(containerId, { signal: calls });
        // Observed below; a failure of the log stream must not leave this rejection unhandled meanwhile.
        exit.catch(() => undefined);
        if (logProblem === undefined) {
          const captured = await capturePass({
            scheduler,
            logs,
            key,
            containerId,
            transformLine: this.#masks.get(keyString(key)),
            resume: resume || attempt > 0,
            live: attempt === 0 ? live : undefined,
            exit,
            signal: calls,
          });
          if (captured === "stopped") return { kind: "detached" };
        }
        const result = await exit;
        if (logProblem !== undefined) {
          await noteIncompleteLog(logs, key, logProblem).catch((error: unknown) =>
            log?.(
              `noting that the log of task ${keyString(key)} is incomplete failed`,
              error,
              keyString(key),
            ),
          );
        }
        return { kind: "exited", exit: result, interrupted: retry !== undefined };
      } catch (failure) {
        attemptOver.abort();
        if (attempt === 0) live?.close();
        if (signal.aborted) return { kind: "detached" };
        const error = failure instanceof LogCaptureError ? failure.cause : failure;
        if (failure instanceof LogCaptureError && !isGone(error) && !isUnavailable(error)) {
          logFailures++;
          log?.(
            `storing the log of task ${keyString(key)} failed (${logFailures} time(s))`,
            error,
            keyString(key),
          );
          if (logFailures > LOG_RESUMES) logProblem = messageOf(error);
          continue;
        }
        if (isGone(error)) {
          return {
            kind: "lost",
            reason: {
              reason: "orphaned",
              description: `The task's container ${containerId.slice(0, 12)} disappeared (removed outside Gofer); its exit code is unknown`,
            },
          };
        }
        if (!isUnavailable(error)) {
          log?.(`observing container ${containerId} failed`, error);
          return {
            kind: "lost",
            reason: {
              reason: "scheduler_error",
              description: `Lost track of the task's container: ${messageOf(error)}`,
            },
          };
        }
        retry ??= new EngineRetry(retryLimitMs);
        if (!(await retry.wait(signal))) {
          if (signal.aborted) return { kind: "detached" };
          return {
            kind: "lost",
            reason: {
              reason: "scheduler_error",
              description:
                `Gave up on the task's container after the container engine was out of reach for ` +
                `${Math.round(retryLimitMs / 1000)}s: ${error.message}`,
            },
          };
        }
      }
    }
  }

  /**
   * Turns a failed attempt into the next one when the task's retry policy says so: the attempt is kept, the task
   * waits (the run loop starts it once `retry_at` has passed) and its dependents go on waiting. Never while the
   * run is being cancelled or has run out of time.
   */
  async #retry(
    key: LogKey,
    status: TaskExecutionStatus,
    reason: Reason | null,
    exitCode: number | null,
  ): Promise<boolean> {
    const cause = retryCauseOf(status, reason);
    if (cause === undefined) return false;
    const { db } = this.#options;
    const execution = await getTaskExecution(db, key);
    // Only an attempt that was started is retried (a task failed before it started, by a run that could not move
    // on, is final), and never one someone asked to stop meanwhile.
    if (!execution?.task.retries || (execution.state !== "running" && execution.state !== "processing"))
      return false;
    // A stop is retried only when it was the attempt's own timeout: a cancel, or a run being failed, is final.
    if (
      execution.stop_requested !== null &&
      decodeStopRequest(execution.stop_requested).reason.reason !== "timeout"
    )
      return false;
    const now = Date.now();
    const retryAt = nextAttemptAt(execution.task.retries, execution.attempt, cause, now);
    if (retryAt === undefined) return false;
    const run = await getRun(db, key.namespace_id, key.pipeline_id, key.run_id);
    if (!run || run.cancel_requested || runTimedOut(run, now)) return false;
    const ended = {
      ...execution,
      status,
      status_reason: reason,
      exit_code: exitCode === null ? null : Math.min(Math.max(exitCode, 0), 255),
    };
    await this.#options.bus.transaction(async (tx, publish) => {
      await archiveAttempt(tx, ended, now, retryAt);
      // The next attempt is a new task execution in v0's terms; listeners learn of it (and of `retry_at`) here.
      await publish("created_task_execution", {
        namespace_id: key.namespace_id,
        pipeline_id: key.pipeline_id,
        run_id: key.run_id,
        task_execution_id: key.task_id,
      });
    });
    this.#options.info?.(
      `task ${keyString(key)} attempt ${execution.attempt} ended ${status} (${cause}); attempt ` +
        `${execution.attempt + 1} starts in ${formatDuration(retryAt - now)}`,
    );
    return true;
  }

  /** Stops the task once its timeout has passed, measured from its stored start (so it survives a restart). */
  #arm(execution: StoredTaskExecution, containerId: string, startedAt: number): void {
    const timeoutMs = taskTimeoutMs(execution.task.timeout, this.#options.timeouts);
    if (timeoutMs === 0) return;
    const id = keyString(execution);
    clearTimeout(this.#deadlines.get(id));
    const fire = () => {
      if (!this.#deadlines.has(id)) return;
      this.#deadlines.delete(id);
      void this.requestStop(
        { ...execution, state: "running", container_id: containerId },
        this.#options.stopTimeoutMs,
        timeoutRequest(describeTimeout(timeoutMs)),
      ).catch((error: unknown) =>
        this.#options.log?.(`stopping task ${id} at its timeout failed`, error, id),
      );
    };
    const timer = setTimeout(fire, Math.max(0, startedAt + timeoutMs - Date.now()));
    timer.unref();
    this.#deadlines.set(id, timer);
  }

  #disarm(key: TaskExecutionKey): void {
    const id = keyString(key);
    clearTimeout(this.#deadlines.get(id));
    this.#deadlines.delete(id);
  }

  /**
   * Records a task's end, retrying a storage failure with backoff (as the run loop does its decisions), so one
   * refused write does not leave the run `running` with nothing in flight. Rejects once the retries are spent.
   */
  async #completeReliably(
    key: LogKey,
    status: TaskExecutionStatus,
    reason: Reason | null,
    exitCode: number | null,
  ): Promise<void> {
    for (let failures = 0; ; failures++) {
      try {
        await this.#complete(key, status, reason, exitCode);
        return;
      } catch (error) {
        this.#options.log?.(
          `recording the end of task ${keyString(key)} failed (${failures + 1} time(s))`,
          error,
        );
        if (failures + 1 >= COMPLETE_ATTEMPTS || this.#detaching.signal.aborted) throw error;
        await delay(250 * 2 ** failures);
      }
    }
  }

  /**
   * `moveOn: false` when the caller holds the run's lock and settles the run itself (the run loop skipping or
   * cancelling tasks): a follow-up decision per task would re-read the whole run once per task.
   */
  async #complete(
    key: LogKey,
    status: TaskExecutionStatus,
    reason: Reason | null,
    exitCode: number | null,
    moveOn = true,
  ): Promise<void> {
    const { bus, logs, onTaskComplete } = this.#options;
    if (await this.#retry(key, status, reason, exitCode)) {
      logs.finish(key);
      logs
        .dropResumePoint(key)
        .catch((error: unknown) => this.#options.log?.("removing a log's resume point failed", error));
      void onTaskComplete(key);
      return;
    }
    await bus.transaction(async (tx, publish) => {
      await updateTaskExecution(tx, key, {
        state: "complete",
        status,
        status_reason: reason,
        ended: Date.now(),
        exit_code: exitCode === null ? null : Math.min(Math.max(exitCode, 0), 255),
      });
      await publish("completed_task_execution", {
        namespace_id: key.namespace_id,
        pipeline_id: key.pipeline_id,
        run_id: key.run_id,
        task_execution_id: key.task_id,
        status,
      });
    });
    logs.finish(key);
    logs
      .dropResumePoint(key)
      .catch((error: unknown) => this.#options.log?.("removing a log's resume point failed", error));
    if (moveOn) void onTaskComplete(key);
  }
}

const describeTimeout = (ms: number): string =>
  `The task ran longer than its ${formatDuration(ms)} timeout and was stopped`;

/** Why a launch was abandoned: how its task ends, and the grace a container that started anyway gets. */
class LaunchCancelled extends Error {
  readonly request: StopRequest;
  readonly timeoutMs: number;

  constructor(request: StopRequest, timeoutMs: number) {
    super(request.reason.description);
    this.name = "LaunchCancelled";
    this.request = request;
    this.timeoutMs = timeoutMs;
  }
}

/** Settles when the signal aborts (never, if it never does). */
function abortion(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
