import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { conclusionOf, formatDuration } from "../src/check-reporter.ts";
import { decodePendingCheck, encodePendingCheck, pendingCheckKey } from "../src/pending-checks.ts";

describe("check run conclusions", () => {
  it("follow the run's status, neutral when it is unknown or the run is gone", () => {
    assert.equal(conclusionOf({ kind: "complete", status: "successful" }), "success");
    assert.equal(conclusionOf({ kind: "complete", status: "failed" }), "failure");
    assert.equal(conclusionOf({ kind: "complete", status: "cancelled" }), "cancelled");
    assert.equal(conclusionOf({ kind: "complete", status: "unknown" }), "neutral");
    assert.equal(conclusionOf({ kind: "gone" }), "neutral");
  });

  it("come with the run's duration in words", () => {
    assert.equal(formatDuration(450), "450 ms");
    assert.equal(formatDuration(12_400), "12 s");
    assert.equal(formatDuration(65_000), "1 min 5 s");
    assert.equal(formatDuration(2 * 3_600_000 + 5 * 60_000), "2 h 5 min");
  });
});

describe("pending check runs", () => {
  const check = {
    namespaceId: "default",
    pipelineId: "app-ci",
    runId: 7,
    subscriptionId: "pr-check",
    repository: { owner: "octo-org", repo: "app" },
    headSha: "a".repeat(40),
    checkRunId: 4711,
  };

  it("are stored under one key per run and read back as written", () => {
    assert.equal(pendingCheckKey(check), "check-run.default.app-ci.7");
    assert.deepEqual(decodePendingCheck(encodePendingCheck(check)), check);
  });

  it("are skipped when unreadable", () => {
    const text = (value: string) => new TextEncoder().encode(value);
    assert.equal(decodePendingCheck(text("not json")), undefined);
    assert.equal(decodePendingCheck(text("null")), undefined);
    const { check_run_id: _, ...partial } = JSON.parse(new TextDecoder().decode(encodePendingCheck(check)));
    assert.equal(decodePendingCheck(text(JSON.stringify(partial))), undefined);
    const fractional = { ...JSON.parse(new TextDecoder().decode(encodePendingCheck(check))), run_id: 1.5 };
    assert.equal(decodePendingCheck(text(JSON.stringify(fractional))), undefined);
  });
});
