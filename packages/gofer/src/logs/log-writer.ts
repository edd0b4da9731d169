import type { FileHandle } from "node:fs/promises";
import { GoferError } from "../domain/errors.ts";
import type { LogChunk, LogCursor } from "../scheduler/scheduler.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { LogCommit } from "./log-cursor.ts";
import { StreamMarker } from "./stream-index.ts";

/**
 * The one place a complete line passes before it is stored, without its "\n". Secret masking plugs in here, so
 * the whole line is visible at once and a secret can never straddle two writes.
 */
export type LineTransform = (line: Buffer) => Buffer;

export const identityLine: LineTransform = (line) => line;

export interface TaskLogWriterHooks {
  transformLine: LineTransform;
  /**
   * After lines have been appended (`bytes` of them, `lines` lines), so followers can read them: `parts`, which
   * the file now holds from byte `offset` on, back to back.
   */
  onAppend: (bytes: number, lines: number, appended: { offset: number; parts: Buffer[] }) => void;
  /** After the file handle is closed, whether or not closing went cleanly. */
  onClose: () => void;
  /** Persists the resume point (see log-cursor.ts); called at most every {@link COMMIT_INTERVAL_MS} and at the end. */
  saveCommit?: (commit: LogCommit) => Promise<void>;
  /** Bytes already in the file when it was opened. */
  startSize?: number;
  /** Where the container's stream stood at `startSize`, when resuming. */
  startPosition?: LogCursor;
  /**
   * The log's stream index (see stream-index.ts), open for appending, already cut back to `startSize`; absent
   * when the lines' streams are not known. Closed with the log.
   */
  streamIndex?: FileHandle;
}

/** How often the resume point is saved while output streams; a crash re-reads at most this much output. */
const COMMIT_INTERVAL_MS = 250;

/**
 * Encoded output waiting for the file beyond which `write` makes its caller wait: enough to keep the file busy
 * while the caller reads on, little enough that a task writing gigabytes never grows the server's memory.
 */
const HIGH_WATER_BYTES = 4 * 1024 * 1024;

const NEWLINE = Buffer.from("\n");

const WRITTEN: Promise<void> = Promise.resolve();

/**
 * Appends one task execution's output to its log file, line by line.
 *
 * Each stream has its own partial-line buffer, so a stdout line and a stderr line never mix mid-line; lines are
 * stored in the order their newline arrives. Storing runs beside the caller's reading, not in series with it:
 * `write` only queues, and one loop appends everything queued meanwhile in a single write, so a fast task's
 * output costs a few large writes rather than one per piece. The file is fsynced once, on close.
 *
 * Beside the file, the stream index (stream-index.ts) records which stream the lines came from and when, a
 * small record per switch of stream or per tenth of a second, written just before the lines it describes.
 */
export class TaskLogWriter {
  readonly #handle: FileHandle;
  readonly #hooks: TaskLogWriterHooks;
  readonly #splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  /** Bytes queued for the file, in order, and the resume point reached at their end (if one was). */
  #queued: Buffer[] = [];
  #queuedBytes = 0;
  #queuedCommit: LogCommit | undefined;
  /** Stream index records for the queued lines, stored before them; none without a stream index. */
  #queuedMarks: Buffer[] = [];
  readonly #marker: StreamMarker | undefined;
  /** The append loop while it runs, and a promise settled when its current batch is stored. */
  #appending: Promise<void> | undefined;
  #batchStored: Promise<void> = WRITTEN;
  #closed: Promise<void> | undefined;
  /**
   * A failed append may have stored part of a batch; appending more would glue the next line onto that torn one,
   * so the first failure is final.
   */
  #failure: { error: unknown } | undefined;
  /** Bytes in the file. */
  #size: number;
  /** Bytes in the file once everything queued is stored. */
  #end: number;
  /** The stream position of the last piece received. */
  #position: LogCursor | undefined;
  /** The newest point where the file held exactly the output up to a piece: no partial line pending. */
  #committed: LogCommit;
  #savedAt = 0;

  constructor(handle: FileHandle, hooks: TaskLogWriterHooks) {
    this.#handle = handle;
    this.#hooks = hooks;
    this.#size = hooks.startSize ?? 0;
    this.#end = this.#size;
    this.#position = hooks.startPosition;
    this.#committed = { position: this.#position, size: this.#size };
    this.#marker = hooks.streamIndex ? new StreamMarker() : undefined;
  }

  /** Where to resume the container's stream so that nothing stored is read twice. */
  get resumeAfter(): LogCursor | undefined {
    return this.#committed.position;
  }

  /**
   * Queues the lines `chunk` completes for the file. Resolves at once while little is queued, else once the
   * file has caught up some; rejects once an append has failed. `chunk.data` must not be modified afterwards.
   */
  write(chunk: LogChunk): Promise<void> {
    if (this.#closed) {
      // A bug in the caller, not a condition a user can fix.
      return Promise.reject(new GoferError("INTERNAL", "write to a closed task log writer"));
    }
    if (this.#failure) return Promise.reject(this.#failure.error);
    const parts = this.#encode(chunk);
    if (parts.length > 0) this.#markLines(this.#end, chunk.stream, this.#queuedMarks);
    for (const part of parts) {
      this.#queued.push(part);
      this.#queuedBytes += part.length;
      this.#end += part.length;
    }
    if (chunk.position !== undefined) this.#position = chunk.position;
    if (!this.#splitters.stdout.pending && !this.#splitters.stderr.pending) {
      this.#queuedCommit = { position: this.#position, size: this.#end };
    }
    this.#startAppending();
    if (this.#queuedBytes <= HIGH_WATER_BYTES) return WRITTEN;
    return this.#batchStored.then(() => {
      if (this.#failure) throw this.#failure.error;
    });
  }

  /**
   * Saves the resume point and releases the file without completing a partial last line, because the
   * container is still running and its output continues elsewhere: at the next boot, or after an engine
   * outage. Idempotent, and a no-op after `close`.
   */
  detach(): Promise<void> {
    return this.#finish(async () => {
      if (!this.#failure) await this.#save();
    });
  }

  /**
   * Stores each stream's unterminated last line (stdout's first) with a "\n", so the file is always
   * line-complete, fsyncs and closes the file. Idempotent. After a failed append it releases the file and
   * rejects with that failure: output was lost.
   */
  close(): Promise<void> {
    return this.#finish(async () => {
      if (this.#failure) throw this.#failure.error;
      const parts: Buffer[] = [];
      const marks: Buffer[] = [];
      let end = this.#size;
      for (const stream of ["stdout", "stderr"] as const) {
        const rest = this.#splitters[stream].flush();
        if (rest === undefined) continue;
        const line = this.#hooks.transformLine(rest);
        this.#markLines(end, stream, marks);
        parts.push(line, NEWLINE);
        end += line.length + 1;
      }
      await this.#append(parts, marks);
      await this.#handle.sync();
      this.#committed = { position: this.#position, size: this.#size };
      await this.#save();
    });
  }

  /** The bytes to store for `chunk`: its complete lines, each transformed (unless the transform is identity). */
  #encode(chunk: LogChunk): Buffer[] {
    const splitter = this.#splitters[chunk.stream];
    const transform = this.#hooks.transformLine;
    if (transform === identityLine) return splitter.pushBlock(chunk.data);
    const parts: Buffer[] = [];
    for (const line of splitter.push(chunk.data)) parts.push(transform(line), NEWLINE);
    return parts;
  }

  /** Notes that lines of `stream` start at `offset` in `marks`, when the stream index needs a record there. */
  #markLines(offset: number, stream: LogChunk["stream"], marks: Buffer[]): void {
    const mark = this.#marker?.mark(offset, stream, Date.now());
    if (mark) marks.push(mark);
  }

  #startAppending(): void {
    // With something queued and no failure, the loop awaits before it ends: it is always the one set here.
    if (this.#appending || this.#failure || this.#queued.length === 0) return;
    this.#appending = this.#appendQueued();
  }

  /** Stores what is queued, batch after batch, until nothing is; a failure ends it and is kept for callers. */
  async #appendQueued(): Promise<void> {
    try {
      while (this.#queued.length > 0 && !this.#failure) {
        const batch = this.#queued;
        const marks = this.#queuedMarks;
        const commit = this.#queuedCommit;
        this.#queued = [];
        this.#queuedMarks = [];
        this.#queuedBytes = 0;
        this.#queuedCommit = undefined;
        const stored = this.#storeBatch(batch, marks, commit);
        this.#batchStored = stored.catch(() => undefined);
        await stored;
      }
    } catch (error) {
      this.#failure ??= { error };
    } finally {
      this.#appending = undefined;
    }
  }

  /**
   * Appends one batch, then saves the resume point it reaches when one is due. A caller over the high-water mark
   * waits for both: while a save is under way no batch is being stored, and a wait that ended with the batch
   * alone would let the queue grow without bound until the save is done.
   */
  async #storeBatch(batch: Buffer[], marks: Buffer[], commit: LogCommit | undefined): Promise<void> {
    await this.#append(batch, marks);
    if (commit === undefined) return;
    this.#committed = commit;
    if (Date.now() - this.#savedAt >= COMMIT_INTERVAL_MS) await this.#save();
  }

  /** Runs `last` as the final operation once everything queued is stored, then releases the file. */
  #finish(last: () => Promise<void>): Promise<void> {
    this.#closed ??= (async () => {
      try {
        while (this.#appending) await this.#appending;
        await last();
      } finally {
        try {
          await Promise.all([this.#handle.close(), this.#hooks.streamIndex?.close()]);
        } finally {
          this.#hooks.onClose();
        }
      }
    })();
    return this.#closed;
  }

  /** Stores `parts` after their stream index records `marks`, so a reader of the lines finds their records. */
  async #append(parts: Buffer[], marks: Buffer[]): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    if (parts.length === 0) return;
    const offset = this.#size;
    let written: number;
    try {
      if (marks.length > 0 && this.#hooks.streamIndex) await writeAll(this.#hooks.streamIndex, marks);
      written = await writeAll(this.#handle, parts);
      this.#size += written;
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
    // Parts are whole lines, alone or in blocks: each ends in a newline.
    let lines = 0;
    for (const part of parts) {
      if (part === NEWLINE) lines++;
      else for (let at = part.indexOf(10); at !== -1; at = part.indexOf(10, at + 1)) lines++;
    }
    this.#hooks.onAppend(written, lines, { offset, parts });
  }

  async #save(): Promise<void> {
    if (!this.#hooks.saveCommit) return;
    this.#savedAt = Date.now();
    await this.#hooks.saveCommit(this.#committed);
  }
}

/**
 * Writes `parts` in order with as few calls as the system allows, without joining them into one buffer first
 * (a copy of every batch, and large allocations the allocator is slow to give back). A write may store fewer
 * bytes than asked (a full disk, a signal); carry on from where it stopped. Returns the bytes written.
 */
async function writeAll(handle: FileHandle, parts: Buffer[]): Promise<number> {
  let rest = parts;
  let written = 0;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    written += bytesWritten;
    rest = after(rest, bytesWritten);
  }
  return written;
}

/** What is left of `parts` once their first `bytes` bytes are written. */
function after(parts: Buffer[], bytes: number): Buffer[] {
  let skipped = 0;
  let index = 0;
  while (index < parts.length && skipped + (parts[index] as Buffer).length <= bytes) {
    skipped += (parts[index] as Buffer).length;
    index++;
  }
  const rest = parts.slice(index);
  if (rest.length > 0 && bytes > skipped) rest[0] = (rest[0] as Buffer).subarray(bytes - skipped);
  return rest;
}
