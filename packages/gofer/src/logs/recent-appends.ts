/**
 * The newest bytes a writer appended to a log, kept while two or more readers follow it, so that followers at
 * the end of a live log take each append from memory (one buffer for all of them) instead of each looking up
 * the file's size and reading the append back from it.
 *
 * Pieces are kept only once the file holds them (after their write), so a reader gets the same bytes from here
 * as from the file. At least the newest piece is kept, older ones only while all of them stay under `capacity`
 * bytes; a follower further behind reads the file.
 */
export class RecentAppends {
  readonly #capacity: number;
  /** Contiguous pieces of the file, oldest first. */
  #pieces: Array<{ offset: number; data: Buffer }> = [];
  #bytes = 0;

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** Keeps `parts`, which the file holds back to back from byte `offset` on. */
  add(offset: number, parts: Buffer[]): void {
    const last = this.#pieces.at(-1);
    // Not where the last piece ended: nothing kept describes the file around it any more.
    if (last && last.offset + last.data.length !== offset) this.clear();
    const data = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts);
    if (data.length === 0) return;
    this.#pieces.push({ offset, data });
    this.#bytes += data.length;
    for (let oldest = this.#pieces[0]; oldest && this.#pieces.length > 1; oldest = this.#pieces[0]) {
      if (this.#bytes <= this.#capacity) break;
      this.#pieces.shift();
      this.#bytes -= oldest.data.length;
    }
  }

  /**
   * The file's bytes from `position` to the end of the newest piece, as views of the kept pieces; undefined
   * unless `position` falls within them.
   */
  from(position: number): Buffer[] | undefined {
    const first = this.#pieces[0];
    const last = this.#pieces.at(-1);
    if (!first || !last || position < first.offset || position >= last.offset + last.data.length)
      return undefined;
    const pieces = this.#pieces.slice(this.#pieces.findLastIndex((piece) => piece.offset <= position));
    return pieces.map((piece, n) => (n === 0 ? piece.data.subarray(position - piece.offset) : piece.data));
  }

  clear(): void {
    this.#pieces = [];
    this.#bytes = 0;
  }
}
