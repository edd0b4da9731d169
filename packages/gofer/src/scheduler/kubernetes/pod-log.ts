/**
 * Reading a pod's log exactly, with resumable positions. Pure: bytes and stamps in, pieces and cursors out.
 *
 * With `timestamps=true` the kubelet prefixes every line with its RFC 3339 stamp (nanoseconds) and a space;
 * a line the runtime split into parts gets the prefix once. Its `sinceTime` filter drops each line stamped
 * before it, but the API server forwards `sinceTime` to the kubelet in whole seconds (it formats it without
 * the fraction), and the stdout and stderr copiers stamp lines before taking turns at the log file, so stamps
 * are not in file order: a line can carry an earlier stamp than the one before it.
 *
 * So a piece here is one line, and a cursor is `{ timestamp: a whole second, count }`: asking with
 * `sinceTime` at that second returns, in file order, first exactly `count` lines already delivered, then
 * everything not delivered yet. The second is the one {@link SKEW_SECONDS} before the newest stamp delivered,
 * rounded down (never before the read's own `sinceTime`); `count` is how many delivered lines are stamped in or
 * after it. That holds as long as no line is stamped more than a second before a line written earlier, far
 * more than the copiers' skew. A read with `tailLines` starts mid-second, so its positions may repeat lines.
 */
import type { LogChunk, LogCursor } from "../scheduler.ts";

/** How far (in whole seconds) a line's stamp may lag behind one written before it. */
const SKEW_SECONDS = 1;

/** A stamp as whole seconds since the epoch and nanoseconds within that second. */
export interface Stamp {
  seconds: number;
  nanos: number;
}

const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** Parses a stamp like `2026-11-28T12:00:00.123456789Z` (any offset, up to nine fraction digits). */
export function parseStamp(text: string): Stamp {
  const match = STAMP.exec(text);
  const ms = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(ms)) throw new Error(`unexpected log timestamp "${text}"`);
  return { seconds: ms / 1000, nanos: Number((match[2] ?? "").padEnd(9, "0")) };
}

/** A whole second as `sinceTime` takes it: `2026-11-28T12:00:05Z`. */
export function secondStamp(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The `sinceTime` (whole seconds, rounded down) that includes everything from `ms` (epoch milliseconds) on. */
export function sinceTimeOf(ms: number): string {
  return secondStamp(Math.floor(ms / 1000));
}

/** Whether a stamp lies before `ms` (epoch milliseconds, fractions allowed). */
export function isBefore(stamp: Stamp, ms: number): boolean {
  const whole = Math.floor(ms / 1000);
  if (stamp.seconds !== whole) return stamp.seconds < whole;
  return stamp.nanos < Math.round((ms - whole * 1000) * 1_000_000);
}

/** One line of a pod's log: its stamp and its text, the newline included when it had one. */
export interface LogLine {
  timestamp: Stamp;
  data: Buffer;
}

/** Splits the bytes of a timestamped pod log into {@link LogLine}s. */
export class PodLogLines {
  #pending: Buffer[] = [];

  /** The lines completed by `chunk`. */
  push(chunk: Buffer): LogLine[] {
    const lines: LogLine[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(10); newline !== -1; newline = chunk.indexOf(10, start)) {
      this.#pending.push(chunk.subarray(start, newline + 1));
      lines.push(lineOf(Buffer.concat(this.#pending)));
      this.#pending = [];
      start = newline + 1;
    }
    if (start < chunk.length) this.#pending.push(chunk.subarray(start));
    return lines;
  }

  /**
   * The last line, which had no newline, once the log is known to be complete (the container has ended).
   * Never called for a follow stream cut short: its line may go on.
   */
  end(): LogLine | undefined {
    if (this.#pending.length === 0) return undefined;
    const line = lineOf(Buffer.concat(this.#pending));
    this.#pending = [];
    return line;
  }
}

function lineOf(bytes: Buffer): LogLine {
  const space = bytes.indexOf(32);
  const stamp = space === -1 ? undefined : STAMP.exec(bytes.subarray(0, space).toString("latin1"))?.[0];
  if (stamp === undefined) {
    throw new Error(`unexpected log line without a timestamp: "${bytes.subarray(0, 80).toString().trim()}"`);
  }
  return { timestamp: parseStamp(stamp), data: bytes.subarray(space + 1) };
}

/** Counts delivered lines by the second of their stamp, to name the position after them (module comment). */
export class PodLogPosition {
  /** Delivered lines per stamp second, for the seconds from the cursor's on. */
  readonly #perSecond = new Map<number, number>();
  readonly #floor: number;
  #newest: Stamp | undefined;

  /**
   * `sinceSeconds`: the read's own `sinceTime`. The cursor never goes before it: the lines there were not read,
   * so they cannot be counted.
   */
  constructor(sinceSeconds = Number.NEGATIVE_INFINITY) {
    this.#floor = sinceSeconds;
  }

  /** Records a delivered line stamped `stamp` and returns the position right after it. */
  advance(stamp: Stamp): LogCursor {
    this.#perSecond.set(stamp.seconds, (this.#perSecond.get(stamp.seconds) ?? 0) + 1);
    const newest = this.#newest;
    if (
      !newest ||
      stamp.seconds > newest.seconds ||
      (stamp.seconds === newest.seconds && stamp.nanos > newest.nanos)
    )
      this.#newest = stamp;
    const since = this.#since();
    for (const second of this.#perSecond.keys()) if (second < since) this.#perSecond.delete(second);
    return this.cursor() as LogCursor;
  }

  /** The position after everything delivered so far; undefined before the first line. */
  cursor(): LogCursor | undefined {
    if (!this.#newest) return undefined;
    let count = 0;
    for (const lines of this.#perSecond.values()) count += lines;
    return { timestamp: secondStamp(this.#since()), count };
  }

  #since(): number {
    return Math.max(this.#floor, (this.#newest as Stamp).seconds - SKEW_SECONDS);
  }
}

/** Where a read starts: the log from `sinceTime` on, after its first `skip` lines. */
export interface ReadFrom {
  sinceTime?: string;
  skip: number;
}

/** The read that resumes after `cursor`, which must be one of this module's (it may come from a file on disk). */
export function readFromCursor(cursor: LogCursor): ReadFrom {
  const { timestamp, count } = cursor;
  if (typeof timestamp !== "string" || !Number.isSafeInteger(count) || (count as number) < 0) {
    throw new Error(`unusable log position ${JSON.stringify(cursor)}`);
  }
  parseStamp(timestamp);
  return { sinceTime: timestamp, skip: count as number };
}

/**
 * One pass over a log read from `from`: yields the lines after the first `from.skip` (delivered before) that
 * are not stamped before `notBeforeMs`, each with the position right after it. Skipped and filtered lines still
 * advance the position: the engine returns them again from the same `sinceTime`. {@link next} then says where
 * a further read resumes; it keeps `from` while the skipped lines have not all come back.
 */
export class LogPass {
  readonly #from: ReadFrom;
  readonly #notBeforeMs: number | undefined;
  readonly #position: PodLogPosition;
  #toSkip: number;
  #delivered = 0;

  constructor(from: ReadFrom, notBeforeMs?: number) {
    this.#from = from;
    this.#notBeforeMs = notBeforeMs;
    this.#toSkip = from.skip;
    const since = from.sinceTime === undefined ? undefined : parseStamp(from.sinceTime).seconds;
    this.#position = new PodLogPosition(since);
  }

  /** The piece to deliver for `line`, or undefined when it is skipped or filtered out. */
  take(line: LogLine): LogChunk | undefined {
    const position = this.#position.advance(line.timestamp);
    if (this.#toSkip > 0) {
      this.#toSkip--;
      return undefined;
    }
    if (this.#notBeforeMs !== undefined && isBefore(line.timestamp, this.#notBeforeMs)) return undefined;
    this.#delivered++;
    return { stream: "stdout", data: line.data, position };
  }

  /** How many pieces this pass delivered. */
  get delivered(): number {
    return this.#delivered;
  }

  /** Where the next read resumes, after everything this pass saw. */
  next(): ReadFrom {
    const cursor = this.#position.cursor();
    if (this.#toSkip > 0 || !cursor) return this.#from;
    return readFromCursor(cursor);
  }
}
