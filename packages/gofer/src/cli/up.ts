/**
 * `gofer up <file|dir>` (and `gofer pipeline create`): load a pipeline written in TypeScript, JavaScript or
 * JSON, show what changes against the live version, register it as a new version and deploy it.
 */
import { concurrencyGroupVariables } from "@gofer/sdk";
import { GoferApiError, type PipelineConfigVersion } from "@gofer/sdk/client";
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { type CommandContext, contextOf } from "./command-context.ts";

interface UpOptions {
  deploy: boolean;
  force?: boolean;
  timeout: number;
}

export function registerUpCommand(program: Command): void {
  addUpOptions(
    program
      .command("up <path>")
      .description("Register a pipeline from a .ts/.js/.json file or folder, and deploy it"),
  ).action(upAction);
}

export function addUpOptions(command: Command): Command {
  return command
    .option("--no-deploy", "register the new version without making it live")
    .option("--force", "register a new version even when nothing changed")
    .option(
      "--timeout <seconds>",
      "how long loading may take: a .ts/.js file's evaluation, or a Go/Rust program's build and then its run",
      positiveInteger,
      30,
    );
}

export async function upAction(path: string, options: UpOptions, command: Command): Promise<void> {
  const context = contextOf(command);
  const { client, out, namespace } = context;
  // The loader starts a child process; it is only needed by this command, so it is loaded here.
  const { loadPipelineFile } = await import("./pipeline-file/load-pipeline-file.ts");
  const { diffPipelineConfigs, formatConfigDiff } = await import("./pipeline-file/config-diff.ts");
  const { liveConfigFromVersion } = await import("./pipeline-file/live-config.ts");

  const loaded = await loadPipelineFile(path, { timeoutMs: options.timeout * 1000 });
  const { config } = loaded;
  const live = await liveConfig(context, config.id);
  const diff = diffPipelineConfigs(live ? liveConfigFromVersion(live) : undefined, config);
  const changed = !diff.identical;

  if (!out.json) {
    out.line(
      live
        ? `Pipeline ${config.id} in ${namespace}: changes against live version ${live.version}:`
        : `Pipeline ${config.id} is new in namespace ${namespace}:`,
    );
    out.line(formatConfigDiff(diff, { color: out.style.enabled }).map((line) => `  ${line}`));
  }

  if (!changed && !options.force) {
    out.result(
      {
        namespace_id: namespace,
        pipeline_id: config.id,
        version: live?.version ?? null,
        changed,
        deployed: false,
      },
      () =>
        `Nothing to do: version ${live?.version} is live and identical. (Use --force to register anyway.)`,
    );
    return;
  }

  const registered = await client.configs.register(namespace, config.id, config);
  const version = registered.version;
  let deployed = false;
  if (options.deploy) {
    await client.configs.deploy(namespace, config.id, version);
    deployed = true;
  }
  out.result({ namespace_id: namespace, pipeline_id: config.id, version, changed, deployed, diff }, () => [
    deployed
      ? `Registered and deployed version ${version} of ${config.id}.`
      : `Registered version ${version} of ${config.id} (not deployed).`,
    "",
    "Next:",
    ...(deployed ? [] : [`  gofer pipeline config deploy ${config.id} ${version}`]),
    `  gofer run start ${config.id}${groupVariableFlags(config)} --watch`,
    `  gofer pipeline get ${config.id}`,
  ]);
}

/** The live version, or undefined for a pipeline that does not exist yet or has nothing deployed. */
async function liveConfig(
  { client, namespace }: CommandContext,
  pipelineId: string,
): Promise<PipelineConfigVersion | undefined> {
  try {
    const configs = await client.configs.list(namespace, pipelineId);
    return configs.find((config) => config.state === "live");
  } catch (error) {
    if (error instanceof GoferApiError && error.status === 404) return undefined;
    throw error;
  }
}

/** `-v NAME=…` for each run variable the pipeline's concurrency group needs: a run without them is refused. */
function groupVariableFlags(config: { concurrency?: { group: string } }): string {
  const names = config.concurrency ? concurrencyGroupVariables(config.concurrency.group) : [];
  return names.map((name) => ` -v ${name}=…`).join("");
}
