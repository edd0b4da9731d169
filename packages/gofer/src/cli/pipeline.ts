/** `gofer pipeline …`: the pipelines of a namespace, their state, and starting runs of them. */
import type { Command } from "commander";
import { collectVariable } from "./arguments.ts";
import { contextOf } from "./command-context.ts";
import { registerPipelineObjectCommands } from "./object.ts";
import { anyResources, formatResources } from "./output/resources-format.ts";
import { registerPipelineConfigCommands } from "./pipeline-config.ts";
import { registerPipelineDeploymentCommands } from "./pipeline-deployment.ts";
import { registerPipelineInitCommand } from "./project-init/init-commands.ts";
import { startRunAction } from "./run.ts";
import { registerPipelineSubscriptionCommands } from "./subscription.ts";
import { addUpOptions, upAction } from "./up.ts";

export function registerPipelineCommands(program: Command): void {
  const pipeline = program.command("pipeline").description("Manage pipelines");

  pipeline
    .command("list")
    .description("List the namespace's pipelines")
    .action(async (_options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const pipelines = await client.pipelines.list(namespace);
      out.result(pipelines, () =>
        out.table(
          ["id", "state", "created", "modified"],
          pipelines.map((item) => [
            item.pipeline_id,
            out.style.outcome(item.state),
            out.time(item.created),
            out.time(item.modified),
          ]),
        ),
      );
    });

  pipeline
    .command("get <pipeline>")
    .description("Show a pipeline and the tasks of its live version")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const metadata = await client.pipelines.get(namespace, pipelineId);
      const configs = await client.configs.list(namespace, pipelineId);
      const live = configs.find((config) => config.state === "live");
      const tasks = live ? Object.values(live.tasks) : [];
      const withResources = anyResources(tasks);
      out.result({ pipeline: metadata, live_config: live ?? null }, () => [
        ...out.fields([
          ["pipeline", metadata.pipeline_id],
          ["namespace", metadata.namespace_id],
          ["state", out.style.outcome(metadata.state)],
          ["name", live?.name ?? "-"],
          ["description", live?.description || "-"],
          ["live version", live ? String(live.version) : "none deployed"],
          ["versions", String(configs.length)],
          ["created", out.time(metadata.created)],
        ]),
        ...(live
          ? [
              "",
              out.table(
                ["task", "image", "depends on", ...(withResources ? ["resources"] : [])],
                tasks.map((task) => [
                  task.id,
                  task.image,
                  Object.entries(task.depends_on)
                    .map(([parent, condition]) => `${parent} (${condition.toLowerCase()})`)
                    .join(", ") || "-",
                  ...(withResources ? [formatResources(task.resources)] : []),
                ]),
              ),
            ]
          : []),
      ]);
    });

  for (const [name, state, verb] of [
    ["enable", "active", "Enabled"],
    ["disable", "disabled", "Disabled"],
  ] as const) {
    pipeline
      .command(`${name} <pipeline>`)
      .description(name === "enable" ? "Allow new runs of a pipeline" : "Refuse new runs of a pipeline")
      .action(async (pipelineId: string, _options, command: Command) => {
        const { client, out, namespace } = contextOf(command);
        await client.pipelines.setState(namespace, pipelineId, state);
        const metadata = await client.pipelines.get(namespace, pipelineId);
        out.result(metadata, () => `${verb} pipeline ${pipelineId}`);
      });
  }

  pipeline
    .command("delete <pipeline>")
    .description("Delete a pipeline with its versions, runs and logs")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      await client.pipelines.delete(namespace, pipelineId);
      out.result({ deleted: pipelineId }, () => `Deleted pipeline ${pipelineId}`);
    });

  pipeline
    .command("run <pipeline>")
    .description("Start a run of the pipeline's live version (same as `gofer run start`)")
    .option("-v, --variable <KEY=VALUE>", "run variable (repeatable)", collectVariable)
    .option("-w, --watch", "follow the run until it ends, like `gofer run watch`")
    .action(startRunAction);

  addUpOptions(
    pipeline
      .command("create <path>")
      .description(
        "Register a pipeline from a .ts/.js/.json file or folder, and deploy it (same as `gofer up`)",
      ),
  ).action(upAction);

  registerPipelineConfigCommands(pipeline);
  registerPipelineDeploymentCommands(pipeline);
  registerPipelineObjectCommands(pipeline);
  registerPipelineSubscriptionCommands(pipeline);
  registerPipelineInitCommand(pipeline);
}
