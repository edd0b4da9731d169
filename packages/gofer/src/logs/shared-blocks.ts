import type { FileHandle } from "node:fs/promises";

/** A shared block's size: one read's worth for a reader that is behind, and a few MiB for many of them. */
export const BLOCK_BYTES = 256 * 1024;

/**
 * Whole blocks of log files, shared by the readers of one file in this process. When a hundred clients follow
 * one live log, each block is read from the file once and sent to every client from the same buffer; reading
 * it once per client copies the log a hundred times over and gives the garbage collector a hundred times the
 * buffers.
 *
 * Files are told apart by device and inode (`id`), not by path: a log deleted and written again under the same
 * path is another file. A block is kept only once whole: a log only grows, whole lines at a time, so a whole
 * block never changes, except when a writer resuming a capture cuts the file back, and that calls `forget`
 * first. The block a file ends in is read by each reader itself. Blocks are kept only while a file has two or
 * more readers, at most `capacity` bytes of them across all files with the least recently used dropped first,
 * and a file's blocks go with its last reader.
 */
export class SharedBlocks {
  readonly #capacity: number;
  /** Kept blocks by `<id>/<index>`, least recently used first. */
  readonly #blocks = new Map<string, Buffer>();
  /** Reads of whole blocks under way, so that readers arriving together wait for one read. */
  readonly #reading = new Map<string, Promise<Buffer | undefined>>();
  readonly #readers = new Map<string, number>();
  /**
   * One token per file, replaced by `forget`: a read under way when the file was cut back holds the old token,
   * and its block is not kept.
   */
  readonly #tokens = new Map<string, object>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Counts a reader of file `id` until the returned function is called (once or more). */
  open(id: string): () => void {
    this.#readers.set(id, (this.#readers.get(id) ?? 0) + 1);
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      const left = (this.#readers.get(id) ?? 1) - 1;
      if (left > 0) {
        this.#readers.set(id, left);
        return;
      }
      this.#readers.delete(id);
      this.forget(id);
    };
  }

  /** Whether file `id` has other readers to share its blocks with. */
  shared(id: string): boolean {
    return (this.#readers.get(id) ?? 0) >= 2;
  }

  /**
   * Whole block `index` of file `id`: kept, being read by another reader, or read now through `handle`.
   * Undefined when the file ends before the block does.
   */
  block(id: string, index: number, handle: FileHandle): Promise<Buffer | undefined> {
    const key = `${id}/${index}`;
    const kept = this.#blocks.get(key);
    if (kept) {
      this.#blocks.delete(key);
      this.#blocks.set(key, kept);
      return Promise.resolve(kept);
    }
    const underWay = this.#reading.get(key);
    if (underWay) return underWay;
    const reading = this.#read(id, key, index, handle).finally(() => {
      if (this.#reading.get(key) === reading) this.#reading.delete(key);
    });
    this.#reading.set(key, reading);
    return reading;
  }

  /** Drops every block of file `id`, kept or being read: its content is about to change. */
  forget(id: string): void {
    this.#tokens.delete(id);
    const prefix = `${id}/`;
    for (const key of [...this.#blocks.keys()]) if (key.startsWith(prefix)) this.#blocks.delete(key);
    for (const key of [...this.#reading.keys()]) if (key.startsWith(prefix)) this.#reading.delete(key);
  }

  /** Bytes held in kept blocks. */
  get size(): number {
    return this.#blocks.size * BLOCK_BYTES;
  }

  async #read(id: string, key: string, index: number, handle: FileHandle): Promise<Buffer | undefined> {
    const token = this.#token(id);
    const block = Buffer.allocUnsafe(BLOCK_BYTES);
    for (let filled = 0; filled < BLOCK_BYTES; ) {
      const { bytesRead } = await handle.read(
        block,
        filled,
        BLOCK_BYTES - filled,
        index * BLOCK_BYTES + filled,
      );
      if (bytesRead === 0) return undefined;
      filled += bytesRead;
    }
    if (this.#tokens.get(id) === token && this.#readers.has(id)) {
      this.#blocks.set(key, block);
      for (const oldest of this.#blocks.keys()) {
        if (this.size <= this.#capacity) break;
        this.#blocks.delete(oldest);
      }
    }
    return block;
  }

  #token(id: string): object {
    let token = this.#tokens.get(id);
    if (!token) {
      token = {};
      this.#tokens.set(id, token);
    }
    return token;
  }
}
