/**
 * A deep queue: 10,000 runs of a one-task pipeline queued against `parallelism = 5`, then drained. The backend is
 * the benchmark-only one (support/instant-scheduler.ts), held while the runs are queued so that they pile up, and
 * released to drain them: what is measured is Gofer's admission alone.
 *
 * For every run's container exit, the time until the next container start: the task's completion, the run's
 * close, the admission of the next run and its task's start, all of which a completion sets off, timed inside the
 * backend (an event stream delivers events in batches, too coarse for this). Printed per tenth of the drain, with the ratio of the
 * last tenth's median to the first's (flat is 1: admitting must not cost more while the queue is deep), and the
 * process's RSS and heap (server and benchmark share the process) at the start, middle and end of the drain.
 *
 * `npm run bench -- deep-queue`. Knobs: BENCH_QUEUED (10000), BENCH_PARALLELISM (5); the test command runs it with
 * BENCH_QUEUED=50.
 */
import { WebSocket } from "ws";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
} from "../packages/gofer/test/support/pipelines.ts";
import { startTestServer } from "../packages/gofer/test/support/test-server.ts";
import { median } from "./support/gofer-runs.ts";
import { InstantScheduler } from "./support/instant-scheduler.ts";
import { countSetting } from "./support/settings.ts";

const QUEUED = countSetting("BENCH_QUEUED", 10_000);
const PARALLELISM = countSetting("BENCH_PARALLELISM", 5);
/** Runs posted at once while filling the queue. */
const POSTING = 8;

const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;
const memory = () => {
  const { rss, heapUsed } = process.memoryUsage();
  return `RSS ${mb(rss)}, heap ${mb(heapUsed)}`;
};

const instant = new InstantScheduler();
const server = await startTestServer({}, { wrapScheduler: () => instant });
const socket = new WebSocket(`${server.url.replace("http", "ws")}/api/events`, {
  headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
});
let completed = 0;
let drained: () => void = () => {};
const memoryAt: string[] = [];
socket.on("message", (data) => {
  const kind = JSON.parse(String(data)).kind;
  const event = kind.completed_run;
  if (event?.pipeline_id !== "queue" || !kind.completed_run) return;
  completed += 1;
  if (completed === Math.floor(QUEUED / 2)) memoryAt.push(memory());
  if (completed === QUEUED) drained();
});

try {
  await new Promise((resolve) => socket.once("open", resolve));
  await deployPipeline(server, pipelineConfig("queue", [shTask("only", "true")], PARALLELISM));

  instant.hold();
  const fillBegan = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: POSTING }, async () => {
      while (next < QUEUED) {
        next += 1;
        await startRun(server, "queue");
      }
    }),
  );
  const fillSeconds = (performance.now() - fillBegan) / 1000;
  process.stdout.write(`queued ${QUEUED} runs in ${fillSeconds.toFixed(1)} s (parallelism ${PARALLELISM})\n`);

  const done = new Promise<void>((resolve) => {
    drained = resolve;
  });
  memoryAt.push(memory());
  const drainBegan = performance.now();
  instant.record = true;
  instant.release();
  await done;
  const drainSeconds = (performance.now() - drainBegan) / 1000;
  memoryAt.push(memory());

  // For each exit, the wait until the next start; the last PARALLELISM exits make room for nothing.
  const gaps: number[] = [];
  const { timeline } = instant;
  for (let index = 0, nextStart = 0; index < timeline.length; index += 1) {
    const exit = timeline[index];
    if (exit?.kind !== "exit") continue;
    nextStart = Math.max(nextStart, index + 1);
    while (nextStart < timeline.length && timeline[nextStart]?.kind !== "start") nextStart += 1;
    const start = timeline[nextStart];
    if (!start) break;
    gaps.push(start.at - exit.at);
    nextStart += 1;
  }
  const tenth = Math.max(1, Math.floor(gaps.length / 10));
  const tenths: number[] = [];
  for (let from = 0; from + tenth <= gaps.length; from += tenth)
    tenths.push(median(gaps.slice(from, from + tenth)));
  process.stdout.write(
    `drained ${QUEUED} runs in ${drainSeconds.toFixed(1)} s: ${(QUEUED / drainSeconds).toFixed(0)} runs/s\n` +
      `exit → next start, median per tenth of the drain (ms): ${tenths.map((gap) => gap.toFixed(2)).join(", ")}\n` +
      `memory at the drain's start, middle and end: ${memoryAt.join("; ")}\n` +
      `exit → next start: first tenth ${(tenths[0] ?? 0).toFixed(2)} ms, last tenth ${(tenths.at(-1) ?? 0).toFixed(2)} ms, ` +
      `ratio last/first ${((tenths.at(-1) ?? 0) / (tenths[0] ?? 1)).toFixed(3)} (flat is 1)\n`,
  );
} finally {
  socket.close();
  instant.release();
  await server.stop();
}
