import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { formatDuration, parseGoDuration } from "../src/duration.ts";
import { parseEvery, parseMinInterval } from "../src/params.ts";

describe("Go durations", () => {
  it("parses Go's units and compound forms", () => {
    assert.equal(parseGoDuration("30s"), 30_000);
    assert.equal(parseGoDuration("5m"), 300_000);
    assert.equal(parseGoDuration("1h30m"), 5_400_000);
    assert.equal(parseGoDuration("1.5h"), 5_400_000);
    assert.equal(parseGoDuration("250ms"), 250);
    assert.equal(parseGoDuration("0"), 0);
  });

  it("refuses what Go refuses", () => {
    for (const text of ["", "5", "2d", "1w", "five minutes", "5 m", "-5m", "5m please", "m"]) {
      assert.equal(parseGoDuration(text), undefined, text);
    }
  });

  it("prints durations the way Go does", () => {
    assert.equal(formatDuration(5_400_000), "1h30m");
    assert.equal(formatDuration(60_000), "1m");
    assert.equal(formatDuration(1_500), "1.5s");
    assert.equal(formatDuration(250), "250ms");
    assert.equal(formatDuration(3_723_000), "1h2m3s");
  });
});

describe("min_interval", () => {
  it("defaults to one minute", () => {
    assert.deepEqual(parseMinInterval(undefined), { ok: true, value: 60_000 });
  });

  it("takes a Go duration", () => {
    assert.deepEqual(parseMinInterval("10s"), { ok: true, value: 10_000 });
  });

  it("refuses zero and non-durations", () => {
    for (const text of ["0", "soon", "10"]) {
      const checked = parseMinInterval(text);
      assert.equal(checked.ok, false, text);
      if (!checked.ok) assert.match(checked.problem, /min_interval/);
    }
  });
});

describe("every", () => {
  it("compiles to milliseconds", () => {
    assert.deepEqual(parseEvery("5m", 60_000), { ok: true, value: 300_000 });
    assert.deepEqual(parseEvery("1m", 60_000), { ok: true, value: 60_000 });
  });

  it("refuses an interval below min_interval, naming both values", () => {
    const checked = parseEvery("30s", 60_000);
    assert.equal(checked.ok, false);
    if (!checked.ok) {
      assert.match(checked.problem, /"30s"/);
      assert.match(checked.problem, /min_interval "1m"/);
    }
  });

  it("refuses zero and non-durations", () => {
    for (const text of ["0", "", "every day", "1d"]) {
      const checked = parseEvery(text, 1);
      assert.equal(checked.ok, false, text);
      if (!checked.ok) assert.match(checked.problem, /not a positive duration/);
    }
  });
});
