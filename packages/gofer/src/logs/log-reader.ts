import { type FileHandle, open } from "node:fs/promises";
import { LineSplitter } from "./line-splitter.ts";

const NEWLINE = Buffer.from("\n");

/** How `readLogBlocks` learns that the log it follows may have changed. */
export interface FollowSource {
  /** Calls `listener` after every append, writer open/close and `finish`. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Whether a writer still has the file open: its buffered last lines are not on disk yet. */
  writerOpen(): boolean;
}

export type ReadLogOptions =
  | { follow: false; signal?: AbortSignal; highWaterMark?: number }
  | {
      /** Keep yielding new lines until the log is finished and fully read. */
      follow: true;
      /**
       * Whether the task has reached a final state, so no more lines will come. Consulted at the start and each
       * time the reader reaches the end of the file, never while lines are still arriving.
       */
      isFinished: () => boolean | Promise<boolean>;
      signal?: AbortSignal;
      highWaterMark?: number;
    };

const DEFAULT_HIGH_WATER_MARK = 64 * 1024;

/**
 * Yields the log at `path` as blocks of whole lines, each line ending in "\n" (a view of the file as it is,
 * never a buffer per line), reading the file in `highWaterMark`-sized pieces so a large log is never held in
 * memory whole.
 *
 * A missing file is an empty log; a follower waits for it to appear. Following ends only when the log is
 * finished, no writer holds it open, and the file has been read to its end. The reader subscribes before its
 * first look at the file and at `isFinished`, so an append or `finish` landing between a check and the wait
 * still wakes it. Aborting `signal` makes the iterator throw the signal's reason.
 */
export async function* readLogBlocks(
  path: string,
  options: ReadLogOptions,
  source: FollowSource,
): AsyncGenerator<Buffer, void, undefined> {
  const { signal } = options;
  signal?.throwIfAborted();
  const wake = new WakeUp();
  const unsubscribe = options.follow ? source.subscribe(wake.fire) : undefined;
  signal?.addEventListener("abort", wake.fire, { once: true });
  const file = new LogFile(path, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
  try {
    for (;;) {
      wake.arm();
      for await (const line of file.readToEnd()) {
        signal?.throwIfAborted();
        yield line;
      }
      if (!options.follow || ((await options.isFinished()) && !source.writerOpen())) break;
      await wake.wait();
      signal?.throwIfAborted();
    }
    // Lines may have landed between the last read and the finished check; after that check, nothing more comes.
    yield* file.readToEnd();
    const unterminated = file.rest();
    if (unterminated) yield unterminated;
  } finally {
    signal?.removeEventListener("abort", wake.fire);
    unsubscribe?.();
    await file.close();
  }
}

/** An open-on-demand cursor over a growing file. */
class LogFile {
  readonly #path: string;
  readonly #highWaterMark: number;
  readonly #splitter = new LineSplitter();
  #handle: FileHandle | undefined;
  #position = 0;

  constructor(path: string, highWaterMark: number) {
    this.#path = path;
    this.#highWaterMark = highWaterMark;
  }

  /** The blocks of whole lines between the cursor and the end of the file; none while the file is missing. */
  async *readToEnd(): AsyncGenerator<Buffer, void, undefined> {
    const handle = await this.#open();
    if (!handle) return;
    for (;;) {
      // A fresh buffer each time: the yielded blocks are views into it and must survive the next read.
      const buffer = Buffer.allocUnsafe(this.#highWaterMark);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#position);
      if (bytesRead === 0) return;
      this.#position += bytesRead;
      yield* this.#splitter.pushBlock(buffer.subarray(0, bytesRead));
    }
  }

  /** A last line without "\n", ended with one: only a crash mid-write leaves one, as writers store whole lines. */
  rest(): Buffer | undefined {
    const rest = this.#splitter.flush();
    return rest === undefined ? undefined : Buffer.concat([rest, NEWLINE]);
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

/** A wake-up that is not lost when it fires before anyone waits: `arm` clears it, `fire` sets it. */
class WakeUp {
  #fired = false;
  #resolve: (() => void) | undefined;

  readonly fire = (): void => {
    this.#fired = true;
    this.#resolve?.();
    this.#resolve = undefined;
  };

  arm(): void {
    this.#fired = false;
  }

  wait(): Promise<void> {
    if (this.#fired) return Promise.resolve();
    return new Promise((resolve) => {
      this.#resolve = resolve;
    });
  }
}
