/**
 * The one place that says how Gofer names and labels what it starts on a scheduler, and how it reads that back.
 * Labels are how a restarted server finds its work again (recovery adopts or reaps task containers, the
 * extension supervisor removes its own), so writing and reading them must never drift apart.
 *
 * - Every container carries `gofer.managed=true`; backends add it last, so given labels cannot hide a container.
 * - Every container carries `gofer.instance=<server id>`: two servers on one engine never touch each other's.
 * - A task container carries its task execution's key: `gofer.namespace`, `gofer.pipeline`, `gofer.run`,
 *   `gofer.task`, and which attempt of it it runs, `gofer.attempt` (absent on containers of earlier versions,
 *   which ran first attempts).
 * - An extension container carries `gofer.extension=<extension id>`.
 */
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";

export const MANAGED_LABEL = "gofer.managed";
const INSTANCE_LABEL = "gofer.instance";
const NAMESPACE_LABEL = "gofer.namespace";
const PIPELINE_LABEL = "gofer.pipeline";
const RUN_LABEL = "gofer.run";
const TASK_LABEL = "gofer.task";
const ATTEMPT_LABEL = "gofer.attempt";
const EXTENSION_LABEL = "gofer.extension";

type Labels = Record<string, string>;

/** The given labels plus `gofer.managed=true`, which wins over a given `gofer.managed`. */
export function managed(labels: Labels): Labels {
  return { ...labels, [MANAGED_LABEL]: "true" };
}

export function isManaged(labels: Labels): boolean {
  return labels[MANAGED_LABEL] === "true";
}

/** Selects every container one server started. */
export function instanceLabels(instanceId: string): Labels {
  return { [INSTANCE_LABEL]: instanceId };
}

/** A task attempt's labels: an attempt never takes over the container of the attempt before it. */
export function taskLabels(instanceId: string, key: TaskExecutionKey & { attempt?: number }): Labels {
  return {
    [INSTANCE_LABEL]: instanceId,
    [NAMESPACE_LABEL]: key.namespace_id,
    [PIPELINE_LABEL]: key.pipeline_id,
    [RUN_LABEL]: String(key.run_id),
    [TASK_LABEL]: key.task_id,
    [ATTEMPT_LABEL]: String(key.attempt ?? 1),
  };
}

/** Which attempt of its task a container runs. */
export function attemptOf(labels: Labels): number {
  const attempt = Number(labels[ATTEMPT_LABEL] ?? 1);
  return Number.isSafeInteger(attempt) && attempt > 0 ? attempt : 1;
}

/** Whether the container was started for a task (rather than an extension), well labelled or not. */
export function isTaskContainer(labels: Labels): boolean {
  return labels[TASK_LABEL] !== undefined;
}

/** The task execution a container was started for; undefined when it is not a task's or its labels are broken. */
export function taskKeyOf(labels: Labels): TaskExecutionKey | undefined {
  const namespaceId = labels[NAMESPACE_LABEL];
  const pipelineId = labels[PIPELINE_LABEL];
  const runId = Number(labels[RUN_LABEL]);
  const taskId = labels[TASK_LABEL];
  if (namespaceId === undefined || pipelineId === undefined || taskId === undefined) return undefined;
  if (!Number.isSafeInteger(runId)) return undefined;
  return { namespace_id: namespaceId, pipeline_id: pipelineId, run_id: runId, task_id: taskId };
}

/**
 * Docker names allow `[a-zA-Z0-9][a-zA-Z0-9_.-]*` (identifiers keep to that); the random tail keeps the names of
 * retried or recovered executions unique.
 */
export function taskContainerName(key: TaskExecutionKey): string {
  const tail = Math.random().toString(36).slice(2, 8);
  return `gofer-${key.namespace_id}-${key.pipeline_id}-${key.run_id}-${key.task_id}-${tail}`;
}

export function extensionLabels(instanceId: string, extensionId: string): Labels {
  return { [INSTANCE_LABEL]: instanceId, [EXTENSION_LABEL]: extensionId };
}

/** Selects one extension's containers, or every extension's when no id is given (with other containers). */
export function extensionSelector(instanceId: string, extensionId?: string): Labels {
  return extensionId ? extensionLabels(instanceId, extensionId) : instanceLabels(instanceId);
}

/** The extension a container was started for; undefined for any other container. */
export function extensionOf(labels: Labels): string | undefined {
  return labels[EXTENSION_LABEL] || undefined;
}

/** The instance's id keeps two servers on one engine (or a server and an old data folder's leftovers) apart. */
export function extensionContainerName(instanceId: string, extensionId: string): string {
  return `gofer_${instanceId.slice(-8).toLowerCase()}_extension_${extensionId}`;
}
