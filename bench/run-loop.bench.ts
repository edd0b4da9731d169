/**
 * How much the run loop adds on top of the container engine.
 *
 * In one process and one run, alternating rounds: a chain of 20 `true` tasks and a fan-out of 20 parallel `true`
 * tasks, once through Gofer (POST a run, wait for its `completed_run` event) and once driven directly through
 * the Engine API (create, start, wait, remove per container). Prints the median of each and the ratio
 * Gofer/direct. Usage: `npm run bench` (after `./test.sh` or `./start.sh` has prepared the engine and image).
 *
 * The same rounds also run through a second Gofer server storing in PostgreSQL (a private cluster the benchmark
 * starts and stops, see packages/gofer/test/support/private-postgres.ts), so the last lines compare the two
 * storage backends measured side by side: PostgreSQL/direct, then PostgreSQL/SQLite. Without PostgreSQL's
 * server binaries that part is skipped with a note.
 *
 * A third server, on SQLite with `metrics.enable = false`, runs the same rounds, so the cost of the Prometheus
 * metrics is the ratio metrics on/off of the Gofer medians.
 */
import { deployPipeline, pipelineConfig, shTask } from "../packages/gofer/test/support/pipelines.ts";
import {
  type PrivatePostgres,
  postgresBinDir,
  startPrivatePostgres,
} from "../packages/gofer/test/support/private-postgres.ts";
import { BUSYBOX, startTestServer, type TestServer } from "../packages/gofer/test/support/test-server.ts";
import { type DirectContainer, runDirect, runDirectFanOut } from "./support/engine-direct.ts";
import { type EventWatch, median, timedRun, watchEvents } from "./support/gofer-runs.ts";
import { countSetting } from "./support/settings.ts";

/** Tasks in the chain and in the fan-out; BENCH_TASKS=3 for a quick look (the test command does that). */
const TASKS = countSetting("BENCH_TASKS", 20);
const ROUNDS = countSetting("BENCH_ROUNDS", 5);

const DIRECT: DirectContainer = { image: BUSYBOX, command: ["true"], labels: { "gofer.bench": "direct" } };

async function directChain(round: number): Promise<number> {
  const start = performance.now();
  for (let index = 0; index < TASKS; index += 1) await runDirect(`bench-chain-${round}-${index}`, DIRECT);
  return performance.now() - start;
}

const directParallel = (round: number): Promise<number> =>
  runDirectFanOut(`bench-fan-${round}`, TASKS, () => DIRECT);

/** One event stream per server, open for the whole benchmark. */
const watches = new Map<TestServer, EventWatch>();

async function goferRun(server: TestServer, pipelineId: string): Promise<number> {
  let watch = watches.get(server);
  if (!watch) {
    watch = watchEvents(server);
    watches.set(server, watch);
  }
  return (await timedRun(server, watch, pipelineId)).ms;
}

const SETTINGS = { GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "5" };
const chainTasks = Array.from({ length: TASKS }, (_, index) =>
  shTask(`t${index}`, "true", index === 0 ? {} : { depends_on: { [`t${index - 1}`]: "Success" } }),
);
const fanTasks = Array.from({ length: TASKS }, (_, index) => shTask(`t${index}`, "true"));

async function deployBoth(target: TestServer): Promise<void> {
  await deployPipeline(target, pipelineConfig("bench-chain", chainTasks));
  await deployPipeline(target, pipelineConfig("bench-fan", fanTasks));
}

let postgres: PrivatePostgres | undefined;
let onPostgres: TestServer | undefined;
const server = await startTestServer(SETTINGS);
// The same server without Prometheus metrics, to measure what they cost.
const withoutMetrics = await startTestServer({ ...SETTINGS, GOFER_WEB_METRICS__ENABLE: "false" });
try {
  await deployBoth(server);
  await deployBoth(withoutMetrics);
  if (postgresBinDir() === undefined) {
    process.stderr.write("PostgreSQL's server binaries are missing: measuring SQLite only\n");
  } else {
    postgres = await startPrivatePostgres();
    onPostgres = await startTestServer(SETTINGS, {
      databaseUrl: await postgres.createDatabase("gofer_bench"),
    });
    await deployBoth(onPostgres);
  }

  // One warm-up of each path so neither pays for cold caches.
  await directChain(-1);
  await goferRun(server, "bench-chain");
  await goferRun(withoutMetrics, "bench-chain");
  if (onPostgres) await goferRun(onPostgres, "bench-chain");

  const results = {
    goferChain: [] as number[],
    directChain: [] as number[],
    postgresChain: [] as number[],
    goferFan: [] as number[],
    directFan: [] as number[],
    postgresFan: [] as number[],
    unmeasuredChain: [] as number[],
    unmeasuredFan: [] as number[],
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    results.directChain.push(await directChain(round));
    results.goferChain.push(await goferRun(server, "bench-chain"));
    results.unmeasuredChain.push(await goferRun(withoutMetrics, "bench-chain"));
    if (onPostgres) results.postgresChain.push(await goferRun(onPostgres, "bench-chain"));
    results.directFan.push(await directParallel(round));
    results.goferFan.push(await goferRun(server, "bench-fan"));
    results.unmeasuredFan.push(await goferRun(withoutMetrics, "bench-fan"));
    if (onPostgres) results.postgresFan.push(await goferRun(onPostgres, "bench-fan"));
  }
  const rounds = (values: number[]) => values.map((v) => v.toFixed(0)).join(",");
  const report = (label: string, gofer: number[], direct: number[], name = "gofer") => {
    const ratio = median(gofer) / median(direct);
    process.stdout.write(
      `${label}: ${name} median ${median(gofer).toFixed(0)} ms, direct median ${median(direct).toFixed(0)} ms, ` +
        `ratio ${name}/direct ${ratio.toFixed(3)}  (rounds: ${name} ${rounds(gofer)}; direct ${rounds(direct)})\n`,
    );
  };
  report(`chain of ${TASKS} sequential tasks`, results.goferChain, results.directChain);
  report(`fan-out of ${TASKS} parallel tasks`, results.goferFan, results.directFan);
  report(
    `chain of ${TASKS} sequential tasks`,
    results.unmeasuredChain,
    results.directChain,
    "gofer-no-metrics",
  );
  report(`fan-out of ${TASKS} parallel tasks`, results.unmeasuredFan, results.directFan, "gofer-no-metrics");
  const costOf = (measured: number[], unmeasured: number[]) =>
    (median(measured) / median(unmeasured)).toFixed(3);
  process.stdout.write(
    `metrics: ratio metrics on/off (gofer medians) chain ${costOf(results.goferChain, results.unmeasuredChain)}, ` +
      `fan-out ${costOf(results.goferFan, results.unmeasuredFan)}\n`,
  );
  if (onPostgres) {
    const name = "gofer-on-postgres";
    report(`chain of ${TASKS} sequential tasks`, results.postgresChain, results.directChain, name);
    report(`fan-out of ${TASKS} parallel tasks`, results.postgresFan, results.directFan, name);
    const versus = (postgresRuns: number[], sqliteRuns: number[]) =>
      (median(postgresRuns) / median(sqliteRuns)).toFixed(3);
    process.stdout.write(
      `storage: ratio PostgreSQL/SQLite (gofer medians) chain ${versus(results.postgresChain, results.goferChain)}, ` +
        `fan-out ${versus(results.postgresFan, results.goferFan)}\n`,
    );
  }
} finally {
  for (const watch of watches.values()) watch.close();
  await onPostgres?.stop();
  await postgres?.stop();
  await withoutMetrics.stop();
  await server.stop();
}
