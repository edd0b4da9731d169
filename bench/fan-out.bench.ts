/**
 * What Gofer adds on top of the container engine when many tasks run at once.
 *
 * For each size in BENCH_SIZES (default 20,100) a run of that many parallel `true` tasks (no dependencies) goes
 * through Gofer (POST a run, wait for its `completed_run` event on the event stream), and the same containers are
 * driven directly through the Engine API, all at once, in the same process; rounds alternate (the order of the
 * three rotates each round) and the medians are compared.
 *
 * "The same containers": the baseline creates what Gofer's docker scheduler creates for such a task (busybox
 * `sh -c true` under the engine's init, host networking, Gofer's seven system variables, labels). Two baselines:
 * - `direct`: create, start, wait, remove per container: the least a fair runner does. The headline ratio.
 * - `direct+logs`: the same, attached to the container's output before the start and drained to its end, as
 *   Gofer captures each task's log (Gofer also writes that log to a file; the baseline does not).
 * A direct round ends when its last container is removed. Gofer's run ends at `completed_run`, which it
 * publishes once every task's exit is stored; it removes a task's container after that task completes, so the
 * last removals may trail the run's end. The benchmark waits (unmeasured) for them before the next round, so no
 * round pays for the one before. The baseline learns of each exit from the engine's wait answer, which Docker
 * holds back until it has cleaned up after the container; Gofer takes the exit from the engine's `die` event when
 * that comes first (scheduler/docker/exit-events.ts). So a last line compares Gofer with the moment the
 * baseline's last container died, which no runner that sees every exit can beat.
 *
 * The ratio is of the medians; beside it, the median of the per-round ratios (each round's Gofer run against the
 * baseline run next to it, which cancels slow drifts of a shared machine) and the ratio of the best rounds.
 *
 * The engine's own event record (GET /events) of every round gives the breakdown printed before the figures: when
 * the containers of a round were created, started and died, relative to the round's start, and for Gofer how
 * long after a container's death its task was stored complete and how long after the last of those the run
 * closed. Medians over the rounds, in ms.
 *
 * `npm run bench -- fan-out`; BENCH_SIZES=3 BENCH_ROUNDS=1 for a quick look.
 */
import { deployPipeline, pipelineConfig, shTask } from "../packages/gofer/test/support/pipelines.ts";
import { BUSYBOX, startTestServer } from "../packages/gofer/test/support/test-server.ts";
import { type DirectContainer, engine, removeLeftovers, runDirectFanOut } from "./support/engine-direct.ts";
import { type ContainerEvent, recordContainerEvents } from "./support/engine-events.ts";
import { median, type ReceivedEvent, timedRun, watchEvents } from "./support/gofer-runs.ts";
import { countSetting } from "./support/settings.ts";

const SIZES = (process.env.BENCH_SIZES ?? "20,100").split(",").map(Number);
const ROUNDS = countSetting("BENCH_ROUNDS", 5);
const MODES = ["direct", "direct+logs", "gofer"] as const;
type Mode = (typeof MODES)[number];
/** Labels every baseline container, so an interrupted benchmark's leftovers can be found. */
const BENCH_LABEL = { "gofer.bench": "fan-out" };
/** How long Gofer gets to remove a finished run's containers before the next round. */
const SETTLE_MS = 30_000;

/** What Gofer's docker scheduler creates for `sh -c true` (see DockerScheduler.#create and systemVariables). */
function directSpec(size: number, round: string, index: number, attach: boolean): DirectContainer {
  return {
    image: BUSYBOX,
    command: ["sh", "-c", "true"],
    init: true,
    attach,
    labels: { ...BENCH_LABEL, "gofer.bench.round": round },
    env: {
      GOFER_NAMESPACE_ID: "default",
      GOFER_PIPELINE_ID: `fan-${size}`,
      GOFER_RUN_ID: round,
      GOFER_TASK_ID: `t${index}`,
      GOFER_TASK_ATTEMPT: "1",
      GOFER_TASK_IMAGE: BUSYBOX,
      GOFER_API_BASE_URL: "http://127.0.0.1:0",
    },
  };
}

/** A container of a round: its task (Gofer's) and when the engine reported each step (`create`, `start`…). */
interface Steps {
  task: string;
  at: Partial<Record<string, number>>;
}
type Lifecycle = Map<string, Steps>;

function lifecycles(events: ContainerEvent[], belongs: (event: ContainerEvent) => boolean): Lifecycle {
  const containers: Lifecycle = new Map();
  for (const event of events) {
    if (!belongs(event)) continue;
    const entry = containers.get(event.id) ?? { task: event.labels["gofer.task"] ?? "", at: {} };
    entry.at[event.action] ??= event.at;
    containers.set(event.id, entry);
  }
  return containers;
}

/** The breakdown of one round: milestones relative to its start, and per-container spans (median, max). */
type Breakdown = Record<string, number>;

function breakdown(began: number, containers: Lifecycle): Breakdown {
  const all = [...containers.values()];
  const at = (action: string) => all.map((c) => (c.at[action] ?? Number.NaN) - began).filter(Number.isFinite);
  const span = (from: string, to: string) =>
    all.map((c) => (c.at[to] ?? Number.NaN) - (c.at[from] ?? Number.NaN)).filter(Number.isFinite);
  const figures: Breakdown = {
    "first create": Math.min(...at("create")),
    "last create": Math.max(...at("create")),
    "last start": Math.max(...at("start")),
    "create→start med": median(span("create", "start")),
    "create→start max": Math.max(...span("create", "start")),
    "start→die med": median(span("start", "die")),
    "last die": Math.max(...at("die")),
    "die→destroy med": median(span("die", "destroy")),
  };
  return figures;
}

/** Gofer's side of a round: its own events against the engine's record of the run's containers. */
function goferBreakdown(
  began: number,
  containers: Lifecycle,
  events: ReceivedEvent[],
  pipelineId: string,
  runId: number,
): Breakdown {
  const mine = events.filter(
    (event) => event.details.pipeline_id === pipelineId && event.details.run_id === runId,
  );
  const emitted = (kind: string) => mine.filter((event) => event.kind === kind);
  const byTask = (kind: string) =>
    new Map(emitted(kind).map((event) => [String(event.details.task_execution_id), event.emitted]));
  const completedAt = byTask("completed_task_execution");
  const startedAt = byTask("started_task_execution");
  const all = [...containers.values()];
  const gap = (step: string, to: Map<string, number>) =>
    all.map((c) => (to.get(c.task) ?? Number.NaN) - (c.at[step] ?? Number.NaN)).filter(Number.isFinite);
  const lastCompleted = Math.max(...completedAt.values());
  const closed = emitted("completed_run")[0];
  return {
    accepted: (emitted("queued_run")[0]?.emitted ?? Number.NaN) - began,
    "tasks announced": Math.max(...emitted("created_task_execution").map((e) => e.emitted)) - began,
    ...breakdown(began, containers),
    "start→running stored med": median(gap("start", startedAt)),
    "die→complete stored med": median(gap("die", completedAt)),
    "die→complete stored max": Math.max(...gap("die", completedAt)),
    "last complete→run closed": (closed?.emitted ?? Number.NaN) - lastCompleted,
    "run closed→heard": (closed?.arrived ?? Number.NaN) - (closed?.emitted ?? Number.NaN),
  };
}

const tasksOf = (size: number) => Array.from({ length: size }, (_, index) => shTask(`t${index}`, "true"));

const server = await startTestServer({ GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "5" });
const watch = watchEvents(server);
const engineEvents = recordContainerEvents();

/** Resolves once none of the server's containers is left (Gofer removes them after their tasks complete). */
async function settled(): Promise<void> {
  const deadline = Date.now() + SETTLE_MS;
  while ((await server.leftoverContainers()).length > 0) {
    if (Date.now() > deadline) throw new Error(`Gofer's containers were still there after ${SETTLE_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function round(mode: Mode, size: number, label: string): Promise<{ ms: number; breakdown: Breakdown }> {
  if (mode === "gofer") {
    const run = await timedRun(server, watch, `fan-${size}`);
    await settled();
    const containers = lifecycles(
      engineEvents.events,
      (event) =>
        event.labels["gofer.instance"] === server.instanceId &&
        event.labels["gofer.pipeline"] === `fan-${size}` &&
        event.labels["gofer.run"] === String(run.runId),
    );
    return {
      ms: run.ms,
      breakdown: goferBreakdown(run.began, containers, watch.received, `fan-${size}`, run.runId),
    };
  }
  const began = Date.now();
  const ms = await runDirectFanOut(`bench-fan-out-${label}`, size, (index) =>
    directSpec(size, label, index, mode === "direct+logs"),
  );
  const containers = lifecycles(engineEvents.events, (event) => event.labels["gofer.bench.round"] === label);
  return { ms, breakdown: breakdown(began, containers) };
}

const results = new Map<string, { ms: number[]; breakdowns: Breakdown[] }>();
try {
  await watch.ready;
  await engineEvents.ready;
  for (const size of SIZES) {
    await deployPipeline(server, pipelineConfig(`fan-${size}`, tasksOf(size)));
    // One unmeasured round of each first, so none pays for cold caches.
    if (size === SIZES[0])
      for (const mode of MODES) await round(mode, size, `${mode.replace("+", "-")}-warm`);
    for (let index = 0; index < ROUNDS; index += 1) {
      // Rotated, so no mode always follows the same one.
      const order = MODES.map((_, at) => MODES[(at + index) % MODES.length] as Mode);
      for (const mode of order) {
        const measured = await round(mode, size, `${mode.replace("+", "-")}-${size}-${index}`);
        const key = `${mode}/${size}`;
        const entry = results.get(key) ?? { ms: [], breakdowns: [] };
        entry.ms.push(measured.ms);
        entry.breakdowns.push(measured.breakdown);
        results.set(key, entry);
      }
    }
  }

  const out = (line: string) => process.stdout.write(`${line}\n`);
  const ms = (value: number | undefined) =>
    value === undefined || !Number.isFinite(value) ? "-" : value.toFixed(0);
  out("where the time goes (ms from the round's start unless a span; medians over rounds):");
  for (const size of SIZES) {
    for (const mode of MODES) {
      const { breakdowns } = results.get(`${mode}/${size}`) ?? { breakdowns: [] };
      const names = Object.keys(breakdowns[0] ?? {});
      const figures = names.map(
        (name) => `${name} ${ms(median(breakdowns.map((b) => b[name] ?? Number.NaN)))}`,
      );
      out(`  ${size} ${mode}: ${figures.join(", ")}`);
    }
  }
  out("");
  const rounds = (values: number[]) => values.map((value) => value.toFixed(0)).join(",");
  for (const size of SIZES) {
    const gofer = results.get(`gofer/${size}`)?.ms ?? [];
    for (const baseline of ["direct", "direct+logs"] as const) {
      const direct = results.get(`${baseline}/${size}`)?.ms ?? [];
      const paired = median(gofer.map((time, index) => time / (direct[index] ?? Number.NaN)));
      const best = Math.min(...gofer) / Math.min(...direct);
      out(
        `fan-out of ${size}: gofer median ${ms(median(gofer))} ms, ${baseline} median ${ms(median(direct))} ms, ` +
          `ratio gofer/${baseline} ${(median(gofer) / median(direct)).toFixed(3)} ` +
          `(paired ${paired.toFixed(3)}, best-of ${best.toFixed(3)})  ` +
          `(rounds: gofer ${rounds(gofer)}; ${baseline} ${rounds(direct)})`,
      );
    }
    // The strictest comparison: against the moment the baseline's last container died, before the engine's
    // cleanup after it, which the baseline's wait and remove sit through and Gofer's exit events do not.
    const died = (results.get(`direct/${size}`)?.breakdowns ?? []).map((b) => b["last die"] ?? Number.NaN);
    out(
      `fan-out of ${size}: gofer median ${ms(median(gofer))} ms, direct's last exit median ${ms(median(died))} ms, ` +
        `ratio gofer/direct-last-exit ${(median(gofer) / median(died)).toFixed(3)}`,
    );
  }
} finally {
  watch.close();
  engineEvents.close();
  await removeLeftovers(BENCH_LABEL);
  await server.stop();
  engine.close();
}
