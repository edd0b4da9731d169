/** Turns a validated registration (the SDK's wire model) into the stored v0 config and tasks. */
import type { PipelineConfig as PipelineConfigInput, TaskRetries } from "@gofer/sdk";
import type { PipelineConfig, Task } from "./models.ts";
import type { RequiredParentStatus } from "./states.ts";
import { variablesFromRecord } from "./variables.ts";

export function toStoredTasks(config: PipelineConfigInput): { tasks: Record<string, Task>; order: string[] } {
  const tasks: Record<string, Task> = {};
  for (const task of config.tasks) {
    tasks[task.id] = {
      id: task.id,
      description: task.description ?? "",
      image: task.image,
      registry_auth: task.registry_auth,
      depends_on: Object.fromEntries(
        Object.entries(task.depends_on).map(([parent, status]) => [
          parent,
          status.toLowerCase() as RequiredParentStatus,
        ]),
      ),
      variables: variablesFromRecord(task.variables, "pipeline_config"),
      entrypoint: task.entrypoint,
      command: task.command,
      inject_api_token: task.inject_api_token,
      always_pull_newest_image: task.always_pull_newest_image,
      // Left out when none are declared, so the stored task (and what the API serves) is exactly v0.
      ...(task.resources && { resources: { ...task.resources } }),
      ...(task.timeout !== undefined && { timeout: task.timeout }),
      ...(task.retries && { retries: copyRetries(task.retries) }),
    };
  }
  return { tasks, order: config.tasks.map((task) => task.id) };
}

/** A pipeline's extensions of v0, as a stored version carries them beside its v0 fields. */
export type PipelineControls = Pick<PipelineConfig, "timeout" | "concurrency" | "subscriptions">;

/**
 * The registration's pipeline-level extensions of v0 (`timeout`, `concurrency`, `subscriptions`), for a stored
 * version: spread it into the version so they are kept (in `controls_json`) and served back. Fields the
 * registration leaves out are left out here too, so a v0 registration adds nothing.
 */
export function pipelineControls(config: PipelineConfigInput): PipelineControls {
  return {
    ...(config.timeout !== undefined && { timeout: config.timeout }),
    ...(config.concurrency && { concurrency: { ...config.concurrency } }),
    ...(config.subscriptions && {
      subscriptions: config.subscriptions.map((subscription) => ({
        ...subscription,
        settings: { ...subscription.settings },
      })),
    }),
  };
}

function copyRetries(retries: TaskRetries): TaskRetries {
  return { ...retries, on: [...retries.on] };
}

/** What the API serves in place of a value it never reveals (registry passwords, extension settings). */
export const REDACTED = "[redacted]";

/** Registry passwords are write-only: stored for pulls, never served back. */
export function redactConfig(config: PipelineConfig): PipelineConfig {
  const tasks = Object.fromEntries(Object.entries(config.tasks).map(([id, task]) => [id, redactTask(task)]));
  return { ...config, tasks };
}

export function redactTask(task: Task): Task {
  return task.registry_auth
    ? { ...task, registry_auth: { user: task.registry_auth.user, pass: REDACTED } }
    : task;
}
