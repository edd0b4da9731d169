/**
 * Runs one task execution on the scheduler: builds its environment, starts its container, stores every log
 * line, observes its exit and records the result. The result is committed before the container is removed,
 * so a crash between the two leaves a container that recovery can still read, never a lost exit code.
 */
import type { StatusReason, Variable } from "../domain/models.ts";
import type { TaskExecutionStatus, TaskExecutionStatusReasonType } from "../domain/states.ts";
import { mergeVariables } from "../domain/variables.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore, TaskLogKey } from "../logs/log-store.ts";
import type { LineTransform } from "../logs/log-writer.ts";
import { type Scheduler, SchedulerError } from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import type { RunKey, StoredRun } from "../storage/runs-store.ts";
import {
  type StoredTaskExecution,
  type TaskExecutionKey,
  updateTaskExecution,
} from "../storage/task-executions-store.ts";
import {
  ReferenceRefusedError,
  type ReferenceResolvers,
  type ResolvedEnvironment,
  resolveVariables,
  UnresolvedReferenceError,
} from "./variable-resolution.ts";

export interface TaskLauncherOptions {
  db: GoferDb;
  scheduler: Scheduler;
  logs: LogStore;
  bus: EventBus;
  apiBaseUrl: () => string;
  instanceId: string;
  onTaskComplete: (run: RunKey) => Promise<void>;
  /** How secret and object references in variables are resolved at task start. */
  resolvers?: ReferenceResolvers;
  /** Builds the line transform that masks a task's resolved secrets in its log (identity when none). */
  maskSecrets?: (secrets: string[]) => LineTransform;
  /** The API token secret for a run's tasks that ask for one (`inject_api_token`). */
  runToken?: (run: RunKey) => Promise<string>;
  log?: (message: string, error?: unknown) => void;
}

type Reason = StatusReason<TaskExecutionStatusReasonType>;

const executionKey = (execution: TaskExecutionKey): TaskExecutionKey => ({
  namespace_id: execution.namespace_id,
  pipeline_id: execution.pipeline_id,
  run_id: execution.run_id,
  task_id: execution.task_id,
});

export const logKeyOf = (execution: TaskExecutionKey): TaskLogKey => ({
  namespaceId: execution.namespace_id,
  pipelineId: execution.pipeline_id,
  runId: execution.run_id,
  taskId: execution.task_id,
});

const keyString = (key: TaskExecutionKey): string =>
  `${key.namespace_id}/${key.pipeline_id}/${key.run_id}/${key.task_id}`;

/** The variables Gofer itself provides to every task; task and run variables may override them. */
export function systemVariables(run: RunKey, execution: StoredTaskExecution, apiBaseUrl: string): Variable[] {
  const values: Record<string, string> = {
    GOFER_NAMESPACE_ID: run.namespace_id,
    GOFER_PIPELINE_ID: run.pipeline_id,
    GOFER_RUN_ID: String(run.run_id),
    GOFER_TASK_ID: execution.task_id,
    GOFER_TASK_IMAGE: execution.task.image,
    GOFER_API_BASE_URL: apiBaseUrl,
  };
  return Object.entries(values).map(([key, value]) => ({ key, value, source: "system" }));
}

export class TaskLauncher {
  readonly #options: TaskLauncherOptions;
  /** Containers asked to stop, with the description their cancellation will carry. */
  readonly #stopRequests = new Map<string, string>();
  readonly #watches = new Set<Promise<void>>();
  /** Per running task, the transform that masks the secrets it received. */
  readonly #masks = new Map<string, LineTransform>();

  constructor(options: TaskLauncherOptions) {
    this.#options = options;
  }

  /** Starts the container; returns once it is running (or the task has failed to start). */
  async launch(run: StoredRun, execution: StoredTaskExecution): Promise<void> {
    const { db, scheduler, bus } = this.#options;
    const key = executionKey(execution);
    const variables = mergeVariables(
      systemVariables(run, execution, this.#options.apiBaseUrl()),
      execution.variables,
    );
    await updateTaskExecution(db, key, { state: "processing", variables });

    let environment: ResolvedEnvironment;
    try {
      environment = await this.#environmentFor(key, execution, variables);
    } catch (error) {
      // Whatever goes wrong before the container exists must end the task: a task left in `processing` would
      // hold its run (and a parallelism slot) forever.
      const precondition =
        error instanceof UnresolvedReferenceError || error instanceof ReferenceRefusedError;
      if (!precondition) this.#options.log?.(`preparing task ${keyString(key)} failed`, error);
      await this.completeWithoutContainer(execution, "failed", {
        reason: precondition ? "failed_precondition" : "scheduler_error",
        description: precondition
          ? `Could not start the task: ${messageOf(error)}`
          : "Could not start the task: its variables could not be prepared (see the server log)",
      });
      return;
    }
    if (environment.secrets.length > 0 && this.#options.maskSecrets)
      this.#masks.set(keyString(key), this.#options.maskSecrets(environment.secrets));

    let containerId: string;
    try {
      const started = await scheduler.start({
        name: containerName(execution),
        image: execution.task.image,
        env: environment.env,
        entrypoint: execution.task.entrypoint,
        command: execution.task.command,
        labels: {
          "gofer.instance": this.#options.instanceId,
          "gofer.namespace": execution.namespace_id,
          "gofer.pipeline": execution.pipeline_id,
          "gofer.run": String(execution.run_id),
          "gofer.task": execution.task_id,
        },
        registryAuth: execution.task.registry_auth,
        alwaysPull: execution.task.always_pull_newest_image,
      });
      containerId = started.id;
    } catch (error) {
      this.#masks.delete(keyString(key));
      const description =
        error instanceof SchedulerError ? error.message : `Could not start the task: ${String(error)}`;
      await this.completeWithoutContainer(execution, "failed", { reason: "scheduler_error", description });
      return;
    }

    await updateTaskExecution(db, key, { state: "running", started: Date.now(), container_id: containerId });
    await bus.publish("started_task_execution", {
      namespace_id: key.namespace_id,
      pipeline_id: key.pipeline_id,
      run_id: key.run_id,
      task_execution_id: key.task_id,
    });
    this.#track(this.#watch(key, containerId));
  }

  /**
   * Asks a running task's container to stop; the exit, when it comes, records the task as cancelled.
   * Does not wait for the container: the grace period can be minutes.
   */
  async requestStop(execution: StoredTaskExecution, timeoutMs: number, description: string): Promise<void> {
    const containerId = execution.container_id;
    if (!containerId) return;
    this.#stopRequests.set(keyString(execution), description);
    await this.#options.bus.publish("started_task_execution_cancellation", {
      namespace_id: execution.namespace_id,
      pipeline_id: execution.pipeline_id,
      run_id: execution.run_id,
      task_execution_id: execution.task_id,
      timeout: Math.round(timeoutMs / 1000),
    });
    this.#options.scheduler
      .stop(containerId, Math.ceil(timeoutMs / 1000))
      .catch((error: unknown) => this.#options.log?.(`stopping container ${containerId} failed`, error));
  }

  /** Records a final status for a task that never got (or never will get) a container. */
  async completeWithoutContainer(
    execution: StoredTaskExecution,
    status: TaskExecutionStatus,
    reason: Reason | null,
  ): Promise<void> {
    await this.#complete(executionKey(execution), status, reason, null);
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#watches]);
  }

  #track(watch: Promise<void>): void {
    this.#watches.add(watch);
    // A failure here (the database gone mid-write) is logged, never left to crash the process as unhandled.
    void watch
      .catch((error: unknown) => this.#options.log?.("watching a task failed", error))
      .finally(() => this.#watches.delete(watch));
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

  /** Streams the container's output to its log file and records its exit, then lets the run move on. */
  async #watch(key: TaskExecutionKey, containerId: string): Promise<void> {
    const { scheduler, logs, log } = this.#options;
    const logKey = logKeyOf(key);
    const capture = (async () => {
      const writer = await logs.openWriter(logKey, { transformLine: this.#masks.get(keyString(key)) });
      try {
        for await (const chunk of scheduler.logs(containerId, { follow: true })) await writer.write(chunk);
      } finally {
        await writer.close();
      }
    })();

    let status: TaskExecutionStatus;
    let reason: Reason | null = null;
    let exitCode: number | null = null;
    try {
      const [exit] = await Promise.all([scheduler.wait(containerId), capture]);
      exitCode = exit.exitCode;
      const cancelledBy = this.#stopRequests.get(keyString(key));
      if (cancelledBy !== undefined) {
        status = "cancelled";
        reason = { reason: "cancelled", description: cancelledBy };
      } else if (exit.exitCode === 0) {
        status = "successful";
      } else {
        status = "failed";
        reason = {
          reason: "abnormal_exit",
          description: `Task execution has exited with an abnormal exit code (${exit.exitCode}).`,
        };
      }
    } catch (error) {
      log?.(`observing container ${containerId} failed`, error);
      await capture.catch(() => undefined);
      status = "failed";
      reason = {
        reason: "scheduler_error",
        description: `Lost track of the task's container: ${messageOf(error)}`,
      };
    }
    this.#stopRequests.delete(keyString(key));
    this.#masks.delete(keyString(key));
    await this.#complete(key, status, reason, exitCode);
    await scheduler
      .remove(containerId)
      .catch((error: unknown) => log?.(`removing container ${containerId} failed`, error));
  }

  async #complete(
    key: TaskExecutionKey,
    status: TaskExecutionStatus,
    reason: Reason | null,
    exitCode: number | null,
  ): Promise<void> {
    const { db, bus, logs, onTaskComplete } = this.#options;
    await updateTaskExecution(db, key, {
      state: "complete",
      status,
      status_reason: reason,
      ended: Date.now(),
      exit_code: exitCode === null ? null : Math.min(Math.max(exitCode, 0), 255),
    });
    await bus.publish("completed_task_execution", {
      namespace_id: key.namespace_id,
      pipeline_id: key.pipeline_id,
      run_id: key.run_id,
      task_execution_id: key.task_id,
      status,
    });
    logs.finish(logKeyOf(key));
    void onTaskComplete(key);
  }
}

/** Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*`; the random tail keeps retried or recovered names unique. */
function containerName(execution: TaskExecutionKey): string {
  const tail = Math.random().toString(36).slice(2, 8);
  return `gofer-${execution.namespace_id}-${execution.pipeline_id}-${execution.run_id}-${execution.task_id}-${tail}`;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
