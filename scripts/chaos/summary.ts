/** The figures and the violations the chaos test ends with, printed for people and CI logs alike. */
import type { Interval } from "./options.ts";
import type { StartRecord, Verification } from "./verify.ts";

const MAX_LISTED_VIOLATIONS = 40;

export interface SummaryInput {
  seed: number;
  plannedKills: number;
  /** When the test began (ms since the epoch). */
  began: number;
  violations: string[];
  verification: Verification | undefined;
  starts: Map<string, StartRecord>;
  killTimes: number[];
  bootTimes: number[];
  /** With replicas: from each kill of the leader to another replica leading. */
  adoptionTimes: number[];
  /** Undefined when the test ended before it could look. */
  leftover: { running: number; exited: number } | undefined;
  removed: number;
  shutdown: string;
  schedule: Interval[];
}

export function printSummary(input: SummaryInput): void {
  const { violations, verification: v, starts, killTimes, bootTimes, leftover } = input;
  const records = [...starts.values()];
  const requested = records.reduce((sum, record) => sum + record.attempts, 0);
  const acknowledged = records.reduce((sum, record) => sum + record.acknowledged.size, 0);
  const interrupted = records.reduce((sum, record) => sum + record.interrupted, 0);
  const early = input.schedule.slice(0, killTimes.length).filter((interval) => interval.early).length;
  const tally = (counts: Record<string, number>) =>
    Object.entries(counts)
      .map(([status, count]) => `${status} ${count}`)
      .join(", ") || "none";
  const boot = bootTimes.length > 0 ? `${Math.min(...bootTimes)}–${Math.max(...bootTimes)} ms` : "n/a";
  const lines = [
    "",
    "chaos summary",
    `  seed           ${input.seed}`,
    `  kills          ${killTimes.length} of ${input.plannedKills} (${early} during boot); server answered ${boot} after each start`,
    ...(input.adoptionTimes.length > 0
      ? [
          `  takeovers      ${input.adoptionTimes.length} kill(s) of the leader; another replica led after ` +
            `${Math.min(...input.adoptionTimes)}–${Math.max(...input.adoptionTimes)} ms ` +
            `(median ${median(input.adoptionTimes)} ms)`,
        ]
      : []),
    `  runs           ${requested} requested, ${acknowledged} acknowledged, ${interrupted} cut off by a kill`,
  ];
  if (v) {
    const l = v.logs;
    lines.push(
      `  runs on server ${v.runs}: ${tally(v.runsByStatus)}; ${v.runsThroughKills} lived through at least one kill`,
      `  tasks          ${v.tasks}: ${tally(v.tasksByStatus)}`,
      `  log lines      ${l.checked} checked: ${l.missing} missing, ${l.duplicated} duplicated, ` +
        `${l.outOfOrder} out of order, ${l.unexpected} unexpected, ${l.badStartMarkers} log(s) without exactly one start marker`,
      `  containers     ${v.created} created, ${v.started} started: ${v.ranTwice} task(s) ran twice, ` +
        `${v.extraCreates} with a never-started container replaced, ${v.neverCreated} never created, ` +
        `${v.strayCreates} stray`,
    );
  }
  lines.push(
    leftover
      ? `  left behind    ${leftover.running} running, ${leftover.exited} exited container(s) of this instance` +
          ` (${input.removed} removed by the cleanup)`
      : `  left behind    not checked; ${input.removed} container(s) of this instance removed by the cleanup`,
    `  shutdown       ${input.shutdown}`,
    `  wall time      ${((Date.now() - input.began) / 1000).toFixed(1)} s`,
    violations.length === 0 ? "PASS" : `FAIL: ${violations.length} violation(s)`,
    ...violations.slice(0, MAX_LISTED_VIOLATIONS).map((violation) => `  - ${violation}`),
  );
  if (violations.length > MAX_LISTED_VIOLATIONS) {
    lines.push(`  … and ${violations.length - MAX_LISTED_VIOLATIONS} more`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? 0;
}
