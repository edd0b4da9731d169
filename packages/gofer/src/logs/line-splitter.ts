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
