/**
 * Go-style durations ("30s", "5m", "1h30m"), the syntax Gofer's interval extension has always taken.
 *
 * parse-duration on its own is lenient (it skips text it does not understand and knows units Go does not, such
 * as "d"), so the pattern decides what is accepted and parse-duration only does the arithmetic.
 */
import parseDuration from "parse-duration";

/** Go's `time.ParseDuration` syntax without a sign. */
const GO_DURATION = /^(?:0|(?:[0-9]+(?:\.[0-9]+)?(?:ns|us|µs|ms|s|m|h))+)$/;

export const DURATION_EXAMPLES = '"30s", "5m", "1h30m"';

/** Milliseconds in `text`, or undefined when it is not a Go duration. */
export function parseGoDuration(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  const ms = parseDuration(text);
  return ms === null ? undefined : ms;
}

const UNITS: ReadonlyArray<readonly [string, number]> = [
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1_000],
];

/** `ms` written the way Go prints durations, for messages: 5400000 → "1h30m", 1500 → "1.5s", 250 → "250ms". */
export function formatDuration(ms: number): string {
  if (ms < 1_000) return `${Number(ms.toFixed(3))}ms`;
  let rest = ms;
  let text = "";
  for (const [unit, size] of UNITS) {
    if (unit === "s") {
      if (rest > 0) text += `${Number((rest / size).toFixed(3))}s`;
      break;
    }
    const whole = Math.floor(rest / size);
    if (whole > 0) text += `${whole}${unit}`;
    rest -= whole * size;
  }
  return text;
}
