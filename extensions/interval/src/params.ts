/**
 * The interval extension's settings: the install-time `min_interval` and the subscription's `every`, each checked
 * and compiled once into milliseconds.
 */
import { DURATION_EXAMPLES, formatDuration, parseGoDuration } from "./duration.ts";

export const DEFAULT_MIN_INTERVAL = "1m";

export type Checked<T> = { ok: true; value: T } | { ok: false; problem: string };

/** The config param `min_interval` (default 1m): the shortest `every` a subscription may ask for. */
export function parseMinInterval(value: string | undefined): Checked<number> {
  const text = value ?? DEFAULT_MIN_INTERVAL;
  const ms = parseGoDuration(text);
  if (ms === undefined || ms <= 0) {
    return {
      ok: false,
      problem: `min_interval ${JSON.stringify(text)} is not a positive duration such as ${DURATION_EXAMPLES}`,
    };
  }
  return { ok: true, value: ms };
}

/** The subscription param `every`: a positive duration no shorter than `minIntervalMs`. */
export function parseEvery(value: string, minIntervalMs: number): Checked<number> {
  const ms = parseGoDuration(value.trim());
  if (ms === undefined || ms <= 0) {
    return {
      ok: false,
      problem: `every ${JSON.stringify(value)} is not a positive duration such as ${DURATION_EXAMPLES}`,
    };
  }
  if (ms < minIntervalMs) {
    return {
      ok: false,
      problem:
        `every ${JSON.stringify(value)} is shorter than this extension's min_interval ` +
        `${JSON.stringify(formatDuration(minIntervalMs))}; ask for a longer interval, or reinstall the extension ` +
        "with a lower min_interval",
    };
  }
  return { ok: true, value: ms };
}
