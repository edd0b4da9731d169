/**
 * Time to serving with 100,000 stored runs and 1,000 unfinished task executions to recover, against an empty
 * database.
 *
 * A real server process (`gofer service start`, on the Docker engine) is timed from its spawn to the first
 * successful authenticated GET (`/api/system`, which needs an admin token): Node's own start and the loading
 * of the server's modules are in both figures alike.
 *
 * The large database is made by support/stored-runs.ts (runs of a three-task pipeline through the real run
 * loop on the InstantScheduler, copied up to BENCH_RUNS). Before each of its starts the newest runs are set
 * back to how a crash leaves them: BENCH_UNFINISHED task executions `running`, with the container ids they
 * had, in runs `running`, and the events of their ends gone. The containers are not on the engine (they went
 * with the crash: removed, or lost with the engine's data), so recovery, which asks the engine for this
 * installation's containers by label, finds none and fails each task as `orphaned` before the server listens:
 * one write and one event per task, then its run ends. After each start the benchmark checks that no task was
 * left running. The baseline is a server whose database holds nothing but what its first start wrote.
 *
 * Rounds alternate baseline and large, BENCH_ROUNDS of each; each process is stopped with SIGTERM before the
 * next starts. Prints each start, then, last, the median time to serving of both, the ratio large/baseline
 * and the difference (Node's start and the module loading, alike in both, dilute the ratio). Exits 1 when a
 * start fails or leaves a task running, 2 on a bad setting.
 *
 * Usage: `npm run bench -- startup`. Environment: BENCH_RUNS (100000), BENCH_UNFINISHED (1000), BENCH_ROUNDS
 * (3), BENCH_SEED_RUNS (500). A quick look: BENCH_RUNS=200 BENCH_UNFINISHED=30 BENCH_ROUNDS=1.
 */
import { rm } from "node:fs/promises";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { freePort } from "../packages/gofer/test/support/free-port.ts";
import { startTestServer } from "../packages/gofer/test/support/test-server.ts";
import { ServerProcess } from "../scripts/chaos/server-process.ts";
import { InstantScheduler } from "./support/instant-scheduler.ts";
import { countSetting } from "./support/settings.ts";
import {
  databasePath,
  fillStoredRuns,
  KEEP_EVERY_RUN,
  leaveTasksUnfinished,
  recoveredTasks,
  type StoredRuns,
} from "./support/stored-runs.ts";

const RUNS = countSetting("BENCH_RUNS", 100_000);
const UNFINISHED = countSetting("BENCH_UNFINISHED", 1_000);
const ROUNDS = countSetting("BENCH_ROUNDS", 3);
const SEED_RUNS = countSetting("BENCH_SEED_RUNS", 500);
const START_TIMEOUT_MS = 120_000;
/** How often the starting server is asked; small next to what is measured. */
const POLL_MS = 5;
const ROOT = resolve(import.meta.dirname, "..");

if (UNFINISHED > RUNS * 3) {
  process.stderr.write(`BENCH_UNFINISHED (${UNFINISHED}) must be at most 3 × BENCH_RUNS\n`);
  process.exit(2);
}

const began = performance.now();
const say = (text: string) =>
  process.stdout.write(`startup [+${((performance.now() - began) / 1000).toFixed(1)}s] ${text}\n`);

/** A data folder, the token to ask it with, and the server process on it while one runs. */
interface Installation {
  label: string;
  dataDir: string;
  token: string;
  stored?: StoredRuns;
  server?: ServerProcess;
}

const installations: Installation[] = [];

/** Makes an installation in-process (the InstantScheduler runs the seed), then stops that server. */
async function install(label: string, runs: number): Promise<Installation> {
  const instant = new InstantScheduler();
  const server = await startTestServer(KEEP_EVERY_RUN, { wrapScheduler: () => instant });
  const installation: Installation = { label, dataDir: server.dataDir, token: server.token };
  installations.push(installation);
  try {
    if (runs > 0) {
      installation.stored = await fillStoredRuns(server, runs, {
        seedRuns: SEED_RUNS,
        say: (line) => say(`${label}: ${line}`),
      });
    }
  } finally {
    // Not TestServer.stop(): that removes the data folder, which the server processes start on next.
    await server.service.stop();
  }
  return installation;
}

/** Resolves with the time of the first 200 to an authenticated GET; fails if the process exits first. */
async function firstAnswer(server: ServerProcess, token: string): Promise<number> {
  const deadline = performance.now() + START_TIMEOUT_MS;
  for (;;) {
    if (!server.running) throw new Error(`the server ${server.unexpectedExit ?? "stopped"} while starting`);
    try {
      const response = await fetch(`${server.url}/api/system`, {
        headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5_000),
      });
      await response.body?.cancel();
      if (response.status === 200) return performance.now();
    } catch {
      // Not listening yet.
    }
    if (performance.now() > deadline)
      throw new Error(`the server did not answer within ${START_TIMEOUT_MS} ms`);
    await sleep(POLL_MS);
  }
}

/** One start, timed from the spawn to serving; the process is stopped again before this returns. */
async function timedStart(installation: Installation): Promise<number> {
  const server = new ServerProcess({
    root: ROOT,
    dataDir: installation.dataDir,
    port: await freePort(),
    settings: KEEP_EVERY_RUN,
  });
  installation.server = server;
  const spawned = performance.now();
  server.start();
  try {
    return (await firstAnswer(server, installation.token)) - spawned;
  } catch (error) {
    process.stderr.write(`${server.logTail(20)}\n`);
    throw error;
  } finally {
    const stopped = await server.terminate(30_000);
    installation.server = undefined;
    if (!stopped.clean) process.stderr.write(`${installation.label}: the server ${stopped.exit}\n`);
  }
}

/** A start of the large installation: the crash is staged first, and its recovery checked after. */
async function timedRecovery(installation: Installation): Promise<number> {
  const stored = installation.stored as StoredRuns;
  const path = databasePath(installation.dataDir);
  leaveTasksUnfinished(path, stored, UNFINISHED);
  const ms = await timedStart(installation);
  const tasks = recoveredTasks(path, stored);
  if (tasks.running > 0 || tasks.orphaned < UNFINISHED) {
    throw new Error(`after the start ${tasks.running} task(s) still run, ${tasks.orphaned} ended orphaned`);
  }
  return ms;
}

const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

process.on("exit", () => {
  for (const installation of installations) installation.server?.killNow();
});

try {
  const empty = await install("empty", 0);
  const large = await install(`${RUNS} runs`, RUNS);
  const times = new Map<Installation, number[]>([
    [empty, []],
    [large, []],
  ]);
  for (let round = 1; round <= ROUNDS; round += 1) {
    const baseline = await timedStart(empty);
    times.get(empty)?.push(baseline);
    const recovering = await timedRecovery(large);
    times.get(large)?.push(recovering);
    say(
      `round ${round}: empty ${baseline.toFixed(0)} ms, ` +
        `${large.label} with ${UNFINISHED} unfinished task(s) ${recovering.toFixed(0)} ms`,
    );
  }
  const baseline = median(times.get(empty) ?? []);
  const recovering = median(times.get(large) ?? []);
  process.stdout.write(
    `time to serving, empty database: median ${baseline.toFixed(0)} ms over ${ROUNDS} start(s)\n` +
      `time to serving, ${large.label} and ${UNFINISHED} unfinished task executions: median ` +
      `${recovering.toFixed(0)} ms over ${ROUNDS} start(s)\n` +
      `ratio ${large.label}/empty ${(recovering / baseline).toFixed(2)} ` +
      `(${(recovering - baseline).toFixed(0)} ms more: the stored runs and the recovery)\n`,
  );
} catch (error) {
  process.stderr.write(`startup: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  for (const installation of installations) {
    await installation.server?.terminate(10_000);
    await rm(installation.dataDir, { recursive: true, force: true });
  }
}
