/**
 * The pure logic behind what a first-time user tripped on: the runs list's place kept in the pipeline page's
 * address, the start dialog refusing variables it would otherwise drop or merge, and a run link naming a task or
 * attempt the run does not have.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseRunListPlace, withRunListPlace } from "../src/lists/run-list.ts";
import { missingSelection } from "../src/runs/run-url.ts";
import { variablesToStart } from "../src/runs/variable-sets.ts";

describe("the runs list's place in the pipeline page's address", () => {
  it("reads the page people count from 1 and a known status, and ignores anything else", () => {
    assert.deepEqual(parseRunListPlace("?page=3&status=failed"), { page: 2, status: "failed" });
    assert.deepEqual(parseRunListPlace(""), { page: 0, status: undefined });
    for (const odd of ["?page=0", "?page=-2", "?page=1.5", "?page=abc", "?status=broken", "?status="])
      assert.deepEqual(parseRunListPlace(odd), { page: 0, status: undefined }, odd);
  });

  it("writes the place beside the other parameters, and the first page of all runs as nothing", () => {
    assert.equal(
      withRunListPlace("?config=2", { page: 1, status: "failed" }),
      "?config=2&page=2&status=failed",
    );
    assert.equal(
      withRunListPlace("?config=2&page=4&status=failed", { page: 0, status: undefined }),
      "?config=2",
    );
    assert.equal(withRunListPlace("?page=2", { page: 0, status: undefined }), "");
    const written = withRunListPlace("", { page: 5, status: "cancelled" });
    assert.deepEqual(parseRunListPlace(written), { page: 5, status: "cancelled" });
  });
});

describe("the start dialog's variables", () => {
  it("sends named rows trimmed, and ignores rows left wholly empty", () => {
    assert.deepEqual(
      variablesToStart([
        { key: " GREETING ", value: "hello" },
        { key: "", value: "" },
        { key: "EMPTY", value: "" },
      ]),
      { variables: { GREETING: "hello", EMPTY: "" } },
    );
  });

  it("refuses a value without a name rather than dropping it", () => {
    assert.deepEqual(
      variablesToStart([
        { key: "A", value: "1" },
        { key: "  ", value: "orphan" },
      ]),
      { problem: "Variable 2 has a value but no name: name it or remove it." },
    );
  });

  it("refuses a name given twice rather than keeping only the last value", () => {
    assert.deepEqual(
      variablesToStart([
        { key: "ENV", value: "staging" },
        { key: "ENV ", value: "production" },
      ]),
      { problem: "ENV is given twice: keep one of them." },
    );
  });
});

describe("a run link naming what the run does not have", () => {
  const attempts = new Map([
    ["build", 1],
    ["flaky", 2],
  ]);

  it("names a missing task and the task shown instead", () => {
    assert.equal(
      missingSelection({ task: "nope" }, attempts, "build"),
      "This run has no task “nope”; showing build.",
    );
  });

  it("names an attempt past the task's current one", () => {
    assert.equal(
      missingSelection({ task: "flaky", attempt: 9 }, attempts, "flaky"),
      "flaky has no attempt 9 in this run; showing attempt 2.",
    );
  });

  it("says nothing when the link holds or names nothing", () => {
    assert.equal(missingSelection({ task: "flaky", attempt: 1 }, attempts, "flaky"), undefined);
    assert.equal(missingSelection({ task: "build" }, attempts, "build"), undefined);
    assert.equal(missingSelection({}, attempts, "build"), undefined);
  });
});
