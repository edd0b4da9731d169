/** `gofer pipeline config …`: a pipeline's registered versions, and deploying one of them. */
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { contextOf } from "./command-context.ts";
import {
  anyTaskControls,
  formatConcurrency,
  formatRetries,
  formatSubscriptions,
} from "./output/controls-format.ts";
import { anyResources, formatResources } from "./output/resources-format.ts";

export function registerPipelineConfigCommands(pipeline: Command): void {
  const config = pipeline.command("config").description("Manage a pipeline's config versions");

  config
    .command("list <pipeline>")
    .description("List the pipeline's versions (newest first)")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const configs = await client.configs.list(namespace, pipelineId);
      out.result(configs, () =>
        out.table(
          ["version", "state", "tasks", "name", "registered"],
          [...configs]
            .sort((a, b) => b.version - a.version)
            .map((item) => [
              String(item.version),
              out.style.outcome(item.state),
              String(Object.keys(item.tasks).length),
              item.name,
              out.time(item.registered),
            ]),
        ),
      );
    });

  config
    .command("get <pipeline> <version>")
    .description("Show one version with its tasks, timeouts, retries, concurrency and declared subscriptions")
    .action(async (pipelineId: string, versionText: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const item = await client.configs.get(namespace, pipelineId, positiveInteger(versionText));
      const tasks = Object.values(item.tasks);
      const withResources = anyResources(tasks);
      const withControls = anyTaskControls(tasks);
      const subscriptions = formatSubscriptions(item.subscriptions ?? []);
      out.result(item, () => [
        ...out.fields([
          ["pipeline", item.pipeline_id],
          ["version", String(item.version)],
          ["state", out.style.outcome(item.state)],
          ["name", item.name],
          ["description", item.description || "-"],
          ["parallelism", item.parallelism === 0 ? "server default" : String(item.parallelism)],
          ["registered", out.time(item.registered)],
          // Extensions of v0: shown only when the version declares them.
          ...(item.timeout === undefined ? [] : [["timeout", item.timeout] as [string, string]]),
          ...(item.concurrency === undefined
            ? []
            : [["concurrency", formatConcurrency(item.concurrency)] as [string, string]]),
          ...(subscriptions.length === 0
            ? []
            : [["subscriptions", String(subscriptions.length)] as [string, string]]),
        ]),
        ...subscriptions.map((line) => `  - ${line}`),
        "",
        out.table(
          [
            "task",
            "image",
            "command",
            "depends on",
            ...(withResources ? ["resources"] : []),
            ...(withControls.timeout ? ["timeout"] : []),
            ...(withControls.retries ? ["retries"] : []),
          ],
          tasks.map((task) => [
            task.id,
            task.image,
            [...(task.entrypoint ?? []), ...(task.command ?? [])].join(" ").slice(0, 60) || "-",
            Object.entries(task.depends_on)
              .map(([parent, condition]) => `${parent} (${condition.toLowerCase()})`)
              .join(", ") || "-",
            ...(withResources ? [formatResources(task.resources)] : []),
            ...(withControls.timeout ? [task.timeout ?? "-"] : []),
            ...(withControls.retries ? [formatRetries(task.retries)] : []),
          ]),
        ),
      ]);
    });

  config
    .command("deploy <pipeline> <version>")
    .description("Make a version live: new runs execute it")
    .action(async (pipelineId: string, versionText: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const deployment = await client.configs.deploy(namespace, pipelineId, positiveInteger(versionText));
      out.result(
        deployment,
        () =>
          `Deployed version ${deployment.end_version} of ${pipelineId} (deployment ${deployment.deployment_id})`,
      );
    });

  config
    .command("delete <pipeline> <version>")
    .description("Delete a version that is not live")
    .action(async (pipelineId: string, versionText: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const version = positiveInteger(versionText);
      await client.configs.delete(namespace, pipelineId, version);
      out.result({ deleted: version }, () => `Deleted version ${version} of ${pipelineId}`);
    });
}
