/**
 * Durations in the configuration: whole seconds (what Gofer's TOML used) or a Go-style string.
 *
 * parse-duration on its own is lenient (it skips text it does not understand, so "5 mins please" parses); the
 * pattern below decides what is accepted and parse-duration only does the arithmetic.
 */
import parseDuration from "parse-duration";

/** Go's `time.ParseDuration` syntax without the sign: "0", "90s", "1.5h", "1h30m", "250ms". */
export const GO_DURATION_PATTERN = "^(?:0|(?:[0-9]+(?:\\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+)$";

export const DURATION_EXPECTED =
  'a duration (whole seconds such as 300, or a string such as "90s", "5m", "1h30m")';

/** Converts an already-validated duration to milliseconds, rounded to the nearest millisecond. */
export function durationToMs(value: number | string): number {
  if (typeof value === "number") return value * 1000;
  const ms = parseDuration(value);
  if (ms === null) throw new Error(`duration ${JSON.stringify(value)} passed validation but did not parse`);
  return Math.round(ms);
}
