/** `gofer pipeline deployment …`: the history of which version was made live, and when. */
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { contextOf } from "./command-context.ts";

export function registerPipelineDeploymentCommands(pipeline: Command): void {
  const deployment = pipeline.command("deployment").description("Show a pipeline's deployments");

  deployment
    .command("list <pipeline>")
    .description("List the pipeline's deployments")
    .action(async (pipelineId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const deployments = await client.deployments.list(namespace, pipelineId);
      out.result(deployments, () =>
        out.table(
          ["id", "from", "to", "state", "status", "started"],
          deployments.map((item) => [
            String(item.deployment_id),
            String(item.start_version),
            String(item.end_version),
            item.state.toLowerCase(),
            out.style.outcome(item.status.toLowerCase()),
            out.time(item.started),
          ]),
        ),
      );
    });

  deployment
    .command("get <pipeline> <deployment>")
    .description("Show one deployment")
    .action(async (pipelineId: string, idText: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const item = await client.deployments.get(namespace, pipelineId, positiveInteger(idText));
      out.result(item, () =>
        out.fields([
          ["deployment", String(item.deployment_id)],
          ["pipeline", item.pipeline_id],
          ["versions", `${item.start_version} → ${item.end_version}`],
          ["state", item.state.toLowerCase()],
          ["status", out.style.outcome(item.status.toLowerCase())],
          ["started", out.time(item.started)],
          ["ended", out.time(item.ended)],
        ]),
      );
    });
}
