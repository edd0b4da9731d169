/** `gofer task …`: the task executions of a run, their logs, attaching to one, and cancelling one. */
import { topologicalOrder } from "@gofer/sdk";
import type { TaskExecution } from "@gofer/sdk/client";
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { type CommandContext, contextOf } from "./command-context.ts";
import { printLogLines } from "./output/log-lines.ts";
import { formatResources } from "./output/resources-format.ts";
import { spanDuration } from "./output/time-format.ts";
import { attachToTask } from "./task-attach.ts";

export function registerTaskCommands(program: Command): void {
  const task = program.command("task").description("Inspect a run's tasks and read their logs");

  task
    .command("list <pipeline> <run>")
    .description("List the tasks of a run")
    .action(async (pipelineId: string, runText: string, _options, command: Command) => {
      const context = contextOf(command);
      const tasks = await context.client.tasks.list(context.namespace, pipelineId, positiveInteger(runText));
      context.out.result(tasks, () =>
        context.out.table(["task", "state", "status", "duration", "exit"], taskRows(context, tasks)),
      );
    });

  task
    .command("get <pipeline> <run> <task>")
    .description("Show one task execution")
    .action(async (pipelineId: string, runText: string, taskId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const item = await client.tasks.get(namespace, pipelineId, positiveInteger(runText), taskId);
      out.result(item, () =>
        out.fields([
          ["task", item.task_id],
          ["image", item.task.image],
          ...(item.task.resources
            ? [["resources", formatResources(item.task.resources)] as [string, string]]
            : []),
          ["state", item.state],
          ["status", out.style.outcome(item.status)],
          ...out.reasonRow(item.status_reason),
          [
            "exit code",
            item.exit_code === null || item.exit_code === undefined ? "-" : String(item.exit_code),
          ],
          ["started", out.time(item.started)],
          ["duration", spanDuration(item.started, item.ended)],
          ["logs", item.logs_removed ? "removed" : item.logs_expired ? "expired" : "kept"],
        ]),
      );
    });

  task
    .command("cancel <pipeline> <run> <task>")
    .description("Stop one running task (its dependents react as to a cancelled parent)")
    .action(async (pipelineId: string, runText: string, taskId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      await client.tasks.cancel(namespace, pipelineId, positiveInteger(runText), taskId);
      out.result({ cancelled: taskId }, () => `Cancelling task ${taskId}`);
    });

  task
    .command("attach <pipeline> <run> <task>")
    .description(
      "Run a shell (or --command) inside a running task's container, connected to this terminal; with piped " +
        "input, send it and print the output. Exits with the command's exit code",
    )
    .option("-c, --command <command>", "command line to run (quotes work; nothing is expanded)", "/bin/sh")
    .action(
      async (
        pipelineId: string,
        runText: string,
        taskId: string,
        options: { command: string },
        command: Command,
      ) => {
        const context = contextOf(command);
        const runId = positiveInteger(runText);
        process.exitCode = await attachToTask(context, {
          pipelineId,
          runId,
          taskId,
          command: options.command,
        });
      },
    );

  task
    .command("logs <pipeline> <run> <task>")
    .description("Print a task's log (stdout and stderr, in order)")
    .option("-f, --follow", "keep printing new lines until the task ends")
    .action(
      async (
        pipelineId: string,
        runText: string,
        taskId: string,
        options: { follow?: boolean },
        command: Command,
      ) => {
        const { client, out, namespace } = contextOf(command);
        const runId = positiveInteger(runText);
        const follow = options.follow ?? false;
        await printLogLines(out, (signal) =>
          client.tasks.logs(namespace, pipelineId, runId, taskId, { follow, signal }),
        );
      },
    );
}

/** Tasks in the order they can run (parents first), ties in id order, so listings read like the graph. */
export function inDagOrder(tasks: TaskExecution[]): TaskExecution[] {
  const byId = new Map(tasks.map((task) => [task.task_id, task]));
  try {
    const nodes = [...tasks]
      .sort((a, b) => a.task_id.localeCompare(b.task_id))
      .map((task) => ({ id: task.task_id, depends_on: task.task.depends_on }));
    return topologicalOrder(nodes).flatMap((id) => byId.get(id) ?? []);
  } catch {
    // A run's tasks always form a valid graph; should one not, the server's order is still a fine listing.
    return tasks;
  }
}

/** One table row per task: id, state, status (coloured), duration and exit code. */
export function taskRows({ out }: CommandContext, tasks: TaskExecution[]): string[][] {
  return inDagOrder(tasks).map((item) => [
    item.task_id,
    item.state,
    out.style.outcome(item.status),
    spanDuration(item.started, item.ended),
    item.exit_code === null || item.exit_code === undefined ? "-" : String(item.exit_code),
  ]);
}
