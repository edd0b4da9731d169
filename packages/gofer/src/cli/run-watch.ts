/**
 * `gofer run watch`: a live view of one run. Updates are driven by the event stream (a task's state is fetched
 * again only when an event names it); a slow periodic refresh covers a dropped stream or events that fired
 * between subscribing and the first read. Ends with the tail of every failed task's log and exits non-zero
 * unless the run succeeded, so scripts can `gofer run watch p && deploy`.
 */
import { eventOf, type GoferEvent, type Run, type TaskAttempt, type TaskExecution } from "@gofer/sdk/client";
import { nextAttemptAt, retryCauseOf } from "../domain/attempts.ts";
import type { CommandContext } from "./command-context.ts";
import type { Printer } from "./output/printer.ts";
import { formatDuration, spanDuration } from "./output/time-format.ts";
import { exitCell, inDagOrder, stateLabel } from "./task.ts";

/** Lines of each failed task's log shown at the end. */
const FAILED_LOG_TAIL = 20;
/** A fallback refresh, not a polling loop: events normally arrive long before it fires. */
const SAFETY_REFRESH_MS = 3000;
/** How often a terminal view redraws its clocks. */
const TICK_MS = 1000;

interface RunView {
  run: Run;
  tasks: TaskExecution[];
  /** The attempts before the current one, for each task tried more than once (oldest first). */
  earlier: Map<string, TaskAttempt[]>;
}

export async function watchRun(context: CommandContext, pipelineId: string, runId: number): Promise<void> {
  const { client, namespace, out } = context;
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.once("SIGINT", interrupt);
  const screen = new Screen(context, out.stdout.isTTY === true && !out.json);
  const reader = new ViewReader(context, pipelineId, runId);
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
    let view = await reader.read();
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
      view = await reader.read();
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
    if (out.json) out.result({ run: view.run, tasks: view.tasks }, () => []);
    else out.line(summary(context, view));
    if (view.run.status !== "successful") process.exitCode = 1;
  } finally {
    controller.abort();
    process.removeListener("SIGINT", interrupt);
  }
}

/** Reads the run and its tasks; a task's earlier attempts are fetched only when it has moved on to a new one. */
class ViewReader {
  readonly #context: CommandContext;
  readonly #pipelineId: string;
  readonly #runId: number;
  readonly #earlier = new Map<string, TaskAttempt[]>();

  constructor(context: CommandContext, pipelineId: string, runId: number) {
    this.#context = context;
    this.#pipelineId = pipelineId;
    this.#runId = runId;
  }

  async read(): Promise<RunView> {
    const { client, namespace } = this.#context;
    // The run first, then its tasks: a run is complete only once all of its tasks are, so the last view (the
    // one that ends the watch) always holds every task's end. Read together, the tasks could be the older answer.
    const run = await client.runs.get(namespace, this.#pipelineId, this.#runId);
    const tasks = await client.tasks.list(namespace, this.#pipelineId, this.#runId);
    const stale = tasks.filter((task) => (this.#earlier.get(task.task_id)?.length ?? 0) < task.attempt - 1);
    await Promise.all(
      stale.map(async (task) => {
        const attempts = await client.tasks.attempts(namespace, this.#pipelineId, this.#runId, task.task_id);
        this.#earlier.set(
          task.task_id,
          attempts.filter((attempt) => attempt.attempt < task.attempt),
        );
      }),
    );
    return { run, tasks: inDagOrder(tasks), earlier: new Map(this.#earlier) };
  }
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
 * On a terminal, the task table is redrawn in place; elsewhere (CI logs, pipes) each moment that matters is
 * printed as a line, so the output reads as a log: an attempt starting, an attempt ending, and a retry being
 * scheduled. Each is printed once, keyed by task, attempt and moment: the same state can be read many times
 * (one read per event and the fallback refresh), and an attempt that came and went between two reads is
 * reported from the task's kept attempts. JSON mode prints nothing until the end.
 */
class Screen {
  readonly #context: CommandContext;
  readonly live: boolean;
  #drawnLines = 0;
  #headerShown = false;
  readonly #printed = new Set<string>();

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
    if (!this.#headerShown) {
      out.line(header(this.#context, view));
      this.#headerShown = true;
    }
    for (const task of view.tasks) {
      for (const moment of moments(task, view.earlier.get(task.task_id) ?? [])) {
        const key = `${task.task_id}#${moment.key}`;
        if (this.#printed.has(key)) continue;
        this.#printed.add(key);
        out.line(`  ${task.task_id}: ${moment.text(out)}`);
      }
    }
  }

  /** The final frame on a terminal, so the table shows every task's end state. */
  finish(view: RunView): void {
    if (this.live) this.show(view);
  }

  #render(view: RunView): string[] {
    const { out } = this.#context;
    const retried = view.tasks.some((task) => task.attempt > 1);
    const rows = view.tasks.map((task) => [
      task.task_id,
      out.style.outcome(task.state === "complete" ? task.status : stateLabel(task)),
      spanDuration(task.started, task.ended),
      exitCell(task.exit_code, ""),
      ...(retried ? [String(task.attempt)] : []),
    ]);
    return [
      header(this.#context, view),
      ...out.table(["task", "state", "duration", "exit", ...(retried ? ["attempt"] : [])], rows).split("\n"),
    ];
  }
}

/** Something worth a line in a log, with the key (unique within its task) that makes sure it is printed once. */
interface Moment {
  key: string;
  text(out: Printer): string;
}

/**
 * The moments of one task so far, in order: for each earlier attempt its start, its end and the retry that
 * followed, then the current attempt's start and end. An attempt that never started (skipped, or cancelled
 * while waiting) has only its end.
 */
function moments(task: TaskExecution, earlier: TaskAttempt[]): Moment[] {
  const found: Moment[] = [];
  let previous: TaskAttempt | undefined;
  for (const attempt of earlier) {
    if (previous) found.push(...retryMoment(task, previous, attempt.attempt));
    if (attempt.started) found.push(startMoment(attempt.attempt));
    found.push({ key: `${attempt.attempt}:ended`, text: (out) => endText(out, attempt, attempt.attempt) });
    previous = attempt;
  }
  if (previous) found.push(...retryMoment(task, previous, task.attempt));
  // A start missed between two reads is still reported, before the end it led to.
  if (task.state === "running" || (task.state === "complete" && task.started))
    found.push(startMoment(task.attempt));
  if (task.state === "complete")
    found.push({ key: `${task.attempt}:ended`, text: (out) => endText(out, task, task.attempt) });
  return found;
}

const startMoment = (attempt: number): Moment => ({
  key: `${attempt}:running`,
  text: (out) => `${out.style.outcome("running")}${attemptSuffix(attempt)}`,
});

/**
 * The retry that follows a failed attempt when the task's policy asked for one. While the task waits, the
 * server says when the next attempt starts; once it has started, the same time follows from the policy.
 */
function retryMoment(task: TaskExecution, ended: TaskAttempt, next: number): Moment[] {
  const waiting = task.attempt === next && task.retry_at !== undefined ? task.retry_at : undefined;
  const retryAt =
    waiting ??
    nextAttemptAt(
      task.task.retries,
      ended.attempt,
      retryCauseOf(ended.status, ended.status_reason),
      ended.ended,
    );
  if (retryAt === undefined) return [];
  const delay = formatDuration(Math.max(0, retryAt - ended.ended));
  return [{ key: `${next}:retry`, text: () => `retrying in ${delay} (attempt ${next})` }];
}

/** `failed (exit 3, timeout) after 1.2s (attempt 2)`: how an attempt ended. */
function endText(
  out: Printer,
  ended: Pick<TaskAttempt, "status" | "exit_code" | "status_reason" | "started" | "ended">,
  attempt: number,
): string {
  const reason = ended.status_reason?.reason;
  const details = [
    ...(ended.exit_code === null ? [] : [`exit ${ended.exit_code}`]),
    ...(reason && reason !== "abnormal_exit" && ended.status !== "skipped" ? [reason] : []),
  ];
  const took = ended.started ? ` after ${spanDuration(ended.started, ended.ended)}` : "";
  const detail = details.length > 0 ? ` (${details.join(", ")})` : "";
  return `${out.style.outcome(ended.status)}${detail}${took}${attemptSuffix(attempt)}`;
}

const attemptSuffix = (attempt: number): string => (attempt > 1 ? ` (attempt ${attempt})` : "");

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
    out.line([
      "",
      out.style.paint("red", `── ${task.task_id} failed${attemptSuffix(task.attempt)}${reason}`),
    ]);
    if (total > tail.length) out.line(out.style.paint("dim", `… ${total - tail.length} earlier lines`));
    out.line(tail.length > 0 ? tail.map((line) => `  ${line}`) : [out.style.paint("dim", "  (no output)")]);
  }
}
