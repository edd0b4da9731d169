/** `gofer run …`: starting, listing, inspecting, cancelling, retrying and watching runs. */
import { GoferApiError, RUN_LIST_STATUSES, type Run, type RunListStatus } from "@gofer/sdk/client";
import { type Command, Option } from "commander";
import { collectVariable, nonNegativeInteger, positiveInteger } from "./arguments.ts";
import { CliError } from "./cli-error.ts";
import { type CommandContext, contextOf } from "./command-context.ts";
import { registerRunObjectCommands } from "./object.ts";
import { spanDuration } from "./output/time-format.ts";
import { watchRun } from "./run-watch.ts";
import { inDagOrder, taskTable } from "./task.ts";

export function registerRunCommands(program: Command): void {
  const run = program.command("run").description("Start, inspect, cancel and retry runs");

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
    .addOption(
      new Option("-s, --status <status>", "only the runs pending, running or ended so").choices(
        RUN_LIST_STATUSES,
      ),
    )
    .action(
      async (
        pipelineId: string,
        options: { limit: number; offset: number; oldestFirst?: boolean; status?: RunListStatus },
        command: Command,
      ) => {
        const context = contextOf(command);
        const { client, out, namespace } = context;
        const runs = await client.runs.list(namespace, pipelineId, {
          limit: options.limit,
          offset: options.offset,
          reverse: !options.oldestFirst,
          ...(options.status !== undefined && { status: options.status }),
        });
        const retried = runs.some((item) => item.retries !== undefined);
        out.result(runs, () =>
          out.table(
            [
              "run",
              "state",
              "status",
              "started",
              "duration",
              "version",
              "started by",
              ...(retried ? ["retries"] : []),
            ],
            runs.map((item) => [
              String(item.run_id),
              item.state,
              runStatusLabel(context, item),
              out.time(item.started),
              spanDuration(item.started, item.ended),
              String(item.pipeline_config_version),
              item.initiator.user,
              ...(retried ? [String(item.retries ?? 0)] : []),
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
          ["started by", item.initiator.user],
          ["token", item.initiator.id],
          ...(item.retries === undefined ? [] : [["retries", String(item.retries)] as [string, string]]),
          ...(item.concurrency_group === undefined
            ? []
            : [["concurrency", item.concurrency_group] as [string, string]]),
          ["started", out.time(item.started)],
          ["duration", spanDuration(item.started, item.ended)],
        ]),
        "",
        taskTable(context, tasks),
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
    .command("retry <pipeline> <run>")
    .description(
      "Run a failed or cancelled run again, in place: its tasks that did not succeed start over as a new " +
        "attempt, successful ones and their logs are kept",
    )
    .option("-w, --watch", "follow the run until it ends, like `gofer run watch`")
    .action(retryRunAction);

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

async function retryRunAction(
  pipelineId: string,
  runText: string,
  options: { watch?: boolean },
  command: Command,
): Promise<void> {
  const context = contextOf(command);
  const { client, out, namespace } = context;
  const runId = positiveInteger(runText);
  // Read first: which tasks go again is decided by how they ended, and a refusal is explained by the run's state.
  const [before, tasks] = await Promise.all([
    client.runs.get(namespace, pipelineId, runId),
    client.tasks.list(namespace, pipelineId, runId),
  ]);
  let item: Run;
  try {
    item = await client.runs.retry(namespace, pipelineId, runId);
  } catch (error) {
    if (error instanceof GoferApiError && error.status === 409)
      throw new CliError(`cannot retry run ${runId} of ${pipelineId}: ${error.message}`, {
        hint:
          before.state === "complete"
            ? `only a failed or cancelled run can be retried; start a new one with: gofer run start ${pipelineId}`
            : `only a failed or cancelled run can be retried; wait for it to end (gofer run watch ${pipelineId} ${runId}) or cancel it`,
      });
    throw error;
  }
  const again = inDagOrder(tasks).filter((task) => task.status !== "successful");
  const kept = tasks.length - again.length;
  if (options.watch) {
    if (!out.json)
      out.note(`Retrying run ${runId} of ${pipelineId}: ${again.map((task) => task.task_id).join(", ")}`);
    await watchRun(context, pipelineId, runId);
    return;
  }
  out.result(item, () => [
    `Run ${runId} of ${pipelineId} is queued again (retry ${item.retries ?? 1})`,
    ...out.fields([
      [
        "runs again",
        again.length === 0
          ? "-"
          : again
              .map((task) => `${task.task_id} (attempt ${task.attempt + 1}, was ${task.status})`)
              .join(", "),
      ],
      ["kept", kept === 0 ? "-" : `${kept} successful task${kept === 1 ? "" : "s"}`],
    ]),
    out.style.paint("dim", `  watch it:  gofer run watch ${pipelineId} ${runId}`),
  ]);
}

/** A run's status, with the reason when the status alone does not tell it (a timeout, a newer run). */
function runStatusLabel({ out }: CommandContext, item: Run): string {
  const reason = item.status_reason?.reason;
  const telling = reason === "timeout" || reason === "superseded" || reason === "scheduler_error";
  return `${out.style.outcome(item.status)}${telling ? ` (${reason})` : ""}`;
}

async function newestRunId({ client, namespace }: CommandContext, pipelineId: string): Promise<number> {
  const [newest] = await client.runs.list(namespace, pipelineId, { limit: 1, reverse: true });
  if (!newest)
    throw new CliError(`pipeline ${pipelineId} has no runs yet`, {
      hint: `start one: gofer run start ${pipelineId}`,
    });
  return newest.run_id;
}
