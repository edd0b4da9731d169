/**
 * Gofer alone, with the engine factored out: a benchmark-only backend (support/instant-scheduler.ts) "runs" every
 * container at once, so what is left is the run loop, storage and events.
 *
 * 1. Task starts per second through full runs: fan-outs of 100 tasks, run after run.
 * 2. Per-task cost as a DAG grows: a fan-out (one root, the rest depending on it) of 10, 100 and 1,000 tasks; the
 *    time per task must stay flat (the ratio 1,000/10 at most 1), which no step that rescans the whole DAG per
 *    completion allows.
 *
 * `npm run bench -- capacity`; BENCH_SIZES=10,100 and BENCH_ROUNDS=1 for a quick look (the test command does that).
 */
import { deployPipeline, pipelineConfig, shTask } from "../packages/gofer/test/support/pipelines.ts";
import { startTestServer } from "../packages/gofer/test/support/test-server.ts";
import { median, timedRun, watchEvents } from "./support/gofer-runs.ts";
import { InstantScheduler } from "./support/instant-scheduler.ts";
import { countSetting } from "./support/settings.ts";

const SIZES = (process.env.BENCH_SIZES ?? "10,100,1000").split(",").map(Number);
/** Rounds of the largest DAG; a smaller one gets as many more as make the same number of tasks (a 10-task run is short and noisy). */
const ROUNDS = countSetting("BENCH_ROUNDS", 3);
const THROUGHPUT_RUNS = countSetting("BENCH_THROUGHPUT_RUNS", 10);

const dag = (id: string, tasks: number) =>
  pipelineConfig(
    id,
    Array.from({ length: tasks }, (_, index) =>
      shTask(`t${index}`, "true", index === 0 ? {} : { depends_on: { t0: "success" } }),
    ),
  );

const instant = new InstantScheduler();
const server = await startTestServer({}, { wrapScheduler: () => instant });
const watch = watchEvents(server);
try {
  const timed = async (pipeline: string) => (await timedRun(server, watch, pipeline)).ms;

  // Per-task cost as the DAG grows.
  const perTask = new Map<number, number>();
  for (const size of SIZES) {
    await deployPipeline(server, dag(`dag-${size}`, size));
    await timed(`dag-${size}`); // warm-up
    const times: number[] = [];
    const rounds = Math.max(ROUNDS, Math.round((ROUNDS * Math.max(...SIZES)) / size / 10));
    for (let round = 0; round < rounds; round += 1) times.push(await timed(`dag-${size}`));
    perTask.set(size, median(times) / size);
    process.stdout.write(
      `DAG of ${size} tasks: median ${median(times).toFixed(0)} ms, ${(median(times) / size).toFixed(2)} ms per task ` +
        `(${times.length} rounds, ${Math.min(...times).toFixed(0)}–${Math.max(...times).toFixed(0)} ms)\n`,
    );
  }

  // Task starts per second through full runs.
  const fan = 100;
  await deployPipeline(server, dag(`dag-${fan}`, fan));
  const startedBefore = instant.started;
  const began = performance.now();
  for (let run = 0; run < THROUGHPUT_RUNS; run += 1) await timed(`dag-${fan}`);
  const seconds = (performance.now() - began) / 1000;
  const starts = instant.started - startedBefore;
  process.stdout.write(
    `throughput: ${starts} task starts in ${seconds.toFixed(2)} s over ${THROUGHPUT_RUNS} runs of ${fan} tasks: ` +
      `${(starts / seconds).toFixed(0)} task starts/s (target ≥ 500/s)\n`,
  );
  const smallest = Math.min(...SIZES);
  const largest = Math.max(...SIZES);
  process.stdout.write(
    `per-task cost: ratio ${largest}-task/${smallest}-task DAG ${((perTask.get(largest) ?? 0) / (perTask.get(smallest) ?? 1)).toFixed(3)} ` +
      `(flat is 1; target: no growth with the DAG)\n`,
  );
} finally {
  watch.close();
  await server.stop();
}
