/** How times, durations and statuses read on the page. */

export function duration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return "–";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m ${Math.round(seconds % 60)}s`;
  return `${Math.floor(minutes / 60)}h ${minutes % 60}m`;
}

/** From `started` to `ended`, or to now while still going; "–" when it never started. */
export function span(started: number, ended: number, now = Date.now()): string {
  if (!started) return "–";
  return duration((ended || now) - started);
}

export function when(epochMs: number): string {
  if (!epochMs) return "–";
  const seconds = Math.round((Date.now() - epochMs) / 1000);
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)} h ago`;
  return new Date(epochMs).toLocaleString();
}

export const exactTime = (epochMs: number): string => (epochMs ? new Date(epochMs).toLocaleString() : "");

/** The word shown for a run or task: its status once complete, its state before. */
export function outcome(state: string, status: string): string {
  return state === "complete" ? status : state;
}

/** How long ago, to the second while recent: for heartbeats, where `when`'s "just now" says too little. */
export function ago(epochMs: number, now = Date.now()): string {
  if (!epochMs) return "–";
  const ms = now - epochMs;
  return ms < 1000 ? "just now" : `${duration(ms)} ago`;
}

/** How long until a time ("in 4.2 s"), or since it passed ("3.0 s ago"). */
export function fromNow(epochMs: number, now = Date.now()): string {
  if (!epochMs) return "–";
  const ms = epochMs - now;
  return ms >= 0 ? `in ${duration(ms)}` : `${duration(-ms)} ago`;
}
