import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { type FireInfo, IntervalTimers, type TimerClock } from "../src/interval-timers.ts";

/** A clock whose time moves only when the test says, running each timer `lateness` ms after it is due. */
class ManualClock implements TimerClock {
  time = 0;
  lateness = 0;
  #next = 1;
  readonly #timers = new Map<number, { at: number; callback: () => void }>();

  now(): number {
    return this.time;
  }

  setTimer(callback: () => void, delayMs: number): number {
    const id = this.#next++;
    this.#timers.set(id, { at: this.time + delayMs, callback });
    return id;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  get pending(): number {
    return this.#timers.size;
  }

  /** Moves time to `until`, running timers in order as their (late) moments pass. */
  advanceTo(until: number): void {
    for (;;) {
      const due = [...this.#timers.entries()].sort((a, b) => a[1].at - b[1].at)[0];
      if (!due || due[1].at + this.lateness > until) break;
      this.#timers.delete(due[0]);
      this.time = due[1].at + this.lateness;
      due[1].callback();
    }
    this.time = until;
  }
}

function setUp(random = () => 0.5) {
  const clock = new ManualClock();
  const fires: FireInfo[] = [];
  const timers = new IntervalTimers({ clock, random, onFire: (fire) => fires.push(fire) });
  return { clock, fires, timers };
}

describe("interval timers", () => {
  it("fires first within the first period, then every period", () => {
    const { clock, fires, timers } = setUp(() => 0.25);
    timers.set("a", 1_000);
    clock.advanceTo(249);
    assert.equal(fires.length, 0);
    clock.advanceTo(3_300);
    assert.deepEqual(
      fires.map((fire) => fire.dueAt),
      [250, 1_250, 2_250, 3_250],
    );
    assert.deepEqual(
      fires.map((fire) => fire.n),
      [0, 1, 2, 3],
    );
  });

  it("does not accumulate timer lateness", () => {
    const { clock, fires, timers } = setUp(() => 0);
    clock.lateness = 7;
    timers.set("a", 100);
    clock.advanceTo(100_000);
    assert.equal(fires.length, 1_000);
    const last = fires.at(-1);
    assert.equal(last?.dueAt, 99_900);
    assert.equal(last?.firedAt, 99_907);
  });

  it("keeps one timer per subscription; re-setting replaces it", () => {
    const { clock, fires, timers } = setUp(() => 0);
    timers.set("a", 1_000);
    timers.set("a", 2_000);
    assert.equal(clock.pending, 1);
    assert.equal(timers.size, 1);
    clock.advanceTo(4_500);
    assert.deepEqual(
      fires.map((fire) => fire.dueAt),
      [0, 2_000, 4_000],
    );
  });

  it("stops a deleted subscription and all of them on clear", () => {
    const { clock, fires, timers } = setUp(() => 0);
    timers.set("a", 1_000);
    timers.set("b", 1_000);
    clock.advanceTo(1_500);
    assert.equal(fires.length, 4);
    assert.equal(timers.delete("a"), true);
    assert.equal(timers.delete("a"), false);
    clock.advanceTo(2_500);
    assert.deepEqual(
      fires.slice(4).map((fire) => fire.key),
      ["b"],
    );
    timers.clear();
    assert.equal(clock.pending, 0);
    clock.advanceTo(10_000);
    assert.equal(fires.length, 5);
  });

  it("waits in steps when the next fire is beyond setTimeout's limit", () => {
    const { clock, fires, timers } = setUp(() => 0.5);
    const thirtyDays = 30 * 24 * 3_600_000;
    timers.set("monthly", thirtyDays);
    clock.advanceTo(thirtyDays / 2 - 1);
    assert.equal(fires.length, 0);
    clock.advanceTo(thirtyDays / 2);
    assert.equal(fires.length, 1);
  });

  it("reports each subscription's next fire", () => {
    const { clock, timers } = setUp(() => 0.5);
    timers.set("a", 1_000);
    clock.advanceTo(600);
    assert.deepEqual(timers.entries(), [{ key: "a", periodMs: 1_000, nextAt: 1_500, fired: 1 }]);
  });

  it("keeps within 1% of its period on the real clock", async () => {
    const fires: FireInfo[] = [];
    const timers = new IntervalTimers({ random: () => 0, onFire: (fire) => fires.push(fire) });
    const period = 100;
    timers.set("real", period);
    await new Promise((resolve) => setTimeout(resolve, 3_050));
    timers.clear();
    // Fires 0‥30 are due; a loaded machine may skip one or two rather than bunch them up.
    assert.ok(fires.length >= 29 && fires.length <= 31, `${fires.length} fires`);
    const first = fires[0];
    const last = fires.at(-1);
    assert.ok(first && last);
    // Each fire is due exactly on the grid, however late the previous one ran.
    assert.equal(Math.round(last.dueAt - first.dueAt), (last.n - first.n) * period);
    const averagePeriod = (last.firedAt - first.firedAt) / (last.n - first.n);
    assert.ok(Math.abs(averagePeriod - period) < period * 0.01, `average period ${averagePeriod}`);
  });
});
