/**
 * One timer per subscription, each on its own {@link FixedRateSchedule}. Only one timer is armed per
 * subscription at a time: it is set for the next due fire, and when it runs it fires and arms the next one from
 * the schedule, so neither timer lateness nor the time a fire takes accumulates.
 */
import { type FixedRateSchedule, fixedRateSchedule, nextFire } from "./schedule.ts";

export interface TimerClock {
  /** Monotonic milliseconds (performance.now). */
  now(): number;
  setTimer(callback: () => void, delayMs: number): unknown;
  clearTimer(handle: unknown): void;
}

/** Timers are unref'd: the extension's HTTP server is what keeps the process alive. */
export const realClock: TimerClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => setTimeout(callback, delayMs).unref(),
  clearTimer: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/** setTimeout takes at most a signed 32-bit delay; a longer wait is split into steps. */
const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

export interface IntervalEntry {
  key: string;
  periodMs: number;
  /** Monotonic milliseconds when the next fire is due. */
  nextAt: number;
  /** Fires so far. */
  fired: number;
}

export interface FireInfo {
  key: string;
  /** Which fire of the schedule this is (0 = the first, after the start jitter). */
  n: number;
  /** Monotonic milliseconds when it was due and when it happened. */
  dueAt: number;
  firedAt: number;
}

interface Timer {
  entry: IntervalEntry;
  schedule: FixedRateSchedule;
  n: number;
  handle: unknown;
}

export interface IntervalTimersOptions {
  onFire: (fire: FireInfo) => void;
  clock?: TimerClock;
  random?: () => number;
}

export class IntervalTimers {
  readonly #timers = new Map<string, Timer>();
  readonly #onFire: (fire: FireInfo) => void;
  readonly #clock: TimerClock;
  readonly #random: () => number;

  constructor(options: IntervalTimersOptions) {
    this.#onFire = options.onFire;
    this.#clock = options.clock ?? realClock;
    this.#random = options.random ?? Math.random;
  }

  /** Starts firing `key` every `periodMs`, replacing any timer it had. The first fire is jittered. */
  set(key: string, periodMs: number): IntervalEntry {
    this.delete(key);
    const schedule = fixedRateSchedule(this.#clock.now(), periodMs, this.#random);
    const timer: Timer = {
      entry: { key, periodMs, nextAt: schedule.origin, fired: 0 },
      schedule,
      n: 0,
      handle: undefined,
    };
    this.#timers.set(key, timer);
    this.#arm(timer);
    return timer.entry;
  }

  /** Stops `key`'s timer; false when it had none. */
  delete(key: string): boolean {
    const timer = this.#timers.get(key);
    if (!timer) return false;
    this.#clock.clearTimer(timer.handle);
    this.#timers.delete(key);
    return true;
  }

  clear(): void {
    for (const key of [...this.#timers.keys()]) this.delete(key);
  }

  get size(): number {
    return this.#timers.size;
  }

  entries(): IntervalEntry[] {
    return [...this.#timers.values()].map((timer) => ({ ...timer.entry }));
  }

  #arm(timer: Timer): void {
    const delay = Math.max(0, timer.entry.nextAt - this.#clock.now());
    timer.handle = this.#clock.setTimer(() => this.#due(timer), Math.min(delay, MAX_TIMER_DELAY_MS));
  }

  #due(timer: Timer): void {
    // A replaced or deleted subscription's last timer may still run once.
    if (this.#timers.get(timer.entry.key) !== timer) return;
    const now = this.#clock.now();
    // Timers have millisecond resolution and a long wait is split into steps: not due yet means wait again.
    if (now < timer.entry.nextAt - 1) {
      this.#arm(timer);
      return;
    }
    const fire = { key: timer.entry.key, n: timer.n, dueAt: timer.entry.nextAt, firedAt: now };
    const next = nextFire(timer.schedule, timer.n, now);
    timer.n = next.n;
    timer.entry.nextAt = next.at;
    timer.entry.fired += 1;
    this.#arm(timer);
    this.#onFire(fire);
  }
}
