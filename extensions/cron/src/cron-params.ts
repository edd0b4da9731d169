/**
 * The cron extension's subscription settings, checked and compiled once, and the schedule arithmetic that uses
 * croner's own pattern engine, so what is validated is exactly what runs.
 *
 * `expression` means what it meant in Gofer's cron extension, so a migrated subscription fires when it used to:
 * 6 fields are `minute hour day-of-month month day-of-week year` (Gofer parsed them with
 * github.com/clintjedwards/avail, which requires both day fields to match), 5 fields are standard cron. Seconds
 * never come from `expression`; the separate `seconds` param holds them. Whatever the form, croner is handed one
 * 7-field pattern (second minute hour day-of-month month day-of-week year) in its "7-part" mode, so it never has
 * to guess which field is which.
 */
import { Cron, CronPattern } from "croner";

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** What croner runs for a subscription. */
export interface Schedule {
  /** Always 7 fields: second minute hour day-of-month month day-of-week year. */
  pattern: string;
  /** Both day fields must match (Gofer's 6-field form), rather than either (standard cron). */
  domAndDow: boolean;
  /** An IANA time zone: the fields, year included, are read in it. */
  timezone: string;
}

export interface CronSettings extends Schedule {
  /** As subscribed, whitespace collapsed. */
  expression: string;
  /** The seconds field; "0" unless the subscription asks for more than one run a minute. */
  seconds: string;
  /** Start one run after downtime that missed a scheduled time. */
  catchUp: boolean;
}

export const DEFAULT_TIMEZONE = "UTC";
export const DEFAULT_SECONDS = "0";

/** Gofer's year field took 1970-2100; a step such as `*\/2` counts from the first of them. */
export const FIRST_YEAR = 1970;
export const LAST_YEAR = 2100;

const FIVE_FIELDS = "minute hour day-of-month month day-of-week";
const EXPECTED_FORMS = `5 fields (${FIVE_FIELDS}) or 6 fields (${FIVE_FIELDS} year, as in Gofer), or a nickname such as @daily`;

interface FieldRule {
  name: string;
  /** Index in croner's 7-field pattern. */
  position: number;
  expected: string;
}

const SECOND_FIELD: FieldRule = { name: "seconds", position: 0, expected: "0-59, with * , - /" };
const CALENDAR_FIELDS: FieldRule[] = [
  { name: "minute", position: 1, expected: "0-59, with * , - /" },
  { name: "hour", position: 2, expected: "0-23, with * , - /" },
  { name: "day-of-month", position: 3, expected: "1-31, L or nW, with * , - /" },
  { name: "month", position: 4, expected: "1-12 or JAN-DEC, with * , - /" },
  {
    name: "day-of-week",
    position: 5,
    expected: "0-7 or SUN-SAT (0 and 7 are Sunday), n#k, nL or a leading +, with * , - /",
  },
];

/** The standard cron nicknames, as the 5 fields they stand for. */
const NICKNAMES: Record<string, string> = {
  "@yearly": "0 0 1 1 *",
  "@annually": "0 0 1 1 *",
  "@monthly": "0 0 1 * *",
  "@weekly": "0 0 * * 0",
  "@daily": "0 0 * * *",
  "@midnight": "0 0 * * *",
  "@hourly": "0 * * * *",
};

/** A croner job that never runs by itself: for asking when ticks fall. */
export function pausedCron(schedule: Schedule): Cron {
  return new Cron(schedule.pattern, { paused: true, ...cronOptions(schedule) });
}

/** The croner options every job of `schedule` needs. */
export function cronOptions(schedule: Schedule) {
  return { timezone: schedule.timezone, mode: "7-part", domAndDow: schedule.domAndDow } as const;
}

/** Why `timezone` is not an IANA time zone the runtime knows, or undefined when it is. */
export function timezoneProblem(timezone: string): string | undefined {
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return undefined;
  } catch {
    return `timezone ${JSON.stringify(timezone)} is not an IANA time zone name such as "Europe/Berlin" or "UTC"`;
  }
}

/** Why one field is not something croner takes in its place, or undefined when it is. */
function fieldProblem(rule: FieldRule, value: string): string | undefined {
  const probe = ["0", "*", "*", "*", "*", "*", "*"];
  probe[rule.position] = value;
  try {
    new CronPattern(probe.join(" "), undefined, { mode: "7-part" });
    return undefined;
  } catch {
    return `the ${rule.name} field ${JSON.stringify(value)} is not valid: expected ${rule.expected}`;
  }
}

/**
 * The years a year field names, as a croner year field (`*` stays `*`, so an open-ended schedule does not stop
 * in 2100), or why it names none. Items are `*`, a year, a range `2026-2028`, each with an optional step
 * (`*\/2`, `2026-2034/4`, `2026/5`), separated by commas.
 */
export function yearField(value: string): Checked<string> {
  if (value === "*") return { ok: true, value };
  const years = new Set<number>();
  // A 6-field expression written seconds-first lands its day-of-week here, hence the hint.
  const problem = (why: string) => ({
    ok: false as const,
    problem:
      `the year field ${JSON.stringify(value)} is not valid (${why}): expected years ${FIRST_YEAR}-${LAST_YEAR}, ` +
      `a range, list or step of them such as 2026-2028, 2026,2028 or */2; 6 fields are ${FIVE_FIELDS} year, ` +
      "and seconds go in the seconds param",
  });
  for (const item of value.split(",")) {
    const parts = /^(?:(\*)|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
    if (!parts) return problem(`${JSON.stringify(item)} is not a year, range or step`);
    const [, star, from, to, step] = parts;
    const first = star ? FIRST_YEAR : Number(from);
    // Like `*`, a lone year with a step (`2026/5`) runs on to the last year.
    let last = to === undefined ? first : Number(to);
    if (star || (to === undefined && step !== undefined)) last = LAST_YEAR;
    for (const year of [first, last]) {
      if (year < FIRST_YEAR || year > LAST_YEAR) return problem(`${year} is out of range`);
    }
    if (first > last) return problem(`the range ${JSON.stringify(item)} runs backwards`);
    const increment = step === undefined ? 1 : Number(step);
    if (increment < 1) return problem(`the step in ${JSON.stringify(item)} must be at least 1`);
    for (let year = first; year <= last; year += increment) years.add(year);
  }
  return { ok: true, value: compactYears([...years].sort((a, b) => a - b)) };
}

/** Sorted years as a croner list with runs of consecutive years as ranges: `2026,2028-2030`. */
function compactYears(years: number[]): string {
  const items: string[] = [];
  for (let start = 0; start < years.length; ) {
    let end = start;
    while (end + 1 < years.length && years[end + 1] === (years[end] ?? 0) + 1) end += 1;
    items.push(end === start ? `${years[start]}` : `${years[start]}-${years[end]}`);
    start = end + 1;
  }
  return items.join(",");
}

/** `expression` (whitespace collapsed) and `seconds` as the croner pattern they mean, or why they mean none. */
export function compileExpression(
  expression: string,
  seconds: string = DEFAULT_SECONDS,
): Checked<Omit<Schedule, "timezone">> {
  const quoted = JSON.stringify(expression);
  const refuse = (why: string) => ({ ok: false as const, problem: `expression ${quoted}: ${why}` });
  const secondProblem = fieldProblem(SECOND_FIELD, seconds);
  if (secondProblem) return { ok: false, problem: `param seconds: ${secondProblem}` };

  let fields = expression === "" ? [] : expression.split(" ");
  const nickname = fields.length === 1 && fields[0]?.startsWith("@") ? fields[0].toLowerCase() : undefined;
  if (nickname !== undefined) {
    if (nickname === "@reboot") return refuse("@reboot is not supported: a schedule needs a time of day");
    const standard = NICKNAMES[nickname];
    if (!standard) return refuse(`unknown nickname; expected one of ${Object.keys(NICKNAMES).join(" ")}`);
    fields = standard.split(" ");
  }
  if (fields.length === 7) {
    return refuse(
      `has 7 fields; expected ${EXPECTED_FORMS}. The 6th field is the year; seconds go in the seconds param`,
    );
  }
  if (fields.length !== 5 && fields.length !== 6) {
    return refuse(
      `has ${fields.length} ${fields.length === 1 ? "field" : "fields"}; expected ${EXPECTED_FORMS}`,
    );
  }
  for (const [index, rule] of CALENDAR_FIELDS.entries()) {
    const problem = fieldProblem(rule, fields[index] ?? "");
    if (problem) return refuse(problem);
  }
  const year = fields.length === 6 ? yearField(fields[5] ?? "") : { ok: true as const, value: "*" };
  if (!year.ok) return refuse(year.problem);

  const pattern = [seconds, ...fields.slice(0, 5), year.value].join(" ");
  try {
    new CronPattern(pattern, undefined, { mode: "7-part" });
  } catch (error) {
    return refuse(`is not valid: ${error instanceof Error ? error.message : String(error)}`);
  }
  return { ok: true, value: { pattern, domAndDow: fields.length === 6 } };
}

/** Why `schedule` will never fire after `now`, or undefined when it will. */
export function exhaustedProblem(
  expression: string,
  schedule: Schedule,
  now: Date = new Date(),
): string | undefined {
  if (nextAfter(schedule, now)) return undefined;
  const quoted = JSON.stringify(expression);
  const anyYear = { ...schedule, pattern: schedule.pattern.replace(/ \S+$/, " *") };
  if (anyYear.pattern !== schedule.pattern && nextAfter(anyYear, now)) {
    return `expression ${quoted} never fires again: none of its times after ${now.toISOString()} falls in its year field (read in ${schedule.timezone})`;
  }
  return `expression ${quoted} never matches a date (such as February 30th)`;
}

function nextAfter(schedule: Schedule, now: Date): Date | null {
  const cron = pausedCron(schedule);
  try {
    return cron.nextRun(now);
  } finally {
    cron.stop();
  }
}

/** The subscription params `expression`, `seconds`, `timezone` and `catch_up`, checked and compiled. */
export function parseCronParams(
  params: Record<string, string>,
  now: Date = new Date(),
): Checked<CronSettings> {
  const expression = (params.expression ?? "").trim().replace(/\s+/g, " ");
  const seconds = params.seconds?.trim() || DEFAULT_SECONDS;
  const timezone = params.timezone?.trim() || DEFAULT_TIMEZONE;
  const zoneProblem = timezoneProblem(timezone);
  if (zoneProblem) return { ok: false, problem: zoneProblem };
  if (expression === "") {
    return { ok: false, problem: `param expression is required: ${EXPECTED_FORMS}` };
  }
  const compiled = compileExpression(expression, seconds);
  if (!compiled.ok) return compiled;
  const schedule = { ...compiled.value, timezone };
  const problem = exhaustedProblem(expression, schedule, now);
  if (problem) return { ok: false, problem };
  const catchUp = params.catch_up?.trim().toLowerCase() ?? "false";
  if (catchUp !== "true" && catchUp !== "false") {
    return { ok: false, problem: `catch_up ${JSON.stringify(params.catch_up)} must be "true" or "false"` };
  }
  return { ok: true, value: { expression, seconds, ...schedule, catchUp: catchUp === "true" } };
}

/**
 * The latest scheduled time at or before `now`. croner fires a tick a few milliseconds after its time, so this
 * is also how a firing job learns which tick it is running for.
 */
export function latestTickAtOrBefore(cron: Cron, now: Date): Date | undefined {
  // previousRuns looks strictly before the reference's whole second; start one second later to include `now`'s.
  const reference = new Date(Math.floor(now.getTime() / 1000) * 1000 + 1000);
  return cron.previousRuns(1, reference)[0];
}

export interface MissedTicks {
  /** The first scheduled time after the last fire. */
  first: Date;
  /** The latest scheduled time at or before `now`: what a catch-up run stands for. */
  latest: Date;
}

/** The scheduled times that fell in (lastFire, now], or undefined when none did. */
export function missedTicks(schedule: Schedule, lastFire: Date, now: Date): MissedTicks | undefined {
  const cron = pausedCron(schedule);
  try {
    const first = cron.nextRun(lastFire);
    if (!first || first.getTime() > now.getTime()) return undefined;
    return { first, latest: latestTickAtOrBefore(cron, now) ?? first };
  } finally {
    cron.stop();
  }
}
