/**
 * Positions in a Docker log stream, for resuming it exactly.
 *
 * The engine can only filter a container's log by timestamp (`since`, inclusive), and the stdout and stderr
 * copiers stamp their pieces before taking turns at the log file, so stamps are not in stream order: a piece
 * can carry an earlier stamp than the one before it (by microseconds). A cursor therefore names the smallest
 * stamp among the pieces of the last {@link SKEW_MS} and how many of those pieces were delivered: asking with
 * `since` at that stamp returns, in stream order, exactly those pieces and then everything not yet delivered.
 */
import type { LogCursor } from "../scheduler.ts";

/** Far more than the engine's stamping skew, far less than the output a chatty task produces meanwhile. */
const SKEW_MS = 1000;

interface Stamp {
  text: string;
  ms: number;
}

export class LogPosition {
  /** Stamps of the delivered pieces not older than SKEW_MS behind the newest, in stream order. */
  readonly #window: Stamp[] = [];
  #head = 0;
  /** Indexes into the window with increasing stamps: the front is the window's minimum. */
  readonly #minima: number[] = [];
  #minHead = 0;
  #newestMs = Number.NEGATIVE_INFINITY;

  /** Records a delivered piece stamped `timestamp` and returns the position right after it. */
  advance(timestamp: string): LogCursor {
    const stamp = { text: timestamp, ms: stampMs(timestamp) };
    const index = this.#window.length;
    this.#window.push(stamp);
    // Compared as text, exactly: the engine's stamps are fixed-width UTC with nine fraction digits, finer than
    // a double holds at this magnitude. The millisecond value only decides what is old enough to leave.
    while (
      this.#minima.length > this.#minHead &&
      this.#stampAt(this.#minima.at(-1) as number).text >= stamp.text
    )
      this.#minima.pop();
    this.#minima.push(index);
    this.#newestMs = Math.max(this.#newestMs, stamp.ms);
    while (this.#window.length - this.#head > 1 && this.#stampAt(this.#head).ms < this.#newestMs - SKEW_MS) {
      if (this.#minima[this.#minHead] === this.#head) this.#minHead++;
      this.#head++;
    }
    this.#compact();
    return this.cursor() as LogCursor;
  }

  /** The position after everything delivered so far; undefined before the first piece. */
  cursor(): LogCursor | undefined {
    if (this.#window.length === this.#head) return undefined;
    const minimum = this.#stampAt(this.#minima[this.#minHead] as number);
    return { timestamp: minimum.text, count: this.#window.length - this.#head };
  }

  #stampAt(index: number): Stamp {
    return this.#window[index] as Stamp;
  }

  /** Drops the consumed front now and then, so the arrays stay as small as the window. */
  #compact(): void {
    if (this.#head < 4096 || this.#head < this.#window.length / 2) return;
    const shift = this.#head;
    this.#window.splice(0, shift);
    const minima = this.#minima.slice(this.#minHead).map((index) => index - shift);
    this.#minima.length = 0;
    this.#minima.push(...minima);
    this.#minHead = 0;
    this.#head = 0;
  }
}

/** Milliseconds (with the sub-millisecond rest as a fraction) of a stamp like 2026-11-28T12:00:00.123456789Z. */
export function stampMs(timestamp: string): number {
  const match = /^(.+T\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(timestamp);
  const whole = match ? Date.parse(`${match[1]}${match[3]}`) : Number.NaN;
  if (!match || Number.isNaN(whole)) throw new Error(`unexpected log timestamp "${timestamp}"`);
  return whole + Number(`0.${match[2] ?? "0"}`) * 1000;
}
