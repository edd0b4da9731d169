/**
 * The cron extension's subscription settings, checked and compiled once, and the schedule arithmetic that uses
 * croner's own pattern engine, so what is validated is exactly what runs.
 */
import { Cron } from "croner";

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

export interface CronSettings {
  expression: string;
  /** An IANA time zone; UTC when the subscription names none. */
  timezone: string;
  /** Start one run after downtime that missed a scheduled time. */
  catchUp: boolean;
}

export const DEFAULT_TIMEZONE = "UTC";

/** A croner job that never runs by itself: for validation and for asking when ticks fall. */
export function pausedCron(settings: Pick<CronSettings, "expression" | "timezone">): Cron {
  return new Cron(settings.expression, { paused: true, timezone: settings.timezone, mode: "5-or-6-parts" });
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

/** Why `expression` is not a usable cron expression in `timezone`, or undefined when it is. */
export function expressionProblem(expression: string, timezone: string): string | undefined {
  const quoted = JSON.stringify(expression);
  // croner reads a string without spaces such as "2030-01-01T00:00" as a single date; that is no schedule.
  if (!expression.startsWith("@") && !/\s/.test(expression)) {
    return `expression ${quoted} is not a cron expression: expected 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds first`;
  }
  let cron: Cron;
  try {
    cron = pausedCron({ expression, timezone });
  } catch (error) {
    return `expression ${quoted} is not a valid cron expression: ${error instanceof Error ? error.message : String(error)}`;
  }
  try {
    if (cron.getOnce() !== null) return `expression ${quoted} is a single date, not a schedule`;
    if (cron.nextRun() === null) return `expression ${quoted} never matches a date (such as February 30th)`;
    return undefined;
  } finally {
    cron.stop();
  }
}

/** The subscription params `expression`, `timezone` and `catch_up`, checked. */
export function parseCronParams(params: Record<string, string>): Checked<CronSettings> {
  const expression = (params.expression ?? "").trim().replace(/\s+/g, " ");
  const timezone = params.timezone?.trim() || DEFAULT_TIMEZONE;
  const problem = timezoneProblem(timezone) ?? expressionProblem(expression, timezone);
  if (problem) return { ok: false, problem };
  const catchUp = params.catch_up?.trim().toLowerCase() ?? "false";
  if (catchUp !== "true" && catchUp !== "false") {
    return { ok: false, problem: `catch_up ${JSON.stringify(params.catch_up)} must be "true" or "false"` };
  }
  return { ok: true, value: { expression, timezone, catchUp: catchUp === "true" } };
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
export function missedTicks(
  settings: Pick<CronSettings, "expression" | "timezone">,
  lastFire: Date,
  now: Date,
): MissedTicks | undefined {
  const cron = pausedCron(settings);
  try {
    const first = cron.nextRun(lastFire);
    if (!first || first.getTime() > now.getTime()) return undefined;
    return { first, latest: latestTickAtOrBefore(cron, now) ?? first };
  } finally {
    cron.stop();
  }
}
