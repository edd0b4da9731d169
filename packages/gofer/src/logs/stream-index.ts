/**
 * Which stream each line of a task log came from and when it arrived, kept beside the log as
 * `<task>.log.streams` so the log itself stays the plain text v0 serves.
 *
 * The file is a run of fixed-size records, `{offset, stream, time}`, in offset order: the lines starting at or
 * after `offset` (up to the next record's) came from `stream`, and arrived at `time`. A writer adds one where the
 * stream switches and at most every {@link MARK_INTERVAL_MS} otherwise, so a line's time is its record's, late by
 * at most that. Lines before the first record (a log written before records were kept, or by a backend that
 * cannot tell the streams apart) have no stream and no time.
 *
 * A writer stores a batch's records before the batch's lines: whoever reads lines from the log finds their
 * records already there. Records past the end of the log are harmless (they describe lines still to come), which
 * is also why cutting the log back to a resume point only needs the records from that point on dropped.
 */
import { type FileHandle, open, rm } from "node:fs/promises";

export type LogStream = "stdout" | "stderr";

export interface StreamMark {
  /** Byte offset in the log where the lines this record describes start. */
  offset: number;
  stream: LogStream;
  /** Unix epoch milliseconds the lines arrived at. */
  time: number;
}

/**
 * How long one record may speak for the lines after it. Short enough that a line's time is right to a tenth of a
 * second, long enough that a busy log on one stream costs a few records a second, not one per line.
 */
export const MARK_INTERVAL_MS = 100;

/** Offset as a 48-bit integer, the stream, a spare byte, and the time as a double. */
export const RECORD_BYTES = 16;

const STREAM_CODES: Record<LogStream, number> = { stdout: 1, stderr: 2 };
const STREAMS: Record<number, LogStream> = { 1: "stdout", 2: "stderr" };

export const streamIndexPathOf = (logPath: string): string => `${logPath}.streams`;

export function encodeMark(mark: StreamMark): Buffer {
  const record = Buffer.alloc(RECORD_BYTES);
  record.writeUIntLE(mark.offset, 0, 6);
  record[6] = STREAM_CODES[mark.stream];
  record.writeDoubleLE(mark.time, 8);
  return record;
}

/** The record at `at` in `records`; undefined for one this format does not know (then its lines go unmarked). */
function decodeMark(records: Buffer, at: number): StreamMark | undefined {
  const stream = STREAMS[records[at + 6] as number];
  if (stream === undefined) return undefined;
  return { offset: records.readUIntLE(at, 6), stream, time: records.readDoubleLE(at + 8) };
}

/**
 * Decides where a writer adds a record: at the first line it stores, at every switch of stream, and once the
 * last record is {@link MARK_INTERVAL_MS} old.
 */
export class StreamMarker {
  #last: { stream: LogStream; time: number } | undefined;

  /** The record to store before lines of `stream` starting at `offset`, when one is due. */
  mark(offset: number, stream: LogStream, now: number): Buffer | undefined {
    const last = this.#last;
    if (last && last.stream === stream && now - last.time < MARK_INTERVAL_MS) return undefined;
    this.#last = { stream, time: now };
    return encodeMark({ offset, stream, time: now });
  }
}

/**
 * Drops the records of lines at or after `size` (the log is about to be cut back there) and a torn last record.
 * A missing file stays missing. Reads from the end, where the cut almost always is.
 */
export async function cutStreamIndex(logPath: string, size: number): Promise<void> {
  let handle: FileHandle;
  try {
    handle = await open(streamIndexPathOf(logPath), "r+");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    const whole = (await handle.stat()).size;
    let keep = whole - (whole % RECORD_BYTES);
    const chunk = Buffer.allocUnsafe(RECORD_BYTES * 4096);
    search: while (keep > 0) {
      const start = Math.max(0, keep - chunk.length);
      const { bytesRead } = await handle.read(chunk, 0, keep - start, start);
      for (let at = bytesRead - RECORD_BYTES; at >= 0; at -= RECORD_BYTES) {
        if (chunk.readUIntLE(at, 6) < size) break search;
        keep = start + at;
      }
    }
    if (keep < whole) await handle.truncate(keep);
  } finally {
    await handle.close();
  }
}

export async function removeStreamIndex(logPath: string): Promise<void> {
  await rm(streamIndexPathOf(logPath), { force: true });
}

/** How many records a reader takes from the file at a time. */
const READ_RECORDS = 4096;

/**
 * Reads a log's records as a reader of the log moves forward through it, holding only those from its position
 * on, and only as far ahead as it asked: a log whose streams switch on every line has a record per line.
 * The file may appear only once its writer opens, and may be cut back by a writer resuming a capture.
 */
export class StreamIndexReader {
  readonly #path: string;
  #handle: FileHandle | undefined;
  /** Bytes of the file taken so far (whole records only). */
  #readAt = 0;
  /** Records from the one in force at the reader's position on. */
  #marks: StreamMark[] = [];
  #current = 0;
  #buffer: Buffer | undefined;

  constructor(logPath: string) {
    this.#path = streamIndexPathOf(logPath);
  }

  /** Takes the records the file has gained, as far as the first one past `until` (a log offset). */
  async refresh(until: number): Promise<void> {
    const handle = await this.#open();
    if (!handle) return;
    const { size } = await handle.stat();
    if (size < this.#readAt) {
      // Cut back by a resuming writer: what was taken past the cut is stale, and new records land before readAt.
      this.#readAt = 0;
      this.#marks = [];
      this.#current = 0;
    }
    this.#buffer ??= Buffer.allocUnsafe(READ_RECORDS * RECORD_BYTES);
    const buffer = this.#buffer;
    while ((this.#marks.at(-1)?.offset ?? -1) <= until) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#readAt);
      const whole = bytesRead - (bytesRead % RECORD_BYTES);
      if (whole === 0) return;
      this.#readAt += whole;
      for (let at = 0; at < whole; at += RECORD_BYTES) {
        const mark = decodeMark(buffer, at);
        if (mark && mark.offset >= (this.#marks.at(-1)?.offset ?? 0)) this.#marks.push(mark);
      }
    }
  }

  /** The record in force for a line starting at `offset`; offsets asked for never go back. */
  at(offset: number): StreamMark | undefined {
    while (
      this.#current + 1 < this.#marks.length &&
      (this.#marks[this.#current + 1] as StreamMark).offset <= offset
    )
      this.#current++;
    if (this.#current > READ_RECORDS) {
      this.#marks = this.#marks.slice(this.#current);
      this.#current = 0;
    }
    const mark = this.#marks[this.#current];
    return mark && mark.offset <= offset ? mark : undefined;
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = undefined;
  }

  async #open(): Promise<FileHandle | undefined> {
    if (this.#handle) return this.#handle;
    try {
      this.#handle = await open(this.#path, "r");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    return this.#handle;
  }
}
