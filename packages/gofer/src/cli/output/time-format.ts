/** How the CLI writes times: "3m ago" and "1m 05s" for people, exact ISO timestamps with `--detail`. */

const UNITS: [limitMs: number, unitMs: number, suffix: string][] = [
  [60_000, 1000, "s"],
  [3_600_000, 60_000, "m"],
  [86_400_000, 3_600_000, "h"],
  [Number.POSITIVE_INFINITY, 86_400_000, "d"],
];

/** `0` is v0's "never": such a time prints as "-". Future times (token expiry) read "in 3h". */
export function relativeTime(epochMs: number, now = Date.now()): string {
  if (!epochMs) return "-";
  const elapsed = now - epochMs;
  if (Math.abs(elapsed) < 1000) return "just now";
  const distance = Math.abs(elapsed);
  for (const [limit, unit, suffix] of UNITS) {
    if (distance >= limit) continue;
    const amount = `${Math.floor(distance / unit)}${suffix}`;
    return elapsed > 0 ? `${amount} ago` : `in ${amount}`;
  }
  return "-";
}

export const exactTime = (epochMs: number): string => (epochMs ? new Date(epochMs).toISOString() : "-");

export function formatDuration(ms: number): string {
  if (ms < 0) return "-";
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = Math.floor(ms / 1000);
  if (seconds < 60) return `${(ms / 1000).toFixed(1)}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${String(seconds % 60).padStart(2, "0")}s`;
  return `${Math.floor(minutes / 60)}h ${String(minutes % 60).padStart(2, "0")}m`;
}

/** From `started` to `ended`, or to now while still going; "-" before it started. */
export function spanDuration(started: number, ended: number, now = Date.now()): string {
  if (!started) return "-";
  return formatDuration((ended || now) - started);
}
