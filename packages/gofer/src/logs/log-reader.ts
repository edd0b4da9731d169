import { type FileHandle, open } from "node:fs/promises";
import { LineSplitter } from "./line-splitter.ts";
import { BLOCK_BYTES, type SharedBlocks } from "./shared-blocks.ts";

const NEWLINE = Buffer.from("\n");

/** How `readLogBlocks` learns that the log it follows may have changed. */
export interface FollowSource {
  /** Calls `listener` after every append, writer open/close and `finish`. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void;
  /** Whether a writer still has the file open: its buffered last lines are not on disk yet. */
  writerOpen(): boolean;
  /**
   * Whole blocks of the file to share with its other readers in this process; absent where another process may
   * cut the file back.
   */
  sharedBlocks?: SharedBlocks;
  /**
   * The file's bytes from `position` to its end, when a writer in this process appended them lately and kept
   * them for its followers; otherwise undefined.
   */
  recent?(position: number): Buffer[] | undefined;
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
/** The first read buffer's size (at most the high-water mark); each read that fills its buffer doubles the next. */
const FIRST_ROOM_BYTES = 4 * 1024;
/** A read into less than this fraction of the buffer size takes a fresh buffer: too few bytes for a call. */
const MIN_ROOM_DIVISOR = 8;

/**
 * Yields the log at `path` as blocks of whole lines, each line ending in "\n" (a view of the file as it is,
 * never a buffer per line), reading the file in pieces of at most `highWaterMark` bytes so a large log is never
 * held in memory whole. Readers of one log in one process share what they can (`source.recent`,
 * `source.sharedBlocks`): the same bytes, read once.
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
  const file = new LogFile(path, options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK, source);
  try {
    for (;;) {
      wake.arm();
      for await (const line of file.readToEnd()) {
        signal?.throwIfAborted();
        yield line;
      }
      // A writer still open settles it without asking `isFinished` (a database read, for every follower after
      // every append); asked, the writer is looked at again, as one may have opened meanwhile.
      if (!options.follow || (!source.writerOpen() && (await options.isFinished()) && !source.writerOpen()))
        break;
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
  readonly #shared: SharedBlocks | undefined;
  readonly #recent: FollowSource["recent"];
  #handle: FileHandle | undefined;
  /**
   * When blocks are shared: the open file's device and inode, the function that stops counting this reader, and
   * the largest size the file was seen to have.
   */
  #sharing: { id: string; leave: () => void; size: number } | undefined;
  #position = 0;
  /**
   * The unused end of the last read's buffer. The yielded blocks are views into the buffer's start and must
   * survive the next read, so that read goes into the room after them; a fresh buffer only once too little is
   * left. A follower at the end of a live log reads a little after each append: a buffer per read would
   * allocate the high-water mark for every append, many times the output, and keep the garbage collector busy.
   * Buffers start small and grow while reads fill them, so a follower of a quiet log holds a few KiB.
   */
  #room: Buffer | undefined;
  #roomBytes: number;

  constructor(path: string, highWaterMark: number, source: FollowSource) {
    this.#path = path;
    this.#highWaterMark = highWaterMark;
    this.#roomBytes = Math.min(FIRST_ROOM_BYTES, highWaterMark);
    this.#shared = source.sharedBlocks;
    this.#recent = source.recent?.bind(source);
  }

  /** The blocks of whole lines between the cursor and the end of the file; none while the file is missing. */
  async *readToEnd(): AsyncGenerator<Buffer, void, undefined> {
    const handle = await this.#open();
    if (!handle) return;
    for (;;) {
      const appended = this.#recent?.(this.#position);
      if (appended) {
        for (const piece of appended) {
          this.#position += piece.length;
          yield* this.#splitter.pushBlock(piece);
        }
        // The newest append ends where the file did when it was taken: the next comes with a wake-up.
        return;
      }
      const read = (await this.#sharedBlock(handle)) ?? (await this.#readAlone(handle));
      if (read === undefined) return;
      this.#position += read.length;
      yield* this.#splitter.pushBlock(read);
    }
  }

  /**
   * The rest of the block the cursor is in from the shared blocks, when the file has other readers and holds
   * that block whole. The file's size is looked up again only when the last size seen ends inside the block.
   */
  async #sharedBlock(handle: FileHandle): Promise<Buffer | undefined> {
    if (!this.#sharing || !this.#shared?.shared(this.#sharing.id)) return undefined;
    const index = Math.floor(this.#position / BLOCK_BYTES);
    const end = (index + 1) * BLOCK_BYTES;
    if (end > this.#sharing.size) this.#sharing.size = (await handle.stat()).size;
    if (end > this.#sharing.size) return undefined;
    const block = await this.#shared.block(this.#sharing.id, index, handle);
    return block?.subarray(this.#position - index * BLOCK_BYTES);
  }

  /** What the file holds after the cursor, up to the high-water mark; undefined at its end. */
  async #readAlone(handle: FileHandle): Promise<Buffer | undefined> {
    if (!this.#room || this.#room.length < this.#roomBytes / MIN_ROOM_DIVISOR) {
      this.#room = Buffer.allocUnsafe(this.#roomBytes);
    }
    const buffer = this.#room;
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, this.#position);
    if (bytesRead === 0) return undefined;
    if (bytesRead === buffer.length) this.#roomBytes = Math.min(2 * this.#roomBytes, this.#highWaterMark);
    this.#room = buffer.subarray(bytesRead);
    return buffer.subarray(0, bytesRead);
  }

  /** A last line without "\n", ended with one: only a crash mid-write leaves one, as writers store whole lines. */
  rest(): Buffer | undefined {
    const rest = this.#splitter.flush();
    return rest === undefined ? undefined : Buffer.concat([rest, NEWLINE]);
  }

  async close(): Promise<void> {
    this.#sharing?.leave();
    this.#sharing = undefined;
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
    if (this.#shared) {
      const { dev, ino, size } = await this.#handle.stat();
      const id = `${dev}:${ino}`;
      this.#sharing = { id, leave: this.#shared.open(id), size };
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
