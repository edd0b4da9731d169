/**
 * The chaos test's command line and its schedule. Everything random comes from one seeded generator and is drawn
 * up front, so `--seed` replays the same schedule (kill delays, which run starts when); only the server's own
 * timing differs between replays.
 */
import { parseArgs } from "node:util";

export interface ChaosOptions {
  kills: number;
  runs: number;
  seed: number;
  keep: boolean;
  /** The whole test, setup to cleanup, must end within this many milliseconds. */
  deadlineMs: number;
  /** 0: one server on SQLite; N ≥ 2: N replicas on PostgreSQL behind haproxy, one killed at a time. */
  replicas: number;
}

const USAGE = `usage: node scripts/chaos.ts [--kills N] [--runs N] [--seed S] [--keep] [--deadline SECONDS] [--replicas N]

  --kills N      kill -9 the server N times while runs are in flight (default 10)
  --runs N       runs to start, spread over the test (default 12)
  --seed S       seed of the schedule, to replay a failure (default: random, printed)
  --keep         keep the data directory (database, logs, server log) afterwards
  --deadline S   fail if the whole test takes longer (default scales with --kills and --runs, at least 360)
  --replicas N   run N (at least 2) replicas on a private PostgreSQL behind haproxy and kill one at a time,
                 the leader half of the time, restarting it after a random pause (default: one server on SQLite)

The long form: npm run chaos -- --kills 50 --runs 100`;

/** Parses argv; prints usage and exits on --help or a bad value. */
export function parseOptions(argv: string[]): ChaosOptions {
  let values: ReturnType<typeof parse>["values"];
  try {
    values = parse(argv).values;
  } catch (error) {
    usageError(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const kills = count(values.kills, "--kills", 10);
  const runs = count(values.runs, "--runs", 12);
  if (runs < 1) usageError("--runs must be at least 1");
  const seed =
    values.seed === undefined ? Math.floor(Math.random() * 2 ** 32) : count(values.seed, "--seed", 0);
  const replicas = count(values.replicas, "--replicas", 0);
  if (replicas === 1) usageError("--replicas takes 2 or more (one replica is the single-server test)");
  // A replica kill waits for the takeover and a pause before the next interval.
  const defaultDeadline = Math.max(360, 240 + (replicas > 0 ? 20 : 8) * kills + runs);
  const deadlineSeconds = count(values.deadline, "--deadline", defaultDeadline);
  return {
    kills,
    runs,
    seed: seed >>> 0,
    keep: values.keep === true,
    deadlineMs: deadlineSeconds * 1000,
    replicas,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    options: {
      kills: { type: "string" },
      runs: { type: "string" },
      seed: { type: "string" },
      deadline: { type: "string" },
      replicas: { type: "string" },
      keep: { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
}

function count(value: string | undefined, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value)) usageError(`${name} takes a whole number, got "${value}"`);
  return Number(value);
}

function usageError(message: string): never {
  process.stderr.write(`chaos: ${message}\n${USAGE}\n`);
  process.exit(2);
}

/** mulberry32: small, fast and good enough to pick delays; the same seed gives the same sequence. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

/** A stretch of time with the server up; all but the last end with a kill -9. */
export interface Interval {
  durationMs: number;
  /** A short interval, so the kill lands while the server is still finishing its boot (recovery). */
  early: boolean;
  /** Runs started in this interval, each at its offset from the moment the server answered. */
  starts: Array<{ pipeline: string; offsetMs: number }>;
}

/**
 * Draws the schedule: `kills + 1` intervals of 0.3–2.5 s (one in five only 0.02–0.3 s, landing during boot),
 * and each run's pipeline (every pipeline in turn, shuffled), interval and offset inside it. Offsets reach the
 * interval's end, so some start requests race the kill.
 */
export function drawSchedule(options: ChaosOptions, pipelines: string[], random: () => number): Interval[] {
  const intervals: Interval[] = [];
  for (let index = 0; index <= options.kills; index++) {
    const early = options.kills > 0 && random() < 0.2;
    const durationMs = early ? 20 + random() * 280 : 300 + random() * 2200;
    intervals.push({ durationMs: Math.round(durationMs), early, starts: [] });
  }
  // Without kills there is one interval: stretch it so the runs are still staggered.
  const only = intervals[0];
  if (options.kills === 0 && only) only.durationMs = Math.max(3000, options.runs * 250);

  const order = Array.from({ length: options.runs }, (_, index) => pipelines[index % pipelines.length] ?? "");
  for (let index = order.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [order[index], order[other]] = [order[other] ?? "", order[index] ?? ""];
  }
  for (const pipeline of order) {
    const interval = intervals[Math.floor(random() * intervals.length)];
    if (!interval) continue;
    interval.starts.push({ pipeline, offsetMs: Math.round(random() * interval.durationMs) });
  }
  for (const interval of intervals) interval.starts.sort((a, b) => a.offsetMs - b.offsetMs);
  return intervals;
}
