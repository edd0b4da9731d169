import { normaliseRequiredParentStatus, type PipelineConfig } from "@gofer/sdk";
import type { PipelineConfigVersion } from "@gofer/sdk/client";

/**
 * The registered version the server returns (`GET …/configs/{version}`), in the v0 registration shape that
 * {@link diffPipelineConfigs} compares. The server's copy differs from what was registered in ways the diff
 * allows for: an absent description comes back as `""`, conditions in lowercase, variables as a list, and a
 * registry password as `[redacted]`, which is kept so the diff can recognise it. The extensions of v0 come back
 * as registered, and are left out when the version has none.
 */
export function liveConfigFromVersion(version: PipelineConfigVersion): PipelineConfig {
  return {
    id: version.pipeline_id,
    name: version.name,
    description: version.description === "" ? null : version.description,
    parallelism: version.parallelism,
    tasks: Object.values(version.tasks).map((task) => ({
      id: task.id,
      description: task.description === "" ? null : task.description,
      image: task.image,
      registry_auth: task.registry_auth === null ? null : { ...task.registry_auth },
      depends_on: Object.fromEntries(
        Object.entries(task.depends_on).map(([parent, condition]) => [
          parent,
          normaliseRequiredParentStatus(condition) ?? "Unknown",
        ]),
      ),
      variables: Object.fromEntries(task.variables.map((variable) => [variable.key, variable.value])),
      entrypoint: task.entrypoint === null ? null : [...task.entrypoint],
      command: task.command === null ? null : [...task.command],
      inject_api_token: task.inject_api_token,
      always_pull_newest_image: task.always_pull_newest_image,
      ...(task.resources && { resources: { ...task.resources } }),
      ...(task.timeout !== undefined && { timeout: task.timeout }),
      ...(task.retries && { retries: { ...task.retries, on: [...task.retries.on] } }),
    })),
    ...(version.timeout !== undefined && { timeout: version.timeout }),
    ...(version.concurrency && { concurrency: { ...version.concurrency } }),
    ...(version.subscriptions && {
      subscriptions: version.subscriptions.map((subscription) => ({
        ...subscription,
        settings: { ...subscription.settings },
      })),
    }),
  };
}
