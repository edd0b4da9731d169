import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  compileExpression,
  latestTickAtOrBefore,
  missedTicks,
  parseCronParams,
  pausedCron,
  type Schedule,
  timezoneProblem,
} from "../src/cron-params.ts";

const utc = (iso: string) => new Date(iso);

function schedule(expression: string, timezone = "UTC", seconds?: string): Schedule {
  const compiled = compileExpression(expression, seconds);
  assert.ok(compiled.ok, compiled.ok ? "" : compiled.problem);
  return { ...compiled.value, timezone };
}

describe("cron subscription params", () => {
  it("takes a 5-field expression, in UTC by default, at second 0, without catch-up", () => {
    assert.deepEqual(parseCronParams({ expression: "0 3 * * *" }), {
      ok: true,
      value: {
        expression: "0 3 * * *",
        seconds: "0",
        pattern: "0 0 3 * * * *",
        domAndDow: false,
        timezone: "UTC",
        catchUp: false,
      },
    });
  });

  it("takes seconds as their own param, with a time zone and catch_up", () => {
    assert.deepEqual(
      parseCronParams({
        expression: " *  * * * * ",
        seconds: "*/30",
        timezone: "Europe/Berlin",
        catch_up: "true",
      }),
      {
        ok: true,
        value: {
          expression: "* * * * *",
          seconds: "*/30",
          pattern: "*/30 * * * * * *",
          domAndDow: false,
          timezone: "Europe/Berlin",
          catchUp: true,
        },
      },
    );
  });

  it("takes nicknames and names", () => {
    for (const expression of ["@hourly", "@daily", "0 9 * * MON-FRI", "0 0 1 JAN *", "0 12 L * *"]) {
      assert.equal(parseCronParams({ expression }).ok, true, expression);
    }
  });

  it("refuses invalid expressions, naming the field and what it takes", () => {
    const cases: Array<[string, RegExp]> = [
      ["", /param expression is required: 5 fields/],
      ["* * *", /has 3 fields; expected 5 fields .* or 6 fields/],
      ["0 0 * * * * 2030", /has 7 fields; .*seconds go in the seconds param/],
      ["61 * * * *", /the minute field "61" is not valid: expected 0-59/],
      ["0 25 * * *", /the hour field "25" is not valid: expected 0-23/],
      ["every day", /has 2 fields/],
      ["0 0 30 2 *", /never matches a date/],
      ["2030-01-01T00:00:00", /has 1 field;/],
      ["@reboot", /@reboot is not supported/],
    ];
    for (const [expression, reason] of cases) {
      const checked = parseCronParams({ expression });
      assert.equal(checked.ok, false, expression);
      if (!checked.ok) assert.match(checked.problem, reason, expression);
    }
  });

  it("refuses unknown time zones", () => {
    assert.match(timezoneProblem("Mars/Olympus_Mons") ?? "", /not an IANA time zone/);
    assert.equal(timezoneProblem("America/New_York"), undefined);
    const checked = parseCronParams({ expression: "0 3 * * *", timezone: "Europe/Atlantis" });
    assert.equal(checked.ok, false);
  });

  it("takes catch_up only as true or false", () => {
    assert.equal(parseCronParams({ expression: "@daily", catch_up: "FALSE" }).ok, true);
    const checked = parseCronParams({ expression: "@daily", catch_up: "yes" });
    assert.equal(checked.ok, false);
    if (!checked.ok) assert.match(checked.problem, /catch_up "yes"/);
  });
});

describe("scheduled times", () => {
  it("reads the expression in the subscription's time zone", () => {
    const berlin = pausedCron(schedule("0 9 * * *", "Europe/Berlin"));
    assert.equal(berlin.nextRun(utc("2025-01-15T00:00:00Z"))?.toISOString(), "2025-01-15T08:00:00.000Z");
    assert.equal(berlin.nextRun(utc("2025-07-15T00:00:00Z"))?.toISOString(), "2025-07-15T07:00:00.000Z");
  });

  it("finds the tick a firing job runs for, including one exactly now", () => {
    const hourly = pausedCron(schedule("0 * * * *"));
    assert.equal(
      latestTickAtOrBefore(hourly, utc("2025-01-01T10:00:00.004Z"))?.toISOString(),
      "2025-01-01T10:00:00.000Z",
    );
    assert.equal(
      latestTickAtOrBefore(hourly, utc("2025-01-01T10:59:59.999Z"))?.toISOString(),
      "2025-01-01T10:00:00.000Z",
    );
    const everySecond = pausedCron(schedule("* * * * *", "UTC", "*"));
    assert.equal(
      latestTickAtOrBefore(everySecond, utc("2025-01-01T10:00:07.020Z"))?.toISOString(),
      "2025-01-01T10:00:07.000Z",
    );
  });
});

describe("missed ticks", () => {
  const hourly = schedule("0 * * * *");

  it("finds none when the next tick after the last fire is still ahead", () => {
    assert.equal(missedTicks(hourly, utc("2025-01-01T10:00:00Z"), utc("2025-01-01T10:59:59Z")), undefined);
  });

  it("finds one tick missed by a short downtime", () => {
    assert.deepEqual(missedTicks(hourly, utc("2025-01-01T10:00:00Z"), utc("2025-01-01T11:20:00Z")), {
      first: utc("2025-01-01T11:00:00Z"),
      latest: utc("2025-01-01T11:00:00Z"),
    });
  });

  it("counts a tick due exactly now as missed", () => {
    const missed = missedTicks(hourly, utc("2025-01-01T10:00:00Z"), utc("2025-01-01T11:00:00Z"));
    assert.equal(missed?.latest.toISOString(), "2025-01-01T11:00:00.000Z");
  });

  it("spans many missed ticks from the first to the latest", () => {
    assert.deepEqual(missedTicks(hourly, utc("2025-01-01T10:00:00Z"), utc("2025-01-03T07:30:00Z")), {
      first: utc("2025-01-01T11:00:00Z"),
      latest: utc("2025-01-03T07:00:00Z"),
    });
  });

  it("uses the time zone, across a daylight-saving change", () => {
    const nightly = schedule("30 2 * * *", "Europe/Berlin");
    // 02:30 does not exist in Berlin on 2025-03-30; croner runs it at 03:30 local (01:30 UTC).
    const missed = missedTicks(nightly, utc("2025-03-29T01:30:00Z"), utc("2025-03-30T12:00:00Z"));
    assert.ok(missed);
    assert.equal(missed.first.toISOString(), missed.latest.toISOString());
    assert.ok(missed.first > utc("2025-03-29T01:30:00Z") && missed.first < utc("2025-03-30T12:00:00Z"));
  });
});
