/**
 * Checks one task log against what the task printed: per stream, every numbered line exactly once and in order;
 * exactly one start marker (one container) and one end marker (it ran to the end); nothing else.
 */
import { expectedLines, type TaskSpec } from "./pipelines.ts";

export interface LogFigures {
  /** Expected lines looked for (markers included). */
  checked: number;
  missing: number;
  duplicated: number;
  /** Lines that came after a line printed later than them, in the same stream. */
  outOfOrder: number;
  /** Lines that are none of the task's: torn, garbled, or another task's. */
  unexpected: number;
  /** Logs whose start marker count is not exactly one (two markers: the task ran twice). */
  badStartMarkers: number;
}

export const emptyFigures = (): LogFigures => ({
  checked: 0,
  missing: 0,
  duplicated: 0,
  outOfOrder: 0,
  unexpected: 0,
  badStartMarkers: 0,
});

export function addFigures(total: LogFigures, more: LogFigures): void {
  for (const key of Object.keys(total) as Array<keyof LogFigures>) total[key] += more[key];
}

/** One stream's expected sequence and the positions (into it) of the lines actually found, in log order. */
class StreamCheck {
  readonly name: string;
  readonly expected: string[];
  readonly found: number[] = [];

  constructor(name: string, expected: string[]) {
    this.name = name;
    this.expected = expected;
  }

  tally(problems: string[], figures: LogFigures): void {
    const counts = new Array<number>(this.expected.length).fill(0);
    let highest = -1;
    const late: string[] = [];
    for (const position of this.found) {
      counts[position] = (counts[position] ?? 0) + 1;
      if (counts[position] > 1) continue;
      if (position < highest) late.push(this.expected[position] ?? "?");
      highest = Math.max(highest, position);
    }
    const missing = this.expected.filter((_, position) => counts[position] === 0);
    const duplicated = counts.reduce((sum, count) => sum + Math.max(0, count - 1), 0);
    figures.checked += this.expected.length;
    figures.missing += missing.length;
    figures.duplicated += duplicated;
    figures.outOfOrder += late.length;
    if (missing.length > 0) problems.push(`${this.name}: ${missing.length} missing (${sample(missing)})`);
    if (duplicated > 0) {
      const twice = this.expected.filter((_, position) => (counts[position] ?? 0) > 1);
      problems.push(`${this.name}: ${duplicated} duplicated (${sample(twice)})`);
    }
    if (late.length > 0) problems.push(`${this.name}: ${late.length} out of order (${sample(late)})`);
  }
}

function sample(lines: string[]): string {
  const shown = lines.slice(0, 3).map((line) => `"${line}"`);
  return lines.length > 3 ? `${shown.join(", ")}, …` : shown.join(", ");
}

/** Checks a ran task's log text; returns its figures and a description of each problem (empty when clean). */
export function checkLog(
  text: string,
  spec: TaskSpec,
  runId: number,
): { figures: LogFigures; problems: string[] } {
  const tag = `${runId}/${spec.id}`;
  const lines = expectedLines(spec, runId);
  const stdout = new StreamCheck("stdout", [`${tag} start`, ...lines.stdout, `${tag} end`]);
  const stderr = new StreamCheck("stderr", lines.stderr);
  const stdoutIndex = new Map(stdout.expected.map((line, position) => [line, position]));
  const stderrIndex = new Map(stderr.expected.map((line, position) => [line, position]));
  const startPrefix = `${tag} start `;
  const isStartMarker = (line: string) =>
    line.startsWith(startPrefix) && /^[0-9a-f-]{36}$/.test(line.slice(startPrefix.length));

  const figures = emptyFigures();
  const problems: string[] = [];
  const strangers: string[] = [];
  let starts = 0;
  const all = text.endsWith("\n") ? text.slice(0, -1).split("\n") : text === "" ? [] : text.split("\n");
  for (const line of all) {
    if (isStartMarker(line)) {
      starts += 1;
      stdout.found.push(0);
    } else if (stdoutIndex.has(line) && line !== `${tag} start`) {
      stdout.found.push(stdoutIndex.get(line) ?? 0);
    } else if (stderrIndex.has(line)) {
      stderr.found.push(stderrIndex.get(line) ?? 0);
    } else {
      strangers.push(line);
    }
  }
  stdout.tally(problems, figures);
  stderr.tally(problems, figures);
  figures.unexpected = strangers.length;
  if (strangers.length > 0) problems.push(`${strangers.length} unexpected line(s) (${sample(strangers)})`);
  if (starts !== 1) {
    figures.badStartMarkers = 1;
    problems.push(`${starts} start markers (one container must print exactly one)`);
  }
  return { figures, problems };
}
