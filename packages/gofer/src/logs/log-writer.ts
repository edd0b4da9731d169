import type { FileHandle } from "node:fs/promises";
import { GoferError } from "../domain/errors.ts";
import type { LogChunk, LogCursor } from "../scheduler/scheduler.ts";
import { LineSplitter } from "./line-splitter.ts";
import type { LogCommit } from "./log-cursor.ts";

/**
 * The one place a complete line passes before it is stored, without its "\n". Secret masking plugs in here, so
 * the whole line is visible at once and a secret can never straddle two writes.
 */
export type LineTransform = (line: Buffer) => Buffer;

export const identityLine: LineTransform = (line) => line;

export interface TaskLogWriterHooks {
  transformLine: LineTransform;
  /** After lines have been appended, so followers can read them. */
  onAppend: () => void;
  /** After the file handle is closed, whether or not closing went cleanly. */
  onClose: () => void;
  /** Persists the resume point (see log-cursor.ts); called at most every {@link COMMIT_INTERVAL_MS} and at the end. */
  saveCommit?: (commit: LogCommit) => Promise<void>;
  /** Bytes already in the file when it was opened. */
  startSize?: number;
  /** Where the container's stream stood at `startSize`, when resuming. */
  startPosition?: LogCursor;
}

/** How often the resume point is saved while output streams; a crash re-reads at most this much output. */
const COMMIT_INTERVAL_MS = 250;

const NEWLINE = Buffer.from("\n");

/**
 * Appends one task execution's output to its log file, line by line.
 *
 * Each stream has its own partial-line buffer, so a stdout line and a stderr line never mix mid-line; lines are
 * stored in the order their newline arrives. All lines a chunk completes go out in one write, and the file is
 * fsynced once, on close: per-line writes or syncs would make chatty tasks slow.
 */
export class TaskLogWriter {
  readonly #handle: FileHandle;
  readonly #hooks: TaskLogWriterHooks;
  readonly #splitters = { stdout: new LineSplitter(), stderr: new LineSplitter() };
  /** Operations run one after another, in call order. */
  #queue: Promise<void> = Promise.resolve();
  #closed: Promise<void> | undefined;
  /**
   * A failed append may have stored part of a batch; appending more would glue the next line onto that torn one,
   * so the first failure is final.
   */
  #failure: { error: unknown } | undefined;
  /** Bytes in the file. */
  #size: number;
  /** The stream position of the last piece received. */
  #position: LogCursor | undefined;
  /** The newest point where the file held exactly the output up to a piece: no partial line pending. */
  #committed: LogCommit;
  #savedAt = 0;

  constructor(handle: FileHandle, hooks: TaskLogWriterHooks) {
    this.#handle = handle;
    this.#hooks = hooks;
    this.#size = hooks.startSize ?? 0;
    this.#position = hooks.startPosition;
    this.#committed = { position: this.#position, size: this.#size };
  }

  /** Where to resume the container's stream so that nothing stored is read twice. */
  get resumeAfter(): LogCursor | undefined {
    return this.#committed.position;
  }

  /** Stores the lines `chunk` completes. `chunk.data` must not be modified until the promise settles. */
  write(chunk: LogChunk): Promise<void> {
    if (this.#closed) {
      // A bug in the caller, not a condition a user can fix.
      return Promise.reject(new GoferError("INTERNAL", "write to a closed task log writer"));
    }
    return this.#enqueue(async () => {
      await this.#append(this.#splitters[chunk.stream].push(chunk.data));
      if (chunk.position !== undefined) this.#position = chunk.position;
      if (this.#splitters.stdout.pending || this.#splitters.stderr.pending) return;
      this.#committed = { position: this.#position, size: this.#size };
      if (Date.now() - this.#savedAt >= COMMIT_INTERVAL_MS) await this.#save();
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
   * line-complete, fsyncs and closes the file. Idempotent. After a failed write it only releases the file.
   */
  close(): Promise<void> {
    return this.#finish(async () => {
      if (this.#failure) return;
      const rests = [this.#splitters.stdout.flush(), this.#splitters.stderr.flush()];
      await this.#append(rests.filter((rest) => rest !== undefined));
      await this.#handle.sync();
      this.#committed = { position: this.#position, size: this.#size };
      await this.#save();
    });
  }

  /** Runs `last` as the final operation, then releases the file whatever happened; only the first call counts. */
  #finish(last: () => Promise<void>): Promise<void> {
    this.#closed ??= this.#enqueue(async () => {
      try {
        await last();
      } finally {
        try {
          await this.#handle.close();
        } finally {
          this.#hooks.onClose();
        }
      }
    });
    return this.#closed;
  }

  #enqueue(operation: () => Promise<void>): Promise<void> {
    const result = this.#queue.then(operation);
    // The queue only orders operations; each failure is reported to the caller of the operation that failed.
    this.#queue = result.catch(() => {});
    return result;
  }

  async #append(lines: Buffer[]): Promise<void> {
    if (this.#failure) throw this.#failure.error;
    if (lines.length === 0) return;
    const parts: Buffer[] = [];
    for (const line of lines) parts.push(this.#hooks.transformLine(line), NEWLINE);
    const data = Buffer.concat(parts);
    try {
      await writeAll(this.#handle, data);
    } catch (error) {
      this.#failure = { error };
      throw error;
    }
    this.#size += data.length;
    this.#hooks.onAppend();
  }

  async #save(): Promise<void> {
    if (!this.#hooks.saveCommit) return;
    this.#savedAt = Date.now();
    await this.#hooks.saveCommit(this.#committed);
  }
}

/** `FileHandle.write` may store fewer bytes than asked (a full disk, a signal); carry on from where it stopped. */
async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let offset = 0;
  while (offset < data.length) {
    const { bytesWritten } = await handle.write(data, offset, data.length - offset);
    offset += bytesWritten;
  }
}
