/**
 * Boot-time reconciliation of storage with the containers the engine holds, before anything is served.
 *
 * Storage says what should exist; container labels say what does. Every task execution caught mid-flight by
 * a crash or a shutdown is settled from both: a container that still runs (or exited meanwhile) is adopted and
 * its remaining output and exit code collected; a task whose container vanished fails as `orphaned`; a task
 * that never got a container goes back to waiting and starts normally. A managed container of this instance
 * that storage does not account for is removed. Nothing here ever starts a second container for a task.
 */
import { cancelRequest, decodeStopRequest, type StopRequest } from "../domain/stop-requests.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import { attemptOf, instanceLabels, isTaskContainer, taskKeyOf } from "../scheduler/container-labels.ts";
import { type ManagedContainer, type Scheduler, SchedulerError } from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import { listUnfinishedRuns, type StoredRun } from "../storage/runs-store.ts";
import {
  getTaskExecution,
  listTaskExecutions,
  type StoredTaskExecution,
  updateTaskExecution,
} from "../storage/task-executions-store.ts";
import { EngineRetry, isUnavailable } from "./engine-retry.ts";
import type { TaskLauncher } from "./task-launcher.ts";

export interface RecoveryReport {
  /** Tasks whose container was found (running or exited) and is observed again. */
  adopted: number;
  /** Tasks whose container was gone: failed with reason `orphaned`. */
  orphaned: number;
  /** Tasks caught before their container existed: back to waiting, to start normally. */
  requeued: number;
  /** Managed containers of this instance that storage does not account for, removed. */
  reaped: number;
}

export interface RecoveryOptions {
  db: GoferDb;
  scheduler: Scheduler;
  launcher: TaskLauncher;
  instanceId: string;
  retryLimitMs: number;
  /** Asks again for the stop of a task that was being cancelled when the previous process ended. */
  resumeCancellation: (execution: StoredTaskExecution, request: StopRequest) => Promise<void>;
  log: { info: (message: string) => void; error: (message: string, error?: unknown) => void };
}

const keyOf = (key: TaskExecutionKey): string =>
  `${key.namespace_id}/${key.pipeline_id}/${key.run_id}/${key.task_id}`;

export async function recoverTasks(options: RecoveryOptions): Promise<RecoveryReport> {
  const { db, launcher } = options;
  const report: RecoveryReport = { adopted: 0, orphaned: 0, requeued: 0, reaped: 0 };
  const inFlight: Array<{ run: StoredRun; execution: StoredTaskExecution }> = [];
  for (const run of await listUnfinishedRuns(db)) {
    if (run.state !== "running") continue;
    for (const execution of await listTaskExecutions(db, run.namespace_id, run.pipeline_id, run.run_id)) {
      if (execution.state === "running" || execution.state === "processing")
        inFlight.push({ run, execution });
    }
  }
  if (inFlight.length === 0) {
    // Nothing waits on the engine's answer, so an engine that is down (or slow) does not hold up serving:
    // strays are removed in the background, when it answers.
    void options.scheduler
      .listManaged(instanceLabels(options.instanceId))
      // Tasks may be starting by then: only containers of finished or unknown tasks are strays.
      .then((containers) =>
        reapStrays(
          options,
          containers,
          new Set(),
          (execution, container) =>
            execution.state === "complete" || attemptOf(container.labels) < execution.attempt,
        ),
      )
      .catch((error: unknown) => options.log.error("could not look for stray containers", error));
    return report;
  }
  const containers = await listTaskContainers(options);
  const byTask = new Map<string, ManagedContainer[]>();
  for (const container of containers) {
    const key = taskKeyOf(container.labels);
    if (key === undefined) continue; // extension containers are the supervisor's
    const task = keyOf(key);
    byTask.set(task, [...(byTask.get(task) ?? []), container]);
  }
  const claimed = new Set<string>();

  for (const { run, execution } of inFlight) {
    // Only this attempt's containers: one left by an earlier attempt ran something else.
    const found = (byTask.get(keyOf(execution)) ?? []).filter(
      (candidate) => attemptOf(candidate.labels) === execution.attempt,
    );
    // The stored id wins; otherwise the crash came between creating the container and storing its id.
    const container =
      found.find((candidate) => candidate.id === execution.container_id) ??
      found.find((candidate) => candidate.state !== "created");
    if (container) {
      claimed.add(container.id);
      await launcher.adopt(execution, container.id);
      report.adopted++;
      // The stop may never have reached the engine, or its grace period ran out while nobody watched.
      const stopping =
        execution.stop_requested !== null
          ? decodeStopRequest(execution.stop_requested)
          : run.cancel_requested
            ? cancelRequest("The run was cancelled (stop resumed after a restart)")
            : null;
      if (stopping !== null)
        await options.resumeCancellation({ ...execution, container_id: container.id }, stopping);
      continue;
    }
    if (execution.state === "running") {
      await launcher.completeWithoutContainer(execution, "failed", {
        reason: "orphaned",
        description:
          `The task's container ${execution.container_id?.slice(0, 12) ?? "(unknown)"} was gone when Gofer ` +
          "restarted (removed outside Gofer, or lost with the engine's data); its output after the last " +
          "stored line and its exit code are unknown",
      });
      report.orphaned++;
      continue;
    }
    // Stopped while it was being started (a cancel during its image pull): it ends as the stop said.
    if (execution.stop_requested !== null) {
      const { status, reason } = decodeStopRequest(execution.stop_requested);
      await launcher.completeWithoutContainer(execution, status, reason);
      continue;
    }
    // Created but never started: nothing ran, so it goes (below) and the task starts afresh.
    await updateTaskExecution(db, execution, { state: "waiting", container_id: null });
    report.requeued++;
  }

  // Nothing else runs yet: every container no in-flight task claimed is a stray.
  report.reaped = await reapStrays(options, containers, claimed, () => true);
  return report;
}

/** Removes the managed containers of this instance that no unfinished task claimed; returns how many went. */
async function reapStrays(
  options: RecoveryOptions,
  containers: ManagedContainer[],
  claimed: Set<string>,
  reapable: (execution: StoredTaskExecution, container: ManagedContainer) => boolean,
): Promise<number> {
  const { db, scheduler, log } = options;
  let reaped = 0;
  for (const container of containers) {
    // Extension containers are the supervisor's; a task container with broken labels is nobody's.
    if (claimed.has(container.id) || !isTaskContainer(container.labels)) continue;
    const key = taskKeyOf(container.labels);
    const execution = key && (await getTaskExecution(db, key));
    if (execution !== undefined && !reapable(execution, container)) continue;
    const task = key ? keyOf(key) : "(its labels are incomplete)";
    const why = execution ? `its task ${task} is ${execution.state}` : `storage knows no task ${task}`;
    log.info(`removing container ${container.name} (${container.state}): ${why}`);
    try {
      await scheduler.remove(container.id);
      reaped++;
    } catch (error) {
      log.error(`could not remove container ${container.name}`, error);
    }
  }
  return reaped;
}

/** The engine may be starting alongside Gofer (a host reboot): it gets the configured time to answer. */
async function listTaskContainers(options: RecoveryOptions): Promise<ManagedContainer[]> {
  const retry = new EngineRetry(options.retryLimitMs);
  for (;;) {
    try {
      return await options.scheduler.listManaged(instanceLabels(options.instanceId));
    } catch (error) {
      if (!isUnavailable(error)) throw error;
      if (!(await retry.wait())) {
        throw new SchedulerError(
          `cannot check the containers of unfinished runs before serving: ${error.message} (retried for ` +
            `${Math.round(options.retryLimitMs / 1000)}s). Start the engine, or point scheduler.docker.host ` +
            "(or DOCKER_HOST) at it",
          { cause: error, kind: "unavailable" },
        );
      }
    }
  }
}
