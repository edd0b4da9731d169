/** Parsers for command-line values, each failing with a message that says what a good value looks like. */
import { InvalidArgumentError } from "commander";
import { durationToMs, GO_DURATION_PATTERN } from "../config/duration.ts";

/** `-v KEY=VALUE`, repeatable: collects into a record (a later KEY wins, as on the server). */
export function collectVariable(text: string, previous: Record<string, string> = {}): Record<string, string> {
  const separator = text.indexOf("=");
  if (separator <= 0) throw new InvalidArgumentError(`expected KEY=VALUE, got "${text}"`);
  return { ...previous, [text.slice(0, separator)]: text.slice(separator + 1) };
}

export function positiveInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1)
    throw new InvalidArgumentError(`expected a whole number of 1 or more, got "${text}"`);
  return value;
}

export function nonNegativeInteger(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value))
    throw new InvalidArgumentError(`expected a whole number of 0 or more, got "${text}"`);
  return value;
}

/**
 * A point in time: epoch milliseconds (`1767225600000`), an ISO date or timestamp (`2026-01-01`,
 * `2026-01-01T12:00:00Z`), or a duration ago in Go's syntax (`90m`, `1h30m`, `48h`).
 */
export function pointInTime(text: string, now = Date.now()): number {
  if (/^\d+$/.test(text) && Number.isSafeInteger(Number(text))) return Number(text);
  if (new RegExp(GO_DURATION_PATTERN).test(text)) return now - durationToMs(text);
  const parsed = Date.parse(text);
  if (Number.isNaN(parsed))
    throw new InvalidArgumentError(
      `expected epoch milliseconds, an ISO time such as 2026-01-01T12:00:00Z, or a duration ago such as 2h, got "${text}"`,
    );
  return parsed;
}
