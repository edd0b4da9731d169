/**
 * After the chaos: waits for every run to finish, then checks each run, task, log and container against what
 * the pipeline descriptions say must have happened, collecting figures and a list of violations.
 */
import type { GoferClient, Run, TaskExecution } from "@gofer/sdk/client";
import type { EventWatch } from "./engine.ts";
import { addFigures, checkLog, emptyFigures, type LogFigures } from "./log-check.ts";
import { expectedRun, PIPELINES } from "./pipelines.ts";

/** What the harness knows about the runs it asked for, per pipeline. */
export interface StartRecord {
  attempts: number;
  /** Run ids the server acknowledged (201), with when the answer arrived. */
  acknowledged: Map<number, number>;
  /** Requests a kill cut off: the run may or may not exist. */
  interrupted: number;
}

export interface Verification {
  runs: number;
  tasks: number;
  runsByStatus: Record<string, number>;
  tasksByStatus: Record<string, number>;
  logs: LogFigures;
  /** Container `create` events of this instance since the chaos began. */
  created: number;
  /** Container `start` events of this instance since the chaos began. */
  started: number;
  /** Task executions whose containers were started more than once in all: the task ran twice. */
  ranTwice: number;
  /** Task executions with more than one container created, though at most one was started. */
  extraCreates: number;
  /** Tasks that should have run but no container was ever created. */
  neverCreated: number;
  /** Containers created for skipped tasks, or for runs/tasks that do not exist. */
  strayCreates: number;
  /** Runs started before a kill and finished after it. */
  runsThroughKills: number;
  violations: string[];
}

const NS = "default";

export async function listAllRuns(client: GoferClient, pipelineId: string): Promise<Run[]> {
  const runs: Run[] = [];
  for (;;) {
    const page = await client.runs.list(NS, pipelineId, { limit: 1000, offset: runs.length });
    runs.push(...page);
    if (page.length < 1000) return runs;
  }
}

export interface Completion {
  /** Runs still incomplete when waiting stopped; empty when every run finished. */
  incomplete: string[];
  /** Why waiting stopped early: nothing had changed for `stallMs`. */
  stalled: boolean;
}

/**
 * Polls until every run of the test's pipelines is complete. Gives up at `deadline`, or sooner once no run or
 * task has changed state for `stallMs` (tasks last seconds; a minute of stillness means nothing will move).
 * `alive` is checked each round so a dead server fails fast.
 */
export async function waitForCompletion(
  client: GoferClient,
  deadline: number,
  stallMs: number,
  alive: () => string | undefined,
  signal: AbortSignal,
): Promise<Completion> {
  let last = "";
  let lastChange = Date.now();
  for (;;) {
    signal.throwIfAborted();
    const incomplete: string[] = [];
    const fingerprint: string[] = [];
    for (const spec of PIPELINES) {
      for (const run of await listAllRuns(client, spec.id)) {
        if (run.state === "complete") continue;
        const tasks = await client.tasks.list(NS, spec.id, run.run_id);
        const states = tasks.map((task) => `${task.task_id} ${task.state}`).join(", ");
        incomplete.push(`${spec.id} run ${run.run_id} (${run.state}; ${states})`);
        fingerprint.push(`${spec.id}/${run.run_id}/${run.state}/${states}`);
      }
    }
    if (incomplete.length === 0) return { incomplete, stalled: false };
    const now = Date.now();
    if (fingerprint.join("|") !== last) {
      last = fingerprint.join("|");
      lastChange = now;
    }
    if (now > deadline) return { incomplete, stalled: false };
    if (now - lastChange > stallMs) return { incomplete, stalled: true };
    const dead = alive();
    if (dead) throw new Error(`the server ${dead} while runs were finishing`);
    await new Promise((wake) => setTimeout(wake, 1000));
  }
}

export interface VerifyInput {
  client: GoferClient;
  url: string;
  token: string;
  /** Container events of this server's instance, watched since before the first run. */
  events: EventWatch;
  starts: Map<string, StartRecord>;
  killTimes: number[];
}

export async function verify(input: VerifyInput): Promise<Verification> {
  const { client, starts, killTimes } = input;
  const result: Verification = {
    runs: 0,
    tasks: 0,
    runsByStatus: {},
    tasksByStatus: {},
    logs: emptyFigures(),
    created: 0,
    started: 0,
    ranTwice: 0,
    extraCreates: 0,
    neverCreated: 0,
    strayCreates: 0,
    runsThroughKills: 0,
    violations: [],
  };
  const violation = (text: string) => result.violations.push(text);
  const broken = input.events.broken();
  if (broken) violation(`container counts are incomplete: ${broken}`);
  const creates = countEvents(input.events, "create");
  const startsOf = countEvents(input.events, "start");
  for (const count of creates.values()) result.created += count;
  for (const count of startsOf.values()) result.started += count;
  const known = new Set<string>();

  for (const spec of PIPELINES) {
    const expected = expectedRun(spec);
    const record = starts.get(spec.id) ?? { attempts: 0, acknowledged: new Map(), interrupted: 0 };
    const runs = await listAllRuns(client, spec.id);
    const ids = new Set(runs.map((run) => run.run_id));
    runs.forEach((run, index) => {
      if (run.run_id !== index + 1)
        violation(`${spec.id}: run ids are not 1..${runs.length} (found ${run.run_id})`);
    });
    if (runs.length > record.attempts) {
      violation(`${spec.id}: ${runs.length} runs exist but only ${record.attempts} were requested`);
    }
    for (const id of record.acknowledged.keys()) {
      if (!ids.has(id)) violation(`${spec.id} run ${id}: acknowledged (201) but lost after a crash`);
    }

    for (const run of runs) {
      const where = `${spec.id} run ${run.run_id}`;
      result.runs += 1;
      const label = run.state === "complete" ? run.status : `(${run.state})`;
      result.runsByStatus[label] = (result.runsByStatus[label] ?? 0) + 1;
      const startedAt = record.acknowledged.get(run.run_id);
      if (startedAt !== undefined) {
        const endedAt = run.state === "complete" ? run.ended : Number.POSITIVE_INFINITY;
        if (killTimes.some((kill) => kill > startedAt && kill < endedAt)) result.runsThroughKills += 1;
      }
      const executions = await client.tasks.list(NS, spec.id, run.run_id);
      const byId = new Map(executions.map((execution) => [execution.task_id, execution]));
      if (run.state !== "complete") {
        const states = executions.map((execution) => `${execution.task_id} ${execution.state}`).join(", ");
        violation(`${where}: still ${run.state}, expected complete (tasks: ${states})`);
      } else if (run.status !== expected.status) {
        violation(`${where}: status ${run.status}, expected ${expected.status} (${reasonOf(run)})`);
      }

      for (const taskSpec of spec.tasks) {
        const want = expected.tasks[taskSpec.id];
        const execution = byId.get(taskSpec.id);
        const key = `${spec.id}/${run.run_id}/${taskSpec.id}`;
        known.add(key);
        if (!want) continue;
        result.tasks += 1;
        const at = `${where} task ${taskSpec.id}`;
        if (!execution) {
          violation(`${at}: missing from the run`);
          continue;
        }
        const complete = execution.state === "complete";
        const status = complete ? execution.status : `(${execution.state})`;
        result.tasksByStatus[status] = (result.tasksByStatus[status] ?? 0) + 1;
        // An unfinished task of an unfinished run is already named in the run's violation.
        if (!complete && run.state === "complete")
          violation(`${at}: still ${execution.state} in a complete run`);
        if (complete && execution.attempt !== want.attempts) {
          violation(`${at}: ended on attempt ${execution.attempt}, expected attempt ${want.attempts}`);
        }
        if (complete && (execution.status !== want.status || execution.exit_code !== want.exitCode)) {
          violation(
            `${at}: ${execution.status} with exit code ${execution.exit_code}, expected ${want.status} with ` +
              `exit code ${want.exitCode} (${reasonOf(execution)})`,
          );
        }

        const created = creates.get(key) ?? 0;
        const started = startsOf.get(key) ?? 0;
        // Each attempt is one container: a retried task starts one per attempt, and never one twice.
        const wantCreates = want.status === "skipped" ? 0 : want.attempts;
        if (started > wantCreates && wantCreates > 0) result.ranTwice += 1;
        else if (created > wantCreates) result.extraCreates += 1;
        if (wantCreates === 0) result.strayCreates += created;
        if (complete && wantCreates === 1 && created === 0) result.neverCreated += 1;
        // A container created just before a kill and never started ran nothing: recovery removes it and starts
        // the task afresh. It is counted (extraCreates) but allowed; a second start is what must never happen.
        if (
          started > wantCreates ||
          (wantCreates === 0 && created > 0) ||
          (complete && started < wantCreates)
        ) {
          violation(
            `${at}: ${created} container(s) created and ${started} start(s), expected ${wantCreates}` +
              (started > wantCreates && wantCreates > 0 ? " (an attempt ran twice)" : ""),
          );
        }

        const text = await readLog(input, spec.id, run.run_id, taskSpec.id);
        if (want.status === "skipped") {
          if (text !== "")
            violation(`${at}: skipped, yet its log holds ${text.split("\n").length - 1} line(s)`);
          continue;
        }
        // A task still running has an unfinished log: its state is the violation, not its lines.
        if (execution.state !== "complete") continue;
        const { figures, problems } = checkLog(text, taskSpec, run.run_id);
        addFigures(result.logs, figures);
        for (const problem of problems) violation(`${at}: log ${problem}`);
      }
    }
  }

  for (const [key, count] of creates) {
    if (!known.has(key)) {
      result.strayCreates += count;
      violation(`${count} container(s) created for ${key}, which is no task of a run`);
    }
  }
  return result;
}

/**
 * Events of one kind per run task (`pipeline/run/task`). Each event is counted once: the watch replays from its
 * `since` second, so an event can arrive twice only if the engine sent it twice.
 */
/** The test's pipelines: containers of others (an extension's, or the runs it starts) are not counted here. */
const COUNTED = new Set(PIPELINES.map((spec) => spec.id));

function countEvents(watch: EventWatch, action: "create" | "start"): Map<string, number> {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (const event of watch.events) {
    const id = `${event.Actor.ID} ${event.timeNano}`;
    if (event.Action !== action || seen.has(id)) continue;
    seen.add(id);
    const labels = event.Actor.Attributes;
    if (labels["gofer.extension"] !== undefined) continue;
    if (labels["gofer.pipeline"] !== undefined && !COUNTED.has(labels["gofer.pipeline"])) continue;
    const key = `${labels["gofer.pipeline"]}/${labels["gofer.run"]}/${labels["gofer.task"]}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return counts;
}

async function readLog(
  input: VerifyInput,
  pipelineId: string,
  runId: number,
  taskId: string,
): Promise<string> {
  const path = `/api/namespaces/${NS}/pipelines/${pipelineId}/runs/${runId}/tasks/${taskId}/logs`;
  const response = await fetch(`${input.url}${path}`, {
    headers: { "gofer-api-version": "v0", authorization: `Bearer ${input.token}` },
    signal: AbortSignal.timeout(15_000),
  });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`GET ${path}: ${response.status} ${text}`);
  return text;
}

function reasonOf(subject: Run | TaskExecution): string {
  return subject.status_reason
    ? `${subject.status_reason.reason}: ${subject.status_reason.description}`
    : "no reason";
}
