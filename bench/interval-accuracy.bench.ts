/**
 * Whether the interval extension fires within 1% of its period.
 *
 * In one process: the interval extension's real definition served by the kit (runExtension, on 127.0.0.1:0),
 * and a small node:http server on 127.0.0.1:0 standing in for Gofer's API that records when each
 * `POST /api/namespaces/{ns}/pipelines/{p}/runs` arrives (performance.now()) and answers 201 with a run. The
 * bench subscribes a pipeline with `every` = BENCH_EVERY_MS, collects BENCH_FIRES arrivals, and unsubscribes.
 * The baseline, measured the same way in the same run: a naive chained `setTimeout(fire, every)` loop making
 * the same call (GoferClient's runs.start) to the same fake server, which is what an extension without drift
 * correction does: every timer's lateness adds up.
 *
 * From the arrival times: the mean period (last − first)/(n − 1) and its ratio to `every`, the final drift
 * and the worst deviation of fire k from first + k·every, and the p50/p95 jitter of single intervals
 * |interval − every|. Loopback traffic only; about 50 s with the defaults (25 fires of 1 s, twice).
 *
 * Usage: `node bench/interval-accuracy.bench.ts` (Node 24). Env: BENCH_EVERY_MS (default 1000), BENCH_FIRES
 * (default 25, at least 2).
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { createIntervalExtension } from "../extensions/interval/src/extension.ts";
import { GoferClient } from "../packages/sdk/src/client/index.ts";
import { runExtension } from "../packages/sdk/src/extension/index.ts";
import { countSetting } from "./support/settings.ts";

const EVERY_MS = countSetting("BENCH_EVERY_MS", 1000);
const FIRES = countSetting("BENCH_FIRES", 25);
if (!(EVERY_MS > 0) || !Number.isInteger(FIRES) || FIRES < 2) {
  throw new Error("BENCH_EVERY_MS must be a positive number and BENCH_FIRES an integer of at least 2");
}
const NAMESPACE = "bench";
const SECRET = "bench-interval-secret";

// The fake Gofer API: arrival times of run requests, by pipeline.
const arrivals = new Map<string, number[]>();
const onArrival = new Set<() => void>();
let lastRunId = 0;
const RUNS_PATH = /^\/api\/namespaces\/([^/]+)\/pipelines\/([^/]+)\/runs$/;
const gofer = createServer((request, response) => {
  const at = performance.now();
  const match = request.method === "POST" ? RUNS_PATH.exec(request.url ?? "") : null;
  const pipelineId = decodeURIComponent(match?.[2] ?? "");
  request.resume();
  request.once("end", () => {
    if (!match) {
      response
        .writeHead(404, { "content-type": "application/json" })
        .end(JSON.stringify({ message: "not found", request_id: "bench", error_code: "NOT_FOUND" }));
      return;
    }
    const namespaceId = decodeURIComponent(match[1] ?? "");
    lastRunId += 1;
    const run = {
      namespace_id: namespaceId,
      pipeline_id: pipelineId,
      pipeline_config_version: 1,
      run_id: lastRunId,
      started: Date.now(),
      ended: 0,
      state: "pending",
      status: "unknown",
      status_reason: null,
      initiator: { id: "bench", user: "bench" },
      variables: [],
      token_id: null,
      store_objects_expired: false,
      event_id: null,
    };
    response.writeHead(201, { "content-type": "application/json" }).end(JSON.stringify({ run }));
  });
  if (!match) return;
  const times = arrivals.get(pipelineId) ?? [];
  times.push(at);
  arrivals.set(pipelineId, times);
  for (const listener of onArrival) listener();
});

/** The first `count` arrival times for `pipelineId`; rejects if they have not all come within `limitMs`. */
function collect(pipelineId: string, count: number, limitMs: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      onArrival.delete(check);
    };
    const check = () => {
      const times = arrivals.get(pipelineId) ?? [];
      if (times.length < count) return;
      done();
      resolve(times.slice(0, count));
    };
    const timer = setTimeout(() => {
      done();
      const got = arrivals.get(pipelineId)?.length ?? 0;
      reject(new Error(`${pipelineId}: ${got} of ${count} fires arrived within ${limitMs} ms`));
    }, limitMs);
    onArrival.add(check);
    check();
  });
}

// The start jitter takes up to one period; a generous bound on top, so a broken schedule fails instead of hanging.
const LIMIT_MS = (FIRES + 1) * EVERY_MS * 1.5 + 5_000;

interface Stats {
  meanPeriod: number;
  ratio: number;
  finalDrift: number;
  worstDeviation: number;
  jitterP50: number;
  jitterP95: number;
}

function analyse(times: number[]): Stats {
  const first = times[0] ?? Number.NaN;
  const last = times.at(-1) ?? Number.NaN;
  const meanPeriod = (last - first) / (times.length - 1);
  const deviations = times.map((time, k) => time - (first + k * EVERY_MS));
  const jitter = times
    .slice(1)
    .map((time, index) => Math.abs(time - (times[index] ?? Number.NaN) - EVERY_MS))
    .sort((a, b) => a - b);
  const percentile = (p: number) => jitter[Math.max(0, Math.ceil(p * jitter.length) - 1)] ?? Number.NaN;
  return {
    meanPeriod,
    ratio: meanPeriod / EVERY_MS,
    finalDrift: deviations.at(-1) ?? Number.NaN,
    worstDeviation: Math.max(...deviations.map(Math.abs)),
    jitterP50: percentile(0.5),
    jitterP95: percentile(0.95),
  };
}

/** One request first, so neither schedule's first fire pays for opening the connection. */
async function warmUp(client: GoferClient): Promise<void> {
  await client.runs.start(NAMESPACE, "warm-up");
}

async function intervalExtension(goferUrl: string): Promise<number[]> {
  const extension = await runExtension(createIntervalExtension(), {
    env: {
      GOFER_EXTENSION_SYSTEM_ID: "interval",
      GOFER_EXTENSION_SYSTEM_SECRET: SECRET,
      GOFER_EXTENSION_SYSTEM_GOFER_URL: goferUrl,
      GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: "127.0.0.1:0",
      GOFER_EXTENSION_SYSTEM_LOG_LEVEL: "warn",
      GOFER_EXTENSION_CONFIG_MIN_INTERVAL: `${EVERY_MS}ms`,
    },
    exitOnShutdown: false,
  });
  const key = { namespace_id: NAMESPACE, pipeline_id: "interval", pipeline_subscription_id: "bench" };
  const call = async (method: "POST" | "DELETE", body: unknown) => {
    const response = await fetch(`${extension.url}/api/subscribe`, {
      method,
      headers: { authorization: `Bearer ${SECRET}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    if (response.status !== 204) {
      throw new Error(`${method} /api/subscribe: ${response.status} ${await response.text()}`);
    }
  };
  try {
    await call("POST", { ...key, pipeline_subscription_params: { every: `${EVERY_MS}ms` } });
    const times = await collect("interval", FIRES, LIMIT_MS);
    await call("DELETE", key);
    return times;
  } finally {
    await extension.close();
  }
}

/** Fires, then waits `every` for the next fire: the lateness of each timer and of each fire adds up. */
async function naiveChainedTimeout(client: GoferClient): Promise<number[]> {
  let timer: NodeJS.Timeout | undefined;
  const inFlight = new Set<Promise<unknown>>();
  const fire = () => {
    const started = client.runs.start(NAMESPACE, "naive").catch((error: unknown) => {
      process.stderr.write(`naive fire failed: ${error instanceof Error ? error.message : String(error)}\n`);
    });
    inFlight.add(started);
    void started.finally(() => inFlight.delete(started));
    timer = setTimeout(fire, EVERY_MS);
  };
  timer = setTimeout(fire, EVERY_MS);
  try {
    return await collect("naive", FIRES, LIMIT_MS);
  } finally {
    clearTimeout(timer);
    // The last fire's answer is still on its way; the fake server must not close under it.
    await Promise.allSettled(inFlight);
  }
}

gofer.listen(0, "127.0.0.1");
await new Promise<void>((resolve) => gofer.once("listening", () => resolve()));
const goferUrl = `http://127.0.0.1:${(gofer.address() as AddressInfo).port}`;
try {
  const client = new GoferClient({ baseUrl: goferUrl, token: SECRET, userAgent: "gofer-bench/naive" });
  await warmUp(client);
  const interval = analyse(await intervalExtension(goferUrl));
  await warmUp(client);
  const naive = analyse(await naiveChainedTimeout(client));

  const ms = (value: number, digits = 2) => `${value.toFixed(digits)} ms`;
  const signed = (value: number) => `${value >= 0 ? "+" : ""}${ms(value, 1)}`;
  const share = (value: number) => `${((value / EVERY_MS) * 100).toFixed(2)}%`;
  const columns = [
    "schedule",
    "mean period",
    "mean/every",
    "final drift",
    "worst |fire k − ideal|",
    "jitter p50",
    "jitter p95",
  ];
  const row = (label: string, stats: Stats) => [
    label,
    ms(stats.meanPeriod, 3),
    stats.ratio.toFixed(4),
    `${signed(stats.finalDrift)} (${share(stats.finalDrift)})`,
    `${ms(stats.worstDeviation, 1)} (${share(stats.worstDeviation)})`,
    ms(stats.jitterP50),
    ms(stats.jitterP95),
  ];
  const rows = [columns, row("interval extension", interval), row("naive chained setTimeout", naive)];
  const widths = columns.map((_, index) => Math.max(...rows.map((cells) => (cells[index] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((cell, index) =>
      index === 0 ? cell.padEnd(widths[index] ?? 0) : cell.padStart(widths[index] ?? 0),
    );

  const within = interval.ratio >= 0.99 && interval.ratio <= 1.01;
  process.stdout.write(
    `every ${EVERY_MS} ms, ${FIRES} fires each; arrival times of the run requests at a fake Gofer API on loopback; ` +
      "ideal fire k = first + k·every; jitter = |interval − every|\n" +
      `${rows.map((cells) => line(cells).join("  ")).join("\n")}\n` +
      `interval mean period / every: ${interval.ratio.toFixed(4)} (target within 0.99–1.01)\n` +
      `naive chained setTimeout mean period / every: ${naive.ratio.toFixed(4)}\n` +
      `target: mean period within 1% of every ${within ? "met" : "missed"}; every fire within 1% of first + k·every ` +
      `${interval.worstDeviation <= EVERY_MS * 0.01 ? "met" : "missed"} (worst ${share(interval.worstDeviation)})\n`,
  );
} finally {
  gofer.closeAllConnections();
  await new Promise((resolve) => gofer.close(resolve));
}
