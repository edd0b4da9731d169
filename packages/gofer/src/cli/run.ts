/** `gofer run …`: starting, listing, inspecting, cancelling and watching runs. */
import type { Command } from "commander";
import { collectVariable, nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { type CommandContext, contextOf } from "./command-context.ts";
import { registerRunObjectCommands } from "./object.ts";
import { spanDuration } from "./output/time-format.ts";
import { watchRun } from "./run-watch.ts";
import { taskRows } from "./task.ts";

export function registerRunCommands(program: Command): void {
  const run = program.command("run").description("Start, inspect and cancel runs");

  run
    .command("start <pipeline>")
    .description("Start a run of the pipeline's live version")
    .option("-v, --variable <KEY=VALUE>", "run variable (repeatable)", collectVariable)
    .option("-w, --watch", "follow the run until it ends, like `gofer run watch`")
    .action(startRunAction);

  run
    .command("list <pipeline>")
    .description("List a pipeline's runs, newest first")
    .option("-l, --limit <n>", "how many runs", positiveInteger, 10)
    .option("-o, --offset <n>", "skip this many of the newest runs", nonNegativeInteger, 0)
    .option("--oldest-first", "list oldest first")
    .action(
      async (
        pipelineId: string,
        options: { limit: number; offset: number; oldestFirst?: boolean },
        command: Command,
      ) => {
        const { client, out, namespace } = contextOf(command);
        const runs = await client.runs.list(namespace, pipelineId, {
          limit: options.limit,
          offset: options.offset,
          reverse: !options.oldestFirst,
        });
        out.result(runs, () =>
          out.table(
            ["run", "state", "status", "started", "duration", "version"],
            runs.map((item) => [
              String(item.run_id),
              item.state,
              out.style.outcome(item.status),
              out.time(item.started),
              spanDuration(item.started, item.ended),
              String(item.pipeline_config_version),
            ]),
          ),
        );
      },
    );

  run
    .command("get <pipeline> <run>")
    .description("Show a run and its tasks")
    .action(async (pipelineId: string, runText: string, _options, command: Command) => {
      const context = contextOf(command);
      const { client, out, namespace } = context;
      const runId = positiveInteger(runText);
      const [item, tasks] = await Promise.all([
        client.runs.get(namespace, pipelineId, runId),
        client.tasks.list(namespace, pipelineId, runId),
      ]);
      out.result({ run: item, task_executions: tasks }, () => [
        ...out.fields([
          ["run", `${item.run_id} of ${item.pipeline_id} (version ${item.pipeline_config_version})`],
          ["state", item.state],
          ["status", out.style.outcome(item.status)],
          ...out.reasonRow(item.status_reason),
          ["started", out.time(item.started)],
          ["duration", spanDuration(item.started, item.ended)],
        ]),
        "",
        out.table(["task", "state", "status", "duration", "exit"], taskRows(context, tasks)),
      ]);
    });

  run
    .command("cancel <pipeline> <run>")
    .description("Cancel a run: running tasks are stopped, the rest never start")
    .action(async (pipelineId: string, runText: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const runId = positiveInteger(runText);
      await client.runs.cancel(namespace, pipelineId, runId);
      out.result({ cancelled: runId }, () => `Cancelling run ${runId} of ${pipelineId}`);
    });

  run
    .command("logs <pipeline> [run]")
    .description("Print the logs of every task of a run (default: the newest), task by task in start order")
    .action(async (pipelineId: string, runText: string | undefined, _options, command: Command) => {
      const context = contextOf(command);
      const { client, out, namespace } = context;
      const runId = runText === undefined ? await newestRunId(context, pipelineId) : positiveInteger(runText);
      const tasks = await client.tasks.list(namespace, pipelineId, runId);
      const ordered = [...tasks].sort(
        (a, b) => (a.started || Number.MAX_SAFE_INTEGER) - (b.started || Number.MAX_SAFE_INTEGER),
      );
      for (const task of ordered) {
        const label = task.state === "complete" ? task.status : task.state;
        if (out.json) {
          for await (const line of client.tasks.logs(namespace, pipelineId, runId, task.task_id))
            out.stdout.write(`${JSON.stringify({ task_id: task.task_id, line })}\n`);
          continue;
        }
        out.line(out.style.paint("bold", `── ${task.task_id} (${out.style.outcome(label)})`));
        let printed = 0;
        for await (const line of client.tasks.logs(namespace, pipelineId, runId, task.task_id)) {
          out.stdout.write(`${line}\n`);
          printed += 1;
        }
        if (printed === 0) out.line(out.style.paint("dim", "(no output)"));
      }
    });

  run
    .command("watch <pipeline> [run]")
    .description("Follow a run live (default: the newest) and exit non-zero unless it succeeds")
    .action(async (pipelineId: string, runText: string | undefined, _options, command: Command) => {
      const context = contextOf(command);
      const runId = runText === undefined ? await newestRunId(context, pipelineId) : positiveInteger(runText);
      await watchRun(context, pipelineId, runId);
    });

  registerRunObjectCommands(run);
}

/** Shared by `run start` and `pipeline run`. */
export async function startRunAction(
  pipelineId: string,
  options: { variable?: Record<string, string>; watch?: boolean },
  command: Command,
): Promise<void> {
  const context = contextOf(command);
  const { client, out, namespace } = context;
  const item = await client.runs.start(namespace, pipelineId, options.variable ?? {});
  if (options.watch) {
    if (!out.json) out.note(`Started run ${item.run_id} of ${pipelineId}`);
    await watchRun(context, pipelineId, item.run_id);
    return;
  }
  out.result(item, () => [
    `Started run ${item.run_id} of ${pipelineId} (${item.state})`,
    out.style.paint("dim", `  watch it:  gofer run watch ${pipelineId} ${item.run_id}`),
  ]);
}

async function newestRunId({ client, namespace }: CommandContext, pipelineId: string): Promise<number> {
  const [newest] = await client.runs.list(namespace, pipelineId, { limit: 1, reverse: true });
  if (!newest)
    throw new CliError(`pipeline ${pipelineId} has no runs yet`, {
      hint: `start one: gofer run start ${pipelineId}`,
    });
  return newest.run_id;
}
