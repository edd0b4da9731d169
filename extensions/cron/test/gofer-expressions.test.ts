/**
 * Expressions as Gofer's cron extension read them (6 fields, year last, both day fields must match), the
 * standard 5-field form beside them, and the exact times each fires from one fixed instant.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseCronParams, pausedCron, yearField } from "../src/cron-params.ts";

/** A Sunday. */
const START = new Date("2025-06-15T10:30:00Z");

/** The next `count` fire times after `from`, as ISO strings; fewer when the schedule ends. */
function fires(params: Record<string, string>, count = 4, from = START): string[] {
  const checked = parseCronParams(params, START);
  assert.ok(checked.ok, checked.ok ? "" : checked.problem);
  const cron = pausedCron(checked.value);
  try {
    return cron.nextRuns(count, from).map((date) => date.toISOString());
  } finally {
    cron.stop();
  }
}

function refusal(params: Record<string, string>): string {
  const checked = parseCronParams(params, START);
  assert.equal(checked.ok, false, `${JSON.stringify(params)} was taken`);
  return checked.ok ? "" : checked.problem;
}

const at = (...isos: string[]) => isos.map((iso) => new Date(iso).toISOString());

describe("6-field expressions: minute hour day-of-month month day-of-week year", () => {
  it("fires only in the year named, never in the one before", () => {
    assert.deepEqual(fires({ expression: "0 12 1 1 * 2030" }), at("2030-01-01T12:00Z"));
    assert.deepEqual(
      fires({ expression: "0 12 1 1 * 2030" }, 4, new Date("2029-01-01T00:00Z")),
      at("2030-01-01T12:00Z"),
    );
  });

  it("reads Gofer's documented example, every Christmas at 01:00", () => {
    assert.deepEqual(
      fires({ expression: "0 1 25 12 * *" }, 3),
      at("2025-12-25T01:00Z", "2026-12-25T01:00Z", "2027-12-25T01:00Z"),
    );
  });

  it("takes a list, a range, and steps of years", () => {
    assert.deepEqual(
      fires({ expression: "0 0 1 1 * 2026,2028" }),
      at("2026-01-01T00:00Z", "2028-01-01T00:00Z"),
    );
    assert.deepEqual(
      fires({ expression: "0 0 1 1 * 2027-2029" }),
      at("2027-01-01T00:00Z", "2028-01-01T00:00Z", "2029-01-01T00:00Z"),
    );
    // A step counts from 1970, the first year Gofer took: */2 is the even years.
    assert.deepEqual(fires({ expression: "0 0 1 1 * */2" }, 2), at("2026-01-01T00:00Z", "2028-01-01T00:00Z"));
    assert.deepEqual(
      fires({ expression: "0 0 1 1 * 2027/5" }, 2),
      at("2027-01-01T00:00Z", "2032-01-01T00:00Z"),
    );
    assert.deepEqual(
      fires({ expression: "0 0 1 1 * 2026-2034/4,2031" }, 5),
      at("2026-01-01T00:00Z", "2030-01-01T00:00Z", "2031-01-01T00:00Z", "2034-01-01T00:00Z"),
    );
  });

  it("fires on weekdays of one year only", () => {
    assert.deepEqual(
      fires({ expression: "30 8 * * 1-5 2026" }, 3),
      at("2026-01-01T08:30Z", "2026-01-02T08:30Z", "2026-01-05T08:30Z"),
    );
    assert.deepEqual(fires({ expression: "59 23 31 12 * 2026" }, 2), at("2026-12-31T23:59Z"));
  });

  it("requires both day fields to match, as Gofer did: Friday the 13th", () => {
    assert.deepEqual(
      fires({ expression: "0 0 13 * 5 *" }, 3),
      at("2026-02-13T00:00Z", "2026-03-13T00:00Z", "2026-11-13T00:00Z"),
    );
  });

  it("reads the year in the subscription's time zone", () => {
    // Midnight of 2030-01-01 in Berlin is still 2029 in UTC.
    assert.deepEqual(
      fires({ expression: "0 0 1 1 * 2030", timezone: "Europe/Berlin" }),
      at("2029-12-31T23:00Z"),
    );
    assert.deepEqual(
      fires({ expression: "30 8 * * 1-5 2026", timezone: "America/New_York" }, 2),
      at("2026-01-01T13:30Z", "2026-01-02T13:30Z"),
    );
  });

  it("refuses, at subscribe, an expression whose years are all past", () => {
    assert.match(
      refusal({ expression: "0 12 1 1 * 2020" }),
      /expression "0 12 1 1 \* 2020" never fires again: none of its times after 2025-06-15T10:30:00.000Z falls in its year field/,
    );
    // This year, but its only time has gone by.
    assert.match(refusal({ expression: "0 0 1 1 * 2025" }), /never fires again/);
    assert.match(refusal({ expression: "0 0 30 2 * 2030" }), /never matches a date/);
  });

  it("refuses a year field Gofer would not take, naming it and what it takes", () => {
    const cases: Array<[string, RegExp]> = [
      [
        "0 0 * * * 1969",
        /the year field "1969" is not valid \(1969 is out of range\): expected years 1970-2100/,
      ],
      ["0 0 * * * 2101", /2101 is out of range/],
      ["0 0 * * * 2030-2026", /the range "2030-2026" runs backwards/],
      ["0 0 * * * */0", /the step in "\*\/0" must be at least 1/],
      ["0 0 * * * 2030,", /"" is not a year, range or step/],
      ["0 0 * * * x", /"x" is not a year, range or step/],
    ];
    for (const [expression, reason] of cases) assert.match(refusal({ expression }), reason, expression);
  });

  it("refuses a seconds-first expression instead of misreading it when it can tell", () => {
    // Its 6th field is a day of week, not a year.
    assert.match(
      refusal({ expression: "*/30 * * * * MON-FRI" }),
      /the year field "MON-FRI" is not valid.*seconds go in the seconds param/,
    );
    assert.match(
      refusal({ expression: "0 0 12 1 1 * 2030" }),
      /has 7 fields; .*seconds go in the seconds param/,
    );
  });
});

describe("5-field expressions: standard cron, as before", () => {
  it("fires at the same times as before", () => {
    assert.deepEqual(fires({ expression: "0 3 * * *" }, 2), at("2025-06-16T03:00Z", "2025-06-17T03:00Z"));
    assert.deepEqual(
      fires({ expression: "0 9 * * MON-FRI" }, 2),
      at("2025-06-16T09:00Z", "2025-06-17T09:00Z"),
    );
    assert.deepEqual(fires({ expression: "0 12 L * *" }, 2), at("2025-06-30T12:00Z", "2025-07-31T12:00Z"));
  });

  it("needs either day field to match, or both with a leading +", () => {
    assert.deepEqual(
      fires({ expression: "0 0 13 * 5" }, 3),
      at("2025-06-20T00:00Z", "2025-06-27T00:00Z", "2025-07-04T00:00Z"),
    );
    assert.deepEqual(fires({ expression: "0 0 13 * +5" }, 2), at("2026-02-13T00:00Z", "2026-03-13T00:00Z"));
  });

  it("reads the predefined nicknames", () => {
    const cases: Array<[string, string[]]> = [
      ["@yearly", at("2026-01-01T00:00Z", "2027-01-01T00:00Z")],
      ["@annually", at("2026-01-01T00:00Z", "2027-01-01T00:00Z")],
      ["@monthly", at("2025-07-01T00:00Z", "2025-08-01T00:00Z")],
      ["@weekly", at("2025-06-22T00:00Z", "2025-06-29T00:00Z")],
      ["@daily", at("2025-06-16T00:00Z", "2025-06-17T00:00Z")],
      ["@midnight", at("2025-06-16T00:00Z", "2025-06-17T00:00Z")],
      ["@hourly", at("2025-06-15T11:00Z", "2025-06-15T12:00Z")],
      ["@Daily", at("2025-06-16T00:00Z", "2025-06-17T00:00Z")],
    ];
    for (const [expression, expected] of cases)
      assert.deepEqual(fires({ expression }, 2), expected, expression);
    assert.match(refusal({ expression: "@reboot" }), /@reboot is not supported/);
    assert.match(refusal({ expression: "@fortnightly" }), /unknown nickname; expected one of @yearly/);
  });

  it("refuses a malformed field, naming it and what it takes", () => {
    const cases: Array<[string, RegExp]> = [
      ["0 24 * * *", /the hour field "24" is not valid: expected 0-23/],
      ["0 0 32 * *", /the day-of-month field "32" is not valid: expected 1-31/],
      ["0 0 * 13 *", /the month field "13" is not valid: expected 1-12 or JAN-DEC/],
      ["0 0 * * 8", /the day-of-week field "8" is not valid: expected 0-7 or SUN-SAT/],
      ["0 0 * * FUNDAY", /the day-of-week field "FUNDAY" is not valid/],
      ["* * * *", /has 4 fields; expected 5 fields/],
    ];
    for (const [expression, reason] of cases) assert.match(refusal({ expression }), reason, expression);
  });
});

describe("the seconds param", () => {
  it("sets the second each minute fires at", () => {
    assert.deepEqual(
      fires({ expression: "* * * * *", seconds: "*/30" }, 3),
      at("2025-06-15T10:30:30Z", "2025-06-15T10:31:00Z", "2025-06-15T10:31:30Z"),
    );
    assert.deepEqual(fires({ expression: "0 3 * * *", seconds: "15" }, 1), at("2025-06-16T03:00:15Z"));
    assert.deepEqual(
      fires({ expression: "0 12 1 1 * 2030", seconds: "0,30" }),
      at("2030-01-01T12:00:00Z", "2030-01-01T12:00:30Z"),
    );
  });

  it("refuses a malformed seconds field", () => {
    assert.match(
      refusal({ expression: "* * * * *", seconds: "60" }),
      /param seconds: the seconds field "60" is not valid: expected 0-59/,
    );
  });
});

describe("year fields as croner reads them", () => {
  it("keeps * open-ended and spells the rest out", () => {
    assert.deepEqual(yearField("*"), { ok: true, value: "*" });
    assert.deepEqual(yearField("2030"), { ok: true, value: "2030" });
    assert.deepEqual(yearField("2028,2026-2027,2031"), { ok: true, value: "2026-2028,2031" });
    assert.deepEqual(yearField("2090/5"), { ok: true, value: "2090,2095,2100" });
  });
});
