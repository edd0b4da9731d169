/** The pure rules of timeouts and retries (domain/attempts.ts). */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { nextAttemptAt, retryCauseOf, taskTimeoutMs } from "../src/domain/attempts.ts";

const policy = { limit: 6, delay: "1s", factor: 1.5, max_delay: "5m", on: ["failure" as const] };

describe("attempts", () => {
  it("spaces attempts by delay × factor^(n−1), in whole milliseconds, capped at max_delay", () => {
    const gaps = [1, 2, 3, 4, 5].map(
      (attempt) => (nextAttemptAt(policy, attempt, "failure", 1_000) ?? 0) - 1_000,
    );
    assert.deepEqual(gaps, [1000, 1500, 2250, 3375, 5063]);
    for (const gap of gaps) assert.ok(Number.isInteger(gap), `${gap} is stored in an integer column`);
    assert.equal(nextAttemptAt({ ...policy, max_delay: "2s" }, 5, "failure", 0), 2000);
  });

  it("retries only listed causes, and only while attempts remain", () => {
    assert.equal(nextAttemptAt(policy, 1, "timeout", 0), undefined);
    assert.equal(nextAttemptAt(policy, 7, "failure", 0), undefined);
    assert.equal(nextAttemptAt(undefined, 1, "failure", 0), undefined);
    assert.equal(retryCauseOf("failed", { reason: "abnormal_exit", description: "" }), "failure");
    assert.equal(retryCauseOf("cancelled", { reason: "cancelled", description: "" }), undefined);
    assert.equal(retryCauseOf("failed", { reason: "failed_precondition", description: "" }), undefined);
  });

  it("holds a task's timeout to the server's maximum and fills in the default", () => {
    assert.equal(taskTimeoutMs("10m", { defaultMs: 0, maxMs: 0 }), 600_000);
    assert.equal(taskTimeoutMs(undefined, { defaultMs: 5_000, maxMs: 0 }), 5_000);
    assert.equal(taskTimeoutMs("1h", { defaultMs: 0, maxMs: 2_000 }), 2_000);
    assert.equal(taskTimeoutMs(undefined, { defaultMs: 0, maxMs: 2_000 }), 2_000);
    assert.equal(taskTimeoutMs(undefined, { defaultMs: 0, maxMs: 0 }), 0);
  });
});
