import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { fireTime, fixedRateSchedule, nextFire, startJitter } from "../src/schedule.ts";

describe("start jitter", () => {
  it("stays within the first period", () => {
    assert.equal(
      startJitter(60_000, () => 0),
      0,
    );
    assert.equal(
      startJitter(60_000, () => 0.5),
      30_000,
    );
    assert.equal(
      startJitter(60_000, () => 0.999_999_999),
      59_999,
    );
    for (let i = 0; i < 1000; i++) {
      const jitter = startJitter(5_000);
      assert.ok(jitter >= 0 && jitter < 5_000, `${jitter}`);
    }
  });

  it("spreads subscriptions over the period", () => {
    const jitters = Array.from({ length: 2000 }, () => startJitter(1_000));
    const quarters = [0, 1, 2, 3].map(
      (q) => jitters.filter((jitter) => Math.floor(jitter / 250) === q).length,
    );
    for (const count of quarters) assert.ok(count > 350 && count < 650, `${quarters}`);
  });
});

describe("fixed-rate schedule", () => {
  const schedule = fixedRateSchedule(1_000.25, 60_000, () => 0.25);

  it("puts fire n at start + jitter + n·period", () => {
    assert.equal(schedule.origin, 16_000.25);
    assert.equal(fireTime(schedule, 0), 16_000.25);
    assert.equal(fireTime(schedule, 1440), 16_000.25 + 1440 * 60_000);
  });

  it("follows fire n with fire n + 1 however late n was handled within its period", () => {
    for (const lateness of [0, 0.4, 5, 59_999]) {
      const next = nextFire(schedule, 7, fireTime(schedule, 7) + lateness);
      assert.deepEqual(next, { n: 8, at: fireTime(schedule, 8) });
    }
  });

  it("does not repeat a fire handled a moment before it was due", () => {
    assert.deepEqual(nextFire(schedule, 7, fireTime(schedule, 7) - 0.5), { n: 8, at: fireTime(schedule, 8) });
  });

  it("skips the fires missed during a stall instead of bursting", () => {
    const next = nextFire(schedule, 3, fireTime(schedule, 3) + 5.5 * 60_000);
    assert.deepEqual(next, { n: 9, at: fireTime(schedule, 9) });
  });

  it("never drifts: after a million fires each handled late, the next is still on the grid", () => {
    const period = 1_000;
    const drifting = fixedRateSchedule(0.7, period, () => 0.1);
    let n = 0;
    let at = drifting.origin;
    for (let i = 0; i < 1_000_000; i++) {
      const next = nextFire(drifting, n, at + 3.3);
      n = next.n;
      at = next.at;
    }
    assert.equal(n, 1_000_000);
    assert.ok(Math.abs(at - (drifting.origin + 1_000_000 * period)) < 1e-3);
  });
});
