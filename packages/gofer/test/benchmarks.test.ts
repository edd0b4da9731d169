/**
 * Every benchmark under bench/ starts and completes at a tiny size, so none rots between the runs that measure
 * (they take minutes and run by hand: `npm run bench -- <name>`). A benchmark exits non-zero when what it checks
 * fails (a lost log line, an event delivered twice, a failed run); its figures and ratios are printed last, so the
 * last line must carry one.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";

const ROOT = join(import.meta.dirname, "..", "..", "..");
const BENCH = join(ROOT, "bench");

/** Each benchmark's knobs for a run of seconds. */
const TINY: Record<string, Record<string, string>> = {
  "api-load": { BENCH_RUNS: "200", BENCH_BASELINE_RUNS: "50", BENCH_DURATION_S: "1" },
  capacity: { BENCH_SIZES: "5,20", BENCH_ROUNDS: "1", BENCH_THROUGHPUT_RUNS: "2" },
  "cli-startup": { BENCH_ROUNDS: "1" },
  "deep-queue": { BENCH_QUEUED: "50" },
  "event-stream": { BENCH_LISTENERS: "5", BENCH_TASKS: "3", BENCH_ROUNDS: "1" },
  "fan-out": { BENCH_SIZES: "3", BENCH_ROUNDS: "1" },
  "interval-accuracy": { BENCH_FIRES: "2", BENCH_EVERY_MS: "1000" },
  logs: {
    BENCH_LOG_MB: "2",
    BENCH_BIG_LOG_MB: "4",
    BENCH_FOLLOWERS: "5",
    BENCH_ROUNDS: "1",
    BENCH_CONCURRENT_MB: "1",
  },
  "run-loop": { BENCH_ROUNDS: "1", BENCH_TASKS: "3" },
  startup: { BENCH_RUNS: "200", BENCH_UNFINISHED: "10", BENCH_ROUNDS: "1" },
  "web-bundle": {},
};

const benchmarks = readdirSync(BENCH)
  .filter((file) => file.endsWith(".bench.ts"))
  .map((file) => file.slice(0, -".bench.ts".length))
  .sort();

function runBenchmark(name: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(BENCH, "run.ts"), name], {
      cwd: ROOT,
      env: { ...process.env, ...TINY[name] },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += chunk;
    });
    child.stderr.on("data", (chunk) => {
      output += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe("benchmarks at a tiny size", () => {
  it("knows a tiny size for every benchmark there is", () => {
    assert.deepEqual(benchmarks, Object.keys(TINY).sort());
  });

  for (const name of benchmarks) {
    it(`${name} starts, completes and prints its figures`, { timeout: 180_000 }, async () => {
      const { code, output } = await runBenchmark(name);
      assert.equal(code, 0, `npm run bench -- ${name} exited ${code}:\n${output.slice(-4000)}`);
      const last = output.trim().split("\n").at(-1) ?? "";
      assert.match(last, /\d/, `the last line holds no figure:\n${output.slice(-2000)}`);
    });
  }
});
