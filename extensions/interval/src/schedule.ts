/**
 * A fixed-rate schedule that does not drift: fire n is due at `origin + n·period` on a monotonic clock, computed
 * from the origin each time rather than by chaining timers of one period (each of which would add its own
 * lateness). The origin is the subscription time plus a start jitter drawn uniformly from [0, period), so that
 * after a restart, when Gofer replays every subscription at once, pipelines on the same interval do not all
 * fire together.
 */
export interface FixedRateSchedule {
  /** Monotonic milliseconds of fire 0. */
  origin: number;
  periodMs: number;
}

/** A uniformly random offset in [0, period): where in the first period the first fire lands. */
export function startJitter(periodMs: number, random: () => number = Math.random): number {
  return Math.min(Math.floor(random() * periodMs), periodMs - 1);
}

export function fixedRateSchedule(
  startMs: number,
  periodMs: number,
  random: () => number = Math.random,
): FixedRateSchedule {
  return { origin: startMs + startJitter(periodMs, random), periodMs };
}

/** When fire n is due. */
export function fireTime(schedule: FixedRateSchedule, n: number): number {
  return schedule.origin + n * schedule.periodMs;
}

/**
 * Which fire follows fire `firedN` when it is handled at `nowMs`: normally fire n + 1; after a stall longer than
 * a period (a suspended process, a blocked event loop), the first one still in the future, so the missed ones
 * are skipped instead of being caught up in a burst.
 */
export function nextFire(
  schedule: FixedRateSchedule,
  firedN: number,
  nowMs: number,
): { n: number; at: number } {
  const onTime = firedN + 1;
  const firstFuture = Math.floor((nowMs - schedule.origin) / schedule.periodMs) + 1;
  const n = Math.max(onTime, firstFuture);
  return { n, at: fireTime(schedule, n) };
}
