/** The run page's pure logic, run in Node: a cancellation's grace period, the address of a selection, variable sets. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { Run, Variable } from "../../packages/sdk/src/client/wire-types.ts";
import { askedBy, cancellationOf, graceLeft, isCancelling } from "../src/runs/cancellation.ts";
import { parseRunSelection, runSelectionSuffix } from "../src/runs/run-url.ts";
import {
  describeSet,
  recentVariableSets,
  secretReference,
  startVariables,
} from "../src/runs/variable-sets.ts";

function run(
  runId: number,
  variables: Variable[] = [],
  extra: Partial<Run> & Record<string, unknown> = {},
): Run {
  return {
    namespace_id: "default",
    pipeline_id: "p",
    pipeline_config_version: 1,
    run_id: runId,
    started: 1000,
    ended: 0,
    state: "running",
    status: "unknown",
    status_reason: null,
    initiator: { id: "t1", user: "alice" },
    variables,
    token_id: null,
    store_objects_expired: false,
    event_id: null,
    ...extra,
  };
}

const given = (key: string, value: string): Variable => ({ key, value, source: "run_options" });

describe("a run being cancelled", () => {
  const cancellation = { requested: 10_000, requested_by: { id: "t2", user: "bob" }, stop_timeout_ms: 5000 };

  it("is cancelling from the announcement or the run's cancellation until the run completes", () => {
    assert.equal(isCancelling(run(1), false), false);
    assert.equal(isCancelling(run(1), true), true, "the event is enough");
    assert.equal(isCancelling(run(1, [], { cancellation }), false), true);
    assert.equal(
      isCancelling(run(1, [], { cancellation, state: "complete", status: "cancelled" }), true),
      false,
    );
    assert.deepEqual(cancellationOf(run(1, [], { cancellation })), cancellation);
    assert.equal(cancellationOf(run(1)), undefined, "a server without the extension");
  });

  it("counts the grace period down in whole seconds, then says the tasks are being killed", () => {
    assert.equal(graceLeft(cancellation, 10_000), "tasks still running are killed in 5 s");
    assert.equal(
      graceLeft(cancellation, 9_300),
      "tasks still running are killed in 5 s",
      "a clock read before",
    );
    assert.equal(graceLeft(cancellation, 11_200), "tasks still running are killed in 4 s");
    assert.equal(graceLeft(cancellation, 14_999), "tasks still running are killed in 1 s");
    assert.match(graceLeft(cancellation, 15_000), /grace period is over/);
  });

  it("names who asked, or the run that superseded it", () => {
    assert.equal(askedBy(run(1), cancellation), "asked by bob");
    const superseded = run(1, [], {
      status_reason: { reason: "superseded", description: "Superseded by run 4 of p" },
    });
    assert.equal(askedBy(superseded, { requested: 1, stop_timeout_ms: 1 }), "Superseded by run 4 of p");
  });
});

describe("the run page's address", () => {
  it("reads the task, the attempt and the line, and writes them back the same", () => {
    const selection = parseRunSelection("?task=build%20all&attempt=2", "#L42");
    assert.deepEqual(selection, { task: "build all", attempt: 2, line: 42 });
    assert.equal(runSelectionSuffix(selection), "?task=build+all&attempt=2#L42");
    assert.deepEqual(parseRunSelection(runSelectionSuffix(selection).split("#")[0] ?? "", "#L42"), selection);
    assert.equal(runSelectionSuffix({ task: "t" }), "?task=t");
    assert.equal(runSelectionSuffix({}), "");
  });

  it("leaves out what is malformed, and a line or attempt without a task", () => {
    assert.deepEqual(parseRunSelection("?task=t&attempt=0", "#L0"), {
      task: "t",
      attempt: undefined,
      line: undefined,
    });
    assert.deepEqual(parseRunSelection("?task=t&attempt=x", "#line-3"), {
      task: "t",
      attempt: undefined,
      line: undefined,
    });
    assert.deepEqual(parseRunSelection("?attempt=2", "#L4"), {
      task: undefined,
      attempt: undefined,
      line: undefined,
    });
  });
});

describe("variable sets", () => {
  it("starts again with what the run was given, not the pipeline's or the system's own", () => {
    const started = run(3, [
      given("FAIL_TESTS", "1"),
      { key: "FROM_HOOK", value: "x", source: "extension" },
      { key: "GOFER_PIPELINE", value: "p", source: "system" },
      { key: "OWN", value: "y", source: "pipeline_config" },
    ]);
    assert.deepEqual(startVariables(started), [
      { key: "FAIL_TESTS", value: "1" },
      { key: "FROM_HOOK", value: "x" },
    ]);
  });

  it("offers each distinct set once, under the newest run that used it, newest first", () => {
    const sets = recentVariableSets([
      run(1, [given("A", "1"), given("B", "2")]),
      run(4, [given("B", "2"), given("A", "1")]),
      run(2, []),
      run(3, [given("A", "9")]),
    ]);
    assert.deepEqual(
      sets.map((set) => [set.runId, set.variables.map((row) => `${row.key}=${row.value}`)]),
      [
        [4, ["B=2", "A=1"]],
        [3, ["A=9"]],
        [2, []],
      ],
    );
    assert.equal(describeSet(sets[0] ?? { runId: 0, variables: [] }), "run 4: B=2, A=1");
    assert.equal(describeSet(sets[2] ?? { runId: 0, variables: [] }), "run 2: no variables");
    assert.equal(
      recentVariableSets([run(1, [given("A", "1")]), run(2), run(3, [given("C", "3")])], 2).length,
      2,
    );
  });

  it("tells a secret's name from a value", () => {
    assert.deepEqual(secretReference("global_secret{{deploy_key}}"), { scope: "global", key: "deploy_key" });
    assert.deepEqual(secretReference("pipeline_secret{{token}}"), { scope: "pipeline", key: "token" });
    assert.equal(secretReference("plain"), undefined);
    assert.equal(secretReference("run_object{{x}}"), undefined);
  });
});
