/**
 * The resume point of a task log: how many bytes of the file are known to hold exactly the container's output
 * up to a position in its stream. Kept next to the log as `<task>.log.cursor`.
 *
 * After a crash the log is cut back to `size` and capture resumes at `position`: whatever was written after
 * the cursor was saved is written again, once, so no line is lost and none is doubled. That makes saving the
 * cursor lazily (not after every line) safe, and a missing or torn cursor file only means starting over from
 * the container's first line. So does one of an older format, whose positions the backends no longer read.
 */
import { readFile, rename, rm, writeFile } from "node:fs/promises";
import type { LogCursor } from "../scheduler/scheduler.ts";

export interface LogCommit {
  /** Where the container's stream resumes; undefined before the first stamped piece (resume from the start). */
  position: LogCursor | undefined;
  /** Bytes of the log file that hold exactly the output up to `position`. */
  size: number;
}

/** Written into every cursor file; bumped when the shape of positions changes. */
const FORMAT = 2;

export const cursorPathOf = (logPath: string): string => `${logPath}.cursor`;

/** Replaces the cursor file whole (write, then rename), so a reader never sees half of one. */
export async function saveCursor(logPath: string, commit: LogCommit): Promise<void> {
  const path = cursorPathOf(logPath);
  await writeFile(`${path}.tmp`, JSON.stringify({ format: FORMAT, ...commit }));
  await rename(`${path}.tmp`, path);
}

/** The saved cursor; the start of the log when there is none or it cannot be read. */
export async function loadCursor(logPath: string): Promise<LogCommit> {
  const start: LogCommit = { position: undefined, size: 0 };
  let text: string;
  try {
    text = await readFile(cursorPathOf(logPath), "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return start;
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as Partial<LogCommit> & { format?: unknown };
    const position = parsed.position;
    const validPosition =
      position === undefined ||
      (typeof position === "object" &&
        position !== null &&
        Object.values(position).every((value) => typeof value === "string" || typeof value === "number"));
    if (parsed.format !== FORMAT || !validPosition) return start;
    if (!Number.isSafeInteger(parsed.size) || (parsed.size as number) < 0) return start;
    return { position, size: parsed.size as number };
  } catch {
    return start;
  }
}

export async function removeCursor(logPath: string): Promise<void> {
  const path = cursorPathOf(logPath);
  await Promise.all([rm(path, { force: true }), rm(`${path}.tmp`, { force: true })]);
}
