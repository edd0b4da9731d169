/**
 * Reading a one-shot service's state from its task: what `wait` answers, what `listManaged` reports.
 *
 * A task is `new` … `starting` before its container runs, `running` while it does, and then final: `complete`
 * (exit 0), `failed` (a non-zero exit, or a container that could not start), `rejected` (it could not be prepared,
 * e.g. the image cannot be pulled), `shutdown`/`remove` (the swarm stopped it), `orphaned` (its node was lost).
 */
import type { ServiceInspect, SwarmTask, TaskState } from "../docker/engine-client.ts";
import type { ExitResult, SchedulerErrorKind } from "../scheduler.ts";

const FINAL_STATES: ReadonlySet<TaskState> = new Set([
  "complete",
  "shutdown",
  "failed",
  "rejected",
  "remove",
  "orphaned",
]);

/**
 * The exit code reported for a task the swarm stopped and forgot: one scaled to zero replicas before it ran, or
 * on a node whose engine Gofer cannot reach (the swarm deletes such a task's record once it has stopped).
 */
export const UNOBSERVED_STOP_EXIT_CODE = 137;

/** How swarmkit words the end of a container that exited non-zero. */
const NON_ZERO_EXIT = /^task: non-zero exit \((-?\d+)\)$/;

export function isFinal(task: SwarmTask): boolean {
  return FINAL_STATES.has(task.Status.State);
}

/** The service's newest task (a one-shot service has one; a node's loss can leave an older one behind). */
export function latestTask(tasks: SwarmTask[]): SwarmTask | undefined {
  let latest: SwarmTask | undefined;
  for (const task of tasks) {
    if (latest === undefined || Date.parse(task.CreatedAt) >= Date.parse(latest.CreatedAt)) latest = task;
  }
  return latest;
}

export function replicasOf(service: ServiceInspect): number | undefined {
  return service.Spec.Mode?.Replicated?.Replicas;
}

/** A final task's end: the container's exit, or why there was none. `undefined` while the task is not final. */
export type TaskOutcome = ExitResult | { failure: string; kind: SchedulerErrorKind };

export function outcomeOf(task: SwarmTask): TaskOutcome | undefined {
  const { State: state, Err: err, ContainerStatus: container } = task.Status;
  const ran = (container?.ContainerID ?? "") !== "";
  switch (state) {
    case "complete":
      return { exitCode: container?.ExitCode ?? 0 };
    case "failed": {
      const exit = NON_ZERO_EXIT.exec(err ?? "");
      if (exit) return { exitCode: container?.ExitCode || Number(exit[1]) };
      return { failure: `its container could not run: ${err || "no reason given"}`, kind: "failed" };
    }
    case "rejected":
      return { failure: `the swarm rejected its task: ${err || "no reason given"}`, kind: "failed" };
    case "shutdown":
    case "remove": {
      // Stopped by the swarm (the service was scaled down or removed, its node drained): a positive code is the
      // container's own; anything else says only that it was stopped.
      const code = ran ? (container?.ExitCode ?? 0) : 0;
      return { exitCode: code > 0 ? code : UNOBSERVED_STOP_EXIT_CODE };
    }
    case "orphaned":
      return {
        failure: `the node running its task (${task.NodeID ?? "unknown"}) was lost; its exit is unknown`,
        kind: "failed",
      };
    default:
      return undefined;
  }
}

/**
 * The {@link ManagedContainer} state of a service: `running` while its task runs, `exited` once the task is final
 * (or the service was scaled to zero before it ran), `created` before its task started.
 */
export function managedStateOf(service: ServiceInspect, task: SwarmTask | undefined): string {
  if (task === undefined) return replicasOf(service) === 0 ? "exited" : "created";
  if (task.Status.State === "running") return "running";
  return isFinal(task) ? "exited" : "created";
}
