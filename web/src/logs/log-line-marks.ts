/**
 * What a log row shows beside its text: a mark for stderr, and, when the reader turns timestamps on, the local
 * time the line arrived. The choice is remembered for the browser tab, so it holds from one run to the next.
 */

const TIMESTAMPS_KEY = "gofer.log.timestamps";

/** A line's arrival as a wall clock, to the millisecond: lines a few ms apart still read apart. */
export function clockTime(epochMs: number): string {
  const date = new Date(epochMs);
  const two = (value: number) => String(value).padStart(2, "0");
  return `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}.${String(
    date.getMilliseconds(),
  ).padStart(3, "0")}`;
}

export function timestampsRemembered(storage: Pick<Storage, "getItem"> | undefined = tabStorage()): boolean {
  return storage?.getItem(TIMESTAMPS_KEY) === "on";
}

export function rememberTimestamps(
  on: boolean,
  storage: Pick<Storage, "setItem"> | undefined = tabStorage(),
): void {
  storage?.setItem(TIMESTAMPS_KEY, on ? "on" : "off");
}

/** Whether any of `streams` says stderr: only then does the log explain its stderr mark. */
export function hasStderr(streams: ReadonlyArray<string | undefined>): boolean {
  return streams.includes("stderr");
}

/** Session storage, or nothing where the browser refuses it (private modes, sandboxed frames). */
function tabStorage(): Storage | undefined {
  try {
    return globalThis.sessionStorage;
  } catch {
    return undefined;
  }
}
