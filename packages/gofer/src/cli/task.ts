/** `gofer task …`: the task executions of a run, their logs, attaching to one, and cancelling one. */
import { topologicalOrder } from "@gofer/sdk";
import type { TaskAttempt, TaskExecution } from "@gofer/sdk/client";
import type { Command } from "commander";
import { positiveInteger } from "./arguments.ts";
import { type CommandContext, contextOf } from "./command-context.ts";
import { formatRetries } from "./output/controls-format.ts";
import { printLogLines } from "./output/log-lines.ts";
import type { Printer } from "./output/printer.ts";
import { formatResources } from "./output/resources-format.ts";
import { needsLineObjects, printTaskLogLines } from "./output/task-log-lines.ts";
import { formatDuration, spanDuration } from "./output/time-format.ts";
import { attachToTask } from "./task-attach.ts";

export function registerTaskCommands(program: Command): void {
  const task = program.command("task").description("Inspect a run's tasks and read their logs");

  task
    .command("list <pipeline> <run>")
    .description("List the tasks of a run")
    .action(async (pipelineId: string, runText: string, _options, command: Command) => {
      const context = contextOf(command);
      const tasks = await context.client.tasks.list(context.namespace, pipelineId, positiveInteger(runText));
      context.out.result(tasks, () => taskTable(context, tasks));
    });

  task
    .command("get <pipeline> <run> <task>")
    .description("Show one task execution, with its earlier attempts when it was tried more than once")
    .action(async (pipelineId: string, runText: string, taskId: string, _options, command: Command) => {
      const { client, out, namespace } = contextOf(command);
      const runId = positiveInteger(runText);
      const item = await client.tasks.get(namespace, pipelineId, runId, taskId);
      // Only people see the attempts table; the JSON stays the task execution as the API serves it.
      const attempts =
        item.attempt > 1 && !out.json
          ? await client.tasks.attempts(namespace, pipelineId, runId, taskId)
          : [];
      out.result(item, () => [
        ...out.fields([
          ["task", item.task_id],
          ["image", item.task.image],
          ...(item.task.resources
            ? [["resources", formatResources(item.task.resources)] as [string, string]]
            : []),
          ...(item.task.timeout ? [["timeout", item.task.timeout] as [string, string]] : []),
          ...(item.task.retries ? [["retries", formatRetries(item.task.retries)] as [string, string]] : []),
          ["attempt", String(item.attempt)],
          ["state", stateLabel(item)],
          ["status", out.style.outcome(item.status)],
          ...out.reasonRow(item.status_reason),
          ["exit code", exitCell(item.exit_code, "-")],
          ["started", out.time(item.started)],
          ["duration", spanDuration(item.started, item.ended)],
          ["logs", item.logs_removed ? "removed" : item.logs_expired ? "expired" : "kept"],
        ]),
        ...(attempts.length > 1 ? ["", out.table(ATTEMPT_HEADERS, attemptRows(out, item, attempts))] : []),
      ]);
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
    .description(
      "Print a task's log (stdout and stderr, in order, stderr lines in red on a terminal); its latest " +
        "attempt's unless --attempt. With --output json, one object per line: {line, stream, time}",
    )
    .option("-f, --follow", "keep printing new lines until the task (or that attempt) ends")
    .option("-t, --timestamps", "put the time each line arrived before it (UTC; - where the log has none)")
    .option(
      "-a, --attempt <n>",
      "read this attempt's log (see `gofer task get` for the attempts)",
      positiveInteger,
    )
    .action(
      async (
        pipelineId: string,
        runText: string,
        taskId: string,
        options: { follow?: boolean; attempt?: number; timestamps?: boolean },
        command: Command,
      ) => {
        const { client, out, namespace } = contextOf(command);
        const runId = positiveInteger(runText);
        const follow = options.follow ?? false;
        const { attempt } = options;
        const print = { timestamps: options.timestamps ?? false };
        if (!needsLineObjects(out, print)) {
          await printLogLines(out, (signal) =>
            client.tasks.logs(namespace, pipelineId, runId, taskId, { follow, attempt, signal }),
          );
          return;
        }
        await printTaskLogLines(out, print, (signal) =>
          client.tasks.logs(namespace, pipelineId, runId, taskId, {
            follow,
            attempt,
            signal,
            format: "lines",
          }),
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

/**
 * The tasks of a run as a table (parents first): state, status, duration and exit code, and an attempt column
 * once any task was tried more than once.
 */
export function taskTable({ out }: CommandContext, tasks: TaskExecution[]): string {
  const retried = tasks.some((item) => item.attempt > 1);
  const rows = inDagOrder(tasks).map((item) => [
    item.task_id,
    stateLabel(item),
    out.style.outcome(item.status),
    spanDuration(item.started, item.ended),
    exitCell(item.exit_code, "-"),
    ...(retried ? [String(item.attempt)] : []),
  ]);
  return out.table(["task", "state", "status", "duration", "exit", ...(retried ? ["attempt"] : [])], rows);
}

/** A task's state, saying when its next attempt starts while it waits out a retry delay. */
export function stateLabel(item: TaskExecution, now = Date.now()): string {
  if (item.state === "waiting" && item.retry_at !== undefined)
    return `waiting (attempt ${item.attempt} in ${formatDuration(Math.max(0, item.retry_at - now))})`;
  return item.state;
}

export function exitCell(exitCode: number | null | undefined, none: string): string {
  return exitCode === null || exitCode === undefined ? none : String(exitCode);
}

const ATTEMPT_HEADERS = ["attempt", "status", "exit", "reason", "duration"];

/** One row per attempt, oldest first; the current one shows the task's state until it ends. */
function attemptRows(out: Printer, item: TaskExecution, attempts: TaskAttempt[]): string[][] {
  return attempts.map((attempt) => {
    const current = attempt.attempt === item.attempt && item.state !== "complete";
    return [
      String(attempt.attempt),
      out.style.outcome(current ? item.state : attempt.status),
      exitCell(attempt.exit_code, "-"),
      attempt.status_reason?.reason ?? "-",
      spanDuration(attempt.started, attempt.ended),
    ];
  });
}
