/**
 * The read API under load over 100,000 stored runs, against the same load over 1,000.
 *
 * Each database is made by support/stored-runs.ts: a few hundred runs of a three-task pipeline go through an
 * in-process server on the InstantScheduler (the real run loop writes every row), then their rows are copied
 * up to the size wanted. Both servers keep every run (run retention 0). They are then served by real server
 * processes (`gofer service start` on the same data folder), so the load generator and the server under load
 * never share a thread.
 *
 * Endpoints, each driven for BENCH_DURATION_S seconds at BENCH_RATE requests a second with autocannon
 * (`overallRate`: each of its 10 connections sends its share of a second's requests back to back, then waits
 * for the next second, so the load comes in bursts of up to 10 requests at once), after 200 unmeasured ones:
 * - runs, first page: 50 runs newest first, what a run list shows first;
 * - runs, deep page: 50 runs at the largest offset there is (`offset=runs-50`), the worst case of the v0
 *   API's offset paging;
 * - get run, task executions of a run, event by id: a run (or event) picked at random for every request, so
 *   the whole database is read rather than one cached row;
 * - metrics: `GET /metrics` at a hundredth of BENCH_RATE, far more often than any Prometheus scrapes, for
 *   what a scrape costs (it counts the task executions in flight across all runs);
 * - events, history page (last): the v0 API lists events only through the WebSocket stream `GET /api/events?
 *   history=true&reverse=true`, which sends stored events in pages of 200, newest first. One request here
 *   opens it, reads the first page and closes; streams are opened one after the other for BENCH_DURATION_S,
 *   not at a rate and without a warm-up (see streamLoad for why).
 *
 * Before the load, each endpoint's SQL is captured from one call to an in-process server on the large
 * database (the statements the server really runs, with their parameters; the event stream's from the store
 * function it pages with) and its `EXPLAIN QUERY PLAN` printed; a line that scans a table or sorts in a
 * temporary B-tree is marked.
 *
 * Prints, last, each endpoint's p50/p99/max latency and non-2xx count at both sizes and the ratio of the p99s
 * (large/baseline); the target is p99 < 20 ms at the large size. Exits 1 when any request failed (a non-2xx
 * answer, a connection error, a stream that ended early), 2 on a bad setting.
 *
 * Usage: `npm run bench -- api-load`. Environment: BENCH_RUNS (100000), BENCH_BASELINE_RUNS (1000),
 * BENCH_DURATION_S (10, per endpoint and size), BENCH_RATE (1000), BENCH_SEED_RUNS (500, runs through the run
 * loop per database). A quick look: BENCH_RUNS=200 BENCH_BASELINE_RUNS=50 BENCH_DURATION_S=1.
 */
import { rm } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { resolve } from "node:path";
import { DatabaseSync, StatementSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import autocannon from "autocannon";
import { WebSocket } from "ws";
import { pageEvents } from "../packages/gofer/src/storage/events-store.ts";
import { freePort } from "../packages/gofer/test/support/free-port.ts";
import { startTestServer, type TestServer } from "../packages/gofer/test/support/test-server.ts";
import { ServerProcess } from "../scripts/chaos/server-process.ts";
import { InstantScheduler } from "./support/instant-scheduler.ts";
import { countSetting, setting } from "./support/settings.ts";
import { databasePath, fillStoredRuns, KEEP_EVERY_RUN, type StoredRuns } from "./support/stored-runs.ts";

const RUNS = countSetting("BENCH_RUNS", 100_000);
const BASELINE_RUNS = countSetting("BENCH_BASELINE_RUNS", 1_000);
const DURATION_S = setting("BENCH_DURATION_S", 10);
const RATE = countSetting("BENCH_RATE", 1_000);
const SEED_RUNS = countSetting("BENCH_SEED_RUNS", 500);
const TARGET_P99_MS = 20;
/** Clients at once: a busy installation's dashboards, CLIs and extensions. */
const CONNECTIONS = 10;
/** Requests before each measurement, so that what is measured is not the first, unoptimised calls. */
const WARM_UP_REQUESTS = 200;
/** What the event stream sends per page (services/event-service.ts). */
const HISTORY_PAGE = 200;
const PAGE = 50;
const HISTORY_STREAM = "/api/events?history=true&reverse=true";
const ROOT = resolve(import.meta.dirname, "..");
/** Long enough for what a start does in the background (a retention pass, admission) to be over. */
const BOOT_WORK_MS = 1_000;

const began = performance.now();
const say = (text: string) =>
  process.stdout.write(`api-load [+${((performance.now() - began) / 1000).toFixed(1)}s] ${text}\n`);

/** A database and the server process that serves it. */
interface Target {
  label: string;
  stored: StoredRuns;
  token: string;
  dataDir: string;
  eventIds: number[];
  server?: ServerProcess;
}

/** One endpoint: the path of each request, picked afresh per request. */
interface Endpoint {
  name: string;
  path(target: Target): string;
  /** Opened as the event stream rather than requested with autocannon. */
  stream?: true;
  /** Its share of BENCH_RATE, when it is driven slower than the rest. */
  share?: number;
}

const pick = <T>(values: readonly T[]): T => values[Math.floor(Math.random() * values.length)] as T;
const randomRun = (target: Target) => 1 + Math.floor(Math.random() * target.stored.runs);
const runsPath = (target: Target) => `/api/namespaces/default/pipelines/${target.stored.pipelineId}/runs`;

const ENDPOINTS: Endpoint[] = [
  { name: "runs, first page", path: (target) => `${runsPath(target)}?limit=${PAGE}&reverse=true` },
  {
    name: "runs, deep page",
    path: (target) => `${runsPath(target)}?limit=${PAGE}&offset=${Math.max(0, target.stored.runs - PAGE)}`,
  },
  { name: "get run", path: (target) => `${runsPath(target)}/${randomRun(target)}` },
  { name: "task executions", path: (target) => `${runsPath(target)}/${randomRun(target)}/tasks` },
  { name: "event by id", path: (target) => `/api/events/${pick(target.eventIds)}` },
  { name: "metrics", path: () => "/metrics", share: 1 / 100 },
  // Last: the server is still sending the last stream's history when the measurement ends (see streamLoad).
  { name: "events, history page", path: () => HISTORY_STREAM, stream: true },
];

interface Figures {
  p50: number;
  p99: number;
  max: number;
  /** Answers other than 2xx, connection errors and streams that failed. */
  failed: number;
  /** Requests answered per second, over the measurement. */
  rate: number;
}

const headersOf = (token: string) => ({ "gofer-api-version": "v0", authorization: `Bearer ${token}` });

function percentile(sorted: number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * fraction))] ?? Number.NaN;
}

function figuresOf(latencies: number[], failed: number, seconds: number): Figures {
  const sorted = latencies.sort((a, b) => a - b);
  return {
    p50: percentile(sorted, 0.5),
    p99: percentile(sorted, 0.99),
    max: sorted.at(-1) ?? Number.NaN,
    failed,
    rate: latencies.length / seconds,
  };
}

/**
 * Drives one endpoint with autocannon. Latencies are taken from its per-response event (sub-millisecond), not
 * its histogram, which corrects for coordinated omission with an expected interval of 1 ms whatever the rate.
 */
async function cannon(
  target: Target,
  endpoint: Endpoint,
  load: { rate: number; seconds: number },
): Promise<Figures> {
  const latencies: number[] = [];
  const options: autocannon.Options = {
    url: target.server?.url ?? "",
    connections: CONNECTIONS,
    headers: headersOf(target.token),
    overallRate: load.rate,
    ignoreCoordinatedOmission: true,
    duration: load.seconds,
    requests: [{ method: "GET", setupRequest: (request) => ({ ...request, path: endpoint.path(target) }) }],
  };
  const result = await new Promise<autocannon.Result>((done, failed) => {
    const instance = autocannon(options, (error, finished) => (error ? failed(error) : done(finished)));
    instance.on("response", (_client, status, _bytes, ms) => {
      if (status >= 200 && status < 300) latencies.push(ms);
    });
  });
  return figuresOf(latencies, result.non2xx + result.errors, result.duration);
}

/** Opens the event stream, reads its first page of history and closes it; resolves when the page is in. */
function historyPage(serverUrl: string, token: string): Promise<void> {
  return new Promise((done, failed) => {
    const socket = new WebSocket(`${serverUrl.replace(/^http/, "ws")}${HISTORY_STREAM}`, {
      headers: headersOf(token),
    });
    let received = 0;
    socket.on("message", () => {
      received += 1;
      if (received === HISTORY_PAGE) {
        socket.terminate();
        done();
      }
    });
    socket.on("error", failed);
    // Fewer events than a page: the stream sends them all and closes normally.
    socket.on("close", (code) =>
      code === 1000 ? done() : failed(new Error(`stream closed ${code} after ${received}`)),
    );
  });
}

/**
 * Opens the stream again and again, one at a time, for `seconds` (at least once). One at a time because the
 * server sends a stream's whole history before it notices the client left (its paging loop never yields to
 * the event loop), so that the next stream waits for the previous one's history: what is measured is how long
 * a client waits for its first page while another reads history, bounded to one stream's buffers.
 */
async function streamLoad(target: Target, seconds: number): Promise<Figures> {
  const latencies: number[] = [];
  let failed = 0;
  const start = performance.now();
  do {
    const opened = performance.now();
    try {
      await historyPage(target.server?.url ?? "", target.token);
      latencies.push(performance.now() - opened);
    } catch {
      failed += 1;
    }
  } while (performance.now() - start < seconds * 1000);
  return figuresOf(latencies, failed, (performance.now() - start) / 1000);
}

/**
 * One GET on a connection of its own, resolving with the status: a pooled connection may have been closed by
 * the server meanwhile, which is not what these requests are for.
 */
function getOnce(target: Target, path: string): Promise<number> {
  return new Promise((done, failed) => {
    const request = httpGet(
      `${target.server?.url}${path}`,
      { agent: false, headers: headersOf(target.token) },
      (response) => {
        response.resume();
        response.once("end", () => done(response.statusCode ?? 0));
      },
    );
    request.once("error", failed);
  });
}

/** Unmeasured requests first, CONNECTIONS at a time (autocannon takes a second for any amount). */
async function warmUp(target: Target, endpoint: Endpoint): Promise<void> {
  const caller = async () => {
    for (let request = 0; request < WARM_UP_REQUESTS / CONNECTIONS; request += 1) {
      await getOnce(target, endpoint.path(target));
    }
  };
  await Promise.all(Array.from({ length: CONNECTIONS }, caller));
}

async function measure(target: Target, endpoint: Endpoint): Promise<Figures> {
  const rate = Math.max(1, Math.round(RATE * (endpoint.share ?? 1)));
  if (endpoint.stream) return streamLoad(target, DURATION_S);
  await warmUp(target, endpoint);
  return cannon(target, endpoint, { rate, seconds: DURATION_S });
}

/** A statement the server ran, with the values bound to it. */
interface Query {
  sql: string;
  params: unknown[];
}

/**
 * Runs `work` while recording every statement SQLite executes in this process. The statement class itself is
 * wrapped, for the length of `work` only, so what is recorded is the SQL the server sends, as Kysely compiled
 * it.
 */
async function captureQueries(work: () => Promise<unknown>): Promise<Query[]> {
  const queries: Query[] = [];
  const prototype = StatementSync.prototype as unknown as Record<string, (...args: unknown[]) => unknown>;
  const methods = ["all", "get", "run", "iterate"];
  const originals = methods.map((method) => prototype[method] as (...args: unknown[]) => unknown);
  methods.forEach((method, index) => {
    const original = originals[index] as (...args: unknown[]) => unknown;
    prototype[method] = function (this: StatementSync, ...params: unknown[]) {
      queries.push({ sql: this.sourceSQL, params });
      return original.apply(this, params);
    };
  });
  try {
    await work();
  } finally {
    methods.forEach((method, index) => {
      prototype[method] = originals[index] as (...args: unknown[]) => unknown;
    });
  }
  return queries;
}

/** `EXPLAIN QUERY PLAN` as an indented tree, marking a line that scans a table or sorts in a temp B-tree. */
function queryPlan(db: DatabaseSync, query: Query): string[] {
  const rows = db.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(query.params as never[])) as {
    id: number;
    parent: number;
    detail: string;
  }[];
  const depth = new Map<number, number>([[0, 0]]);
  return rows.map((row) => {
    const level = (depth.get(row.parent) ?? 0) + 1;
    depth.set(row.id, level);
    const scans = /^SCAN (?!CONSTANT)/.test(row.detail) || row.detail.includes("TEMP B-TREE");
    return `${scans ? "!!" : "  "}${"  ".repeat(level)}${row.detail}`;
  });
}

/**
 * The statements of the event stream's history, newest first: its first page and the next. Read through the
 * store the stream pages with rather than by opening it, which would send the whole history in-process.
 */
async function historyStatements(server: TestServer): Promise<void> {
  const [, last] = await pageEvents(server.service.db, { limit: 2, reverse: true });
  await pageEvents(server.service.db, { beforeId: Number(last?.id ?? 1), limit: 2, reverse: true });
}

/** Each endpoint's statements and plans on the large database, from one call to an in-process server. */
async function printPlans(server: TestServer, target: Target): Promise<void> {
  // The server just started again on the copied rows: what it does in the background at a start (a retention
  // pass, admission) is left to end, so that it is not counted as the first endpoint's.
  await sleep(BOOT_WORK_MS);
  const db = new DatabaseSync(databasePath(server.dataDir), { readOnly: true });
  try {
    for (const endpoint of ENDPOINTS) {
      const queries = await captureQueries(async () => {
        if (endpoint.stream) await historyStatements(server);
        else await server.api("GET", endpoint.path(target));
      });
      process.stdout.write(`plan: ${endpoint.name} (${queries.length} statements)\n`);
      const seen = new Set<string>();
      for (const query of queries) {
        if (seen.has(query.sql)) continue;
        seen.add(query.sql);
        process.stdout.write(`  ${query.sql}\n`);
        for (const line of queryPlan(db, query)) process.stdout.write(`  ${line}\n`);
      }
    }
  } finally {
    db.close();
  }
}

/** Every event id, to ask for existing ones only (the copies leave gaps where the seed had other events). */
function eventIds(path: string): number[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return (db.prepare("SELECT id FROM events").all() as { id: number }[]).map((row) => row.id);
  } finally {
    db.close();
  }
}

const targets: Target[] = [];

/** Fills a database in-process; with `explain`, prints its plans before the in-process server stops. */
async function prepare(label: string, runs: number, explain: boolean): Promise<Target> {
  const instant = new InstantScheduler();
  const server = await startTestServer(KEEP_EVERY_RUN, { wrapScheduler: () => instant });
  const target: Target = {
    label,
    token: server.token,
    dataDir: server.dataDir,
    eventIds: [],
    stored: { pipelineId: "", runs: 0, seedRuns: 0, taskIds: [] },
  };
  targets.push(target);
  try {
    target.stored = await fillStoredRuns(server, runs, {
      seedRuns: SEED_RUNS,
      say: (line) => say(`${label}: ${line}`),
    });
    target.eventIds = eventIds(databasePath(server.dataDir));
    if (explain) await printPlans(server, target);
  } finally {
    // Not TestServer.stop(): that removes the data folder, which the server process serves next.
    await server.service.stop();
  }
  return target;
}

async function serve(target: Target): Promise<void> {
  const server = new ServerProcess({
    root: ROOT,
    dataDir: target.dataDir,
    port: await freePort(),
    settings: KEEP_EVERY_RUN,
  });
  target.server = server;
  server.start();
  await server.waitUntilUp(60_000);
}

const ms = (value: number) => value.toFixed(2).padStart(7);

/** Both sizes' figures for one endpoint. */
interface Pair {
  large: Figures;
  baseline: Figures;
}

const figuresLine = (name: string, label: string, figures: Figures): string =>
  `${name.padEnd(22)} ${label.padEnd(12)} p50 ${ms(figures.p50)} ms  p99 ${ms(figures.p99)} ms  ` +
  `max ${ms(figures.max)} ms  non-2xx/failed ${figures.failed}  (${figures.rate.toFixed(0)} answered/s)\n`;

function ratioLine(name: string, labels: { large: string; baseline: string }, pair: Pair): string {
  const ratio = (pair.large.p99 / pair.baseline.p99).toFixed(2);
  const verdict = pair.large.p99 < TARGET_P99_MS ? "meets" : "MISSES";
  return (
    `${name.padEnd(22)} p99 ratio ${labels.large}/${labels.baseline} ${ratio} ` +
    `(${verdict} the target p99 < ${TARGET_P99_MS} ms at ${labels.large})\n`
  );
}

/** Prints every figure, then every ratio; false when any request failed. */
function report(results: Map<string, Pair>, labels: { large: string; baseline: string }): boolean {
  for (const [name, pair] of results) {
    process.stdout.write(figuresLine(name, labels.large, pair.large));
    process.stdout.write(figuresLine(name, labels.baseline, pair.baseline));
  }
  for (const [name, pair] of results) process.stdout.write(ratioLine(name, labels, pair));
  return [...results.values()].every((pair) => pair.large.failed === 0 && pair.baseline.failed === 0);
}

process.on("exit", () => {
  for (const target of targets) target.server?.killNow();
});

let passed = false;
try {
  say(`building a database of ${RUNS} runs and one of ${BASELINE_RUNS}`);
  const large = await prepare(`${RUNS} runs`, RUNS, true);
  const baseline = await prepare(`${BASELINE_RUNS} runs`, BASELINE_RUNS, false);
  await Promise.all([serve(large), serve(baseline)]);
  const results = new Map<string, Pair>();
  for (const endpoint of ENDPOINTS) {
    // Alternated per endpoint, so both sizes see the same machine; the baseline first, so that it never
    // shares the machine with the large server still sending a stream's history.
    const baselineFigures = await measure(baseline, endpoint);
    results.set(endpoint.name, { large: await measure(large, endpoint), baseline: baselineFigures });
    say(`measured ${endpoint.name}`);
  }
  passed = report(results, { large: large.label, baseline: baseline.label });
} finally {
  if (!passed) {
    for (const target of targets) {
      if (target.server) process.stderr.write(`${target.label} server log:\n${target.server.logTail(20)}\n`);
    }
  }
  await Promise.all(
    targets.map(async (target) => {
      await target.server?.terminate(5_000);
      await rm(target.dataDir, { recursive: true, force: true });
    }),
  );
}
process.exitCode = passed ? 0 : 1;
