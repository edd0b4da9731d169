const NEWLINE = 0x0a;

/**
 * Cuts a byte stream into lines on "\n" only, so "\r" and invalid UTF-8 pass through untouched.
 *
 * The unterminated tail is kept as a list of pieces and joined once, when its newline arrives: joining on every
 * push would make a long line that arrives in many small pieces quadratic.
 */
export class LineSplitter {
  #pending: Buffer[] = [];

  /**
   * The lines completed by `data`, without their "\n". Returned lines may share memory with `data`; the pending
   * tail is copied, so the caller may reuse `data` once it is done with the returned lines.
   */
  push(data: Buffer): Buffer[] {
    const lines: Buffer[] = [];
    let start = 0;
    for (let newline = data.indexOf(NEWLINE); newline !== -1; newline = data.indexOf(NEWLINE, start)) {
      const piece = data.subarray(start, newline);
      if (this.#pending.length === 0) {
        lines.push(piece);
      } else {
        this.#pending.push(piece);
        lines.push(Buffer.concat(this.#pending));
        this.#pending = [];
      }
      start = newline + 1;
    }
    if (start < data.length) this.#pending.push(Buffer.from(data.subarray(start)));
    return lines;
  }

  /**
   * The complete lines `data` finishes as a few buffers holding them back to back, each line with its "\n":
   * at most the pending tail joined to the first line, then the rest of the lines as one view into `data`.
   * Storing output unchanged needs no split into single lines, which would cost a buffer per line.
   */
  pushBlock(data: Buffer): Buffer[] {
    const last = data.lastIndexOf(NEWLINE);
    if (last === -1) {
      if (data.length > 0) this.#pending.push(Buffer.from(data));
      return [];
    }
    const block: Buffer[] = [];
    let start = 0;
    if (this.#pending.length > 0) {
      start = data.indexOf(NEWLINE) + 1;
      this.#pending.push(data.subarray(0, start));
      block.push(Buffer.concat(this.#pending));
      this.#pending = [];
    }
    if (start <= last) block.push(data.subarray(start, last + 1));
    if (last + 1 < data.length) this.#pending.push(Buffer.from(data.subarray(last + 1)));
    return block;
  }

  /** Whether an unterminated tail is waiting for its newline. */
  get pending(): boolean {
    return this.#pending.length > 0;
  }

  /** The unterminated tail, if there is one, and forgets it. */
  flush(): Buffer | undefined {
    if (this.#pending.length === 0) return undefined;
    const rest = Buffer.concat(this.#pending);
    this.#pending = [];
    return rest;
  }
}
