/**
 * `gofer run watch`: a live view of one run. Updates are driven by the event stream (a task's state is fetched
 * again only when an event names it); a slow periodic refresh covers a dropped stream or events that fired
 * between subscribing and the first read. Ends with the tail of every failed task's log and exits non-zero
 * unless the run succeeded, so scripts can `gofer run watch p && deploy`.
 */
import { eventOf, type GoferEvent, type Run, type TaskExecution } from "@gofer/sdk/client";
import type { CommandContext } from "./command-context.ts";
import { formatDuration, spanDuration } from "./output/time-format.ts";
import { inDagOrder } from "./task.ts";

/** Lines of each failed task's log shown at the end. */
const FAILED_LOG_TAIL = 20;
/** A fallback refresh, not a polling loop: events normally arrive long before it fires. */
const SAFETY_REFRESH_MS = 3000;
/** How often a terminal view redraws its clocks. */
const TICK_MS = 1000;

interface RunView {
  run: Run;
  tasks: TaskExecution[];
}

export async function watchRun(context: CommandContext, pipelineId: string, runId: number): Promise<void> {
  const { client, namespace, out } = context;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
  const screen = new Screen(context, out.stdout.isTTY === true && !out.json);
  try {
    // Subscribe before the first read: an event after the read is then never missed.
    const events = client.events
      .stream({ history: false, signal: controller.signal })
      [Symbol.asyncIterator]();
    // The read in flight when the watch ends is rejected by the abort below; nobody awaits it then.
    const nextEvent = () => {
      const next = events.next();
      next.catch(() => undefined);
      return next;
    };
    let pending = nextEvent();
    let view = await readView(context, pipelineId, runId);
    let readAt = Date.now();
    screen.show(view);
    while (view.run.state !== "complete") {
      // On a terminal the clock ticks every second so running durations move; the state is re-read only on an
      // event about this run or, as a fallback, when nothing was read for a while.
      const next = await Promise.race([
        pending,
        sleep(screen.live ? TICK_MS : SAFETY_REFRESH_MS, controller.signal),
      ]);
      if (controller.signal.aborted) break;
      if (next !== undefined) {
        if (next.done) {
          // The stream ended (server restarting?): keep watching by periodic refresh only.
          pending = new Promise<never>(() => undefined);
        } else {
          pending = nextEvent();
          if (!concernsRun(next.value, namespace, pipelineId, runId)) continue;
        }
      } else if (Date.now() - readAt < SAFETY_REFRESH_MS) {
        screen.show(view);
        continue;
      }
      view = await readView(context, pipelineId, runId);
      readAt = Date.now();
      screen.show(view);
    }
    void events.return?.();
    if (controller.signal.aborted) {
      out.note(`Stopped watching; run ${runId} goes on. Resume with: gofer run watch ${pipelineId} ${runId}`);
      process.exitCode = 130;
      return;
    }
    screen.finish(view);
    await printFailedLogs(context, pipelineId, view);
    if (out.json) out.result(view, () => []);
    else out.line(summary(context, view));
    if (view.run.status !== "successful") process.exitCode = 1;
  } finally {
    controller.abort();
    process.removeListener("SIGINT", interrupt);
  }
}

async function readView(
  { client, namespace }: CommandContext,
  pipelineId: string,
  runId: number,
): Promise<RunView> {
  const [run, tasks] = await Promise.all([
    client.runs.get(namespace, pipelineId, runId),
    client.tasks.list(namespace, pipelineId, runId),
  ]);
  return { run, tasks: inDagOrder(tasks) };
}

function concernsRun(event: GoferEvent, namespace: string, pipelineId: string, runId: number): boolean {
  const { details } = eventOf(event);
  return (
    "run_id" in details &&
    details.namespace_id === namespace &&
    details.pipeline_id === pipelineId &&
    details.run_id === runId
  );
}

function sleep(ms: number, signal: AbortSignal): Promise<undefined> {
  return new Promise<undefined>((resolve) => {
    const done = () => resolve(undefined);
    const timer = setTimeout(done, ms);
    signal.addEventListener(
      "abort",
      () => {
        clearTimeout(timer);
        resolve(undefined);
      },
      { once: true },
    );
  });
}

/**
 * On a terminal, the task table is redrawn in place; elsewhere (CI logs, pipes) each task state change is
 * printed once as a line, so the output reads as a log. JSON mode prints nothing until the end.
 */
class Screen {
  readonly #context: CommandContext;
  readonly live: boolean;
  #drawnLines = 0;
  readonly #reported = new Map<string, string>();

  constructor(context: CommandContext, live: boolean) {
    this.#context = context;
    this.live = live;
  }

  show(view: RunView): void {
    const { out } = this.#context;
    if (out.json) return;
    if (this.live) {
      const lines = this.#render(view);
      const stdout = out.stdout;
      if (this.#drawnLines > 0) stdout.write(`\u001b[${this.#drawnLines}F\u001b[0J`);
      stdout.write(`${lines.join("\n")}\n`);
      this.#drawnLines = lines.length;
      return;
    }
    if (this.#reported.size === 0) out.line(header(this.#context, view));
    for (const task of view.tasks) {
      // In a log, only the moments that matter: a task starting and a task ending.
      if (task.state !== "running" && task.state !== "complete") continue;
      const label = task.state === "complete" ? task.status : task.state;
      if (this.#reported.get(task.task_id) === label) continue;
      this.#reported.set(task.task_id, label);
      const exit = task.state === "complete" && task.exit_code !== null ? ` (exit ${task.exit_code})` : "";
      const took =
        task.state === "complete" && task.started ? ` after ${spanDuration(task.started, task.ended)}` : "";
      out.line(`  ${task.task_id}: ${out.style.outcome(label)}${exit}${took}`);
    }
  }

  /** The final frame on a terminal, so the table shows every task's end state. */
  finish(view: RunView): void {
    if (this.live) this.show(view);
  }

  #render(view: RunView): string[] {
    const { out } = this.#context;
    const rows = view.tasks.map((task) => [
      task.task_id,
      out.style.outcome(task.state === "complete" ? task.status : task.state),
      spanDuration(task.started, task.ended),
      task.exit_code === null || task.exit_code === undefined ? "" : String(task.exit_code),
    ]);
    return [
      header(this.#context, view),
      ...out.table(["task", "state", "duration", "exit"], rows).split("\n"),
    ];
  }
}

function header({ out }: CommandContext, { run }: RunView): string {
  const state = run.state === "complete" ? run.status : run.state;
  return `${out.style.paint("bold", `Run ${run.run_id} of ${run.pipeline_id}`)} (version ${run.pipeline_config_version}): ${out.style.outcome(state)}  ${spanDuration(run.started, run.ended)}`;
}

function summary({ out }: CommandContext, { run, tasks }: RunView): string {
  const took = run.started ? ` in ${formatDuration(run.ended - run.started)}` : "";
  const counts = new Map<string, number>();
  for (const task of tasks) counts.set(task.status, (counts.get(task.status) ?? 0) + 1);
  const breakdown = [...counts].map(([status, count]) => `${count} ${status}`).join(", ");
  const reason =
    run.status_reason && run.status !== "successful" ? ` — ${run.status_reason.description}` : "";
  return `Run ${run.run_id} ${out.style.outcome(run.status)}${took} (${breakdown})${reason}`;
}

async function printFailedLogs(
  { client, namespace, out }: CommandContext,
  pipelineId: string,
  view: RunView,
) {
  if (out.json) return;
  for (const task of view.tasks) {
    if (task.status !== "failed") continue;
    const tail: string[] = [];
    let total = 0;
    try {
      for await (const line of client.tasks.logs(namespace, pipelineId, view.run.run_id, task.task_id)) {
        tail.push(line);
        total += 1;
        if (tail.length > FAILED_LOG_TAIL) tail.shift();
      }
    } catch (error) {
      out.line(
        out.style.paint("dim", `(the log of ${task.task_id} could not be read: ${(error as Error).message})`),
      );
      continue;
    }
    const reason = task.status_reason ? `: ${task.status_reason.description}` : "";
    out.line(["", out.style.paint("red", `── ${task.task_id} failed${reason}`)]);
    if (total > tail.length) out.line(out.style.paint("dim", `… ${total - tail.length} earlier lines`));
    out.line(tail.length > 0 ? tail.map((line) => `  ${line}`) : [out.style.paint("dim", "  (no output)")]);
  }
}
