/**
 * Positions in a Docker log stream, for resuming it exactly.
 *
 * A position is an {@link EngineLogCursor}: the output from `timestamp` on (the whole log without one), after
 * its first `stdout` and `stderr` bytes. The engine can only filter a container's log by timestamp (`since`,
 * inclusive), and the stdout and stderr copiers stamp their pieces before taking turns at the log file, so
 * stamps are not in stream order: a piece can carry an earlier stamp than the one before it (by microseconds).
 * Asking with `since` at a stamp S returns, in stream order, every piece stamped S or later; that is exactly
 * the delivered pieces stamped S or later followed by everything not yet delivered, as long as nothing
 * undelivered is stamped before S. So S is the stamp of a piece delivered at least {@link SKEW_MS} before the
 * newest one, and the byte counts are those of the delivered pieces stamped S or later.
 *
 * Tracking that costs constant memory and time per piece, however fast a task writes: two anchors are kept, a
 * settled one (old enough to resume at) and a young one that settles once {@link SKEW_MS} has passed. An anchor
 * is always a piece stamped later than every piece before it, so no piece delivered before it is stamped S or
 * later, and counting from the anchor on is exact.
 */
import type { LogChunk, LogCursor } from "../scheduler.ts";

/** Far more than the engine's stamping skew, far less than the output a chatty task produces meanwhile. */
const SKEW_MS = 1000;

/**
 * The Docker and Swarm backends' {@link LogCursor}: output from `timestamp` on (from the first byte without
 * one), after the first `stdout` and `stderr` bytes of each stream.
 */
export type EngineLogCursor = {
  timestamp?: string;
  stdout: number;
  stderr: number;
};

/** A cursor handed back by a caller: its own shape, checked, since it may come from a file on disk. */
export function engineCursor(cursor: LogCursor): EngineLogCursor {
  const { timestamp, stdout, stderr } = cursor;
  const bytes = (value: unknown) => Number.isSafeInteger(value) && (value as number) >= 0;
  if ((timestamp !== undefined && typeof timestamp !== "string") || !bytes(stdout) || !bytes(stderr)) {
    throw new Error(`unusable log position ${JSON.stringify(cursor)}`);
  }
  if (timestamp !== undefined) stampMs(timestamp);
  return timestamp === undefined
    ? { stdout: stdout as number, stderr: stderr as number }
    : { timestamp, stdout: stdout as number, stderr: stderr as number };
}

interface Anchor {
  text: string;
  ms: number;
  stdout: number;
  stderr: number;
}

export class LogPosition {
  /** Where the read being tracked began: the position before its first piece. */
  readonly #base: string | undefined;
  /** Bytes delivered since `base`, per stream: the position until an anchor settles. */
  readonly #total = { stdout: 0, stderr: 0 };
  #settled: Anchor | undefined;
  #young: Anchor | undefined;
  /** The newest stamp delivered, compared as text: exact where milliseconds are not. */
  #newest: string | undefined;
  readonly #parse = new StampParser();

  /** `base`: the `since` stamp of the read (none when it starts at the log's first byte). */
  constructor(base?: string) {
    this.#base = base;
  }

  /** Records a delivered piece of `bytes` bytes of `stream`, stamped `timestamp`; returns the position after it. */
  advance(timestamp: string, stream: LogChunk["stream"], bytes: number): EngineLogCursor {
    this.#total[stream] += bytes;
    // Compared as text, exactly: the engine's stamps are fixed-width UTC with nine fraction digits, finer than
    // a double holds at this magnitude. The millisecond value only decides when an anchor is old enough.
    const settled = this.#settled;
    if (settled !== undefined && timestamp >= settled.text) settled[stream] += bytes;
    const young = this.#young;
    if (young !== undefined && timestamp >= young.text) young[stream] += bytes;
    if (this.#newest === undefined || timestamp > this.#newest) {
      const ms = this.#parse.ms(timestamp);
      this.#newest = timestamp;
      if (young !== undefined && ms - young.ms < SKEW_MS) return this.cursor() as EngineLogCursor;
      if (young !== undefined) this.#settled = young;
      this.#young = { text: timestamp, ms, stdout: 0, stderr: 0 };
      this.#young[stream] = bytes;
    }
    return this.cursor() as EngineLogCursor;
  }

  /** The position after everything delivered so far; undefined before the first piece. */
  cursor(): EngineLogCursor | undefined {
    const settled = this.#settled;
    if (settled !== undefined)
      return { timestamp: settled.text, stdout: settled.stdout, stderr: settled.stderr };
    if (this.#newest === undefined) return undefined;
    const { stdout, stderr } = this.#total;
    return this.#base === undefined ? { stdout, stderr } : { timestamp: this.#base, stdout, stderr };
  }
}

/**
 * Milliseconds of the engine's stamps, parsing the date and time of day once per second: a fast writer puts
 * hundreds of thousands of pieces in one second, and they differ only in their fraction.
 */
class StampParser {
  #secondText = "";
  #secondMs = 0;

  ms(timestamp: string): number {
    const dot = timestamp.indexOf(".");
    if (dot === -1 || !timestamp.endsWith("Z")) return stampMs(timestamp);
    const second = timestamp.slice(0, dot);
    if (second !== this.#secondText) {
      this.#secondMs = stampMs(`${second}Z`);
      this.#secondText = second;
    }
    const fraction = timestamp.slice(dot + 1, -1);
    if (!/^\d{1,9}$/.test(fraction)) return stampMs(timestamp);
    return this.#secondMs + Number(`0.${fraction}`) * 1000;
  }
}

/** Milliseconds (with the sub-millisecond rest as a fraction) of a stamp like 2026-11-28T12:00:00.123456789Z. */
export function stampMs(timestamp: string): number {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  const whole = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(whole)) throw new Error(`unexpected log timestamp "${timestamp}"`);
  return whole + Number(`0.${match[2] ?? "0"}`) * 1000;
}
