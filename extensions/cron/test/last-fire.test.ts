import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { objectKeyProblem } from "../../../packages/gofer/src/domain/object-keys.ts";
import { decodeLastFire, encodeLastFire, lastFireKey } from "../src/last-fire.ts";

describe("last fire record", () => {
  it("derives one valid object key per subscription", () => {
    const key = lastFireKey({
      namespaceId: "default",
      pipelineId: "nightly-build",
      subscriptionId: "at-three",
    });
    assert.equal(key, "last-fire:default:nightly-build:at-three");
    assert.equal(objectKeyProblem(key), undefined);
  });

  it("keeps keys valid and distinct whatever the ids hold", () => {
    const odd = lastFireKey({ namespaceId: "a:b", pipelineId: "c/d", subscriptionId: "e\\f" });
    const other = lastFireKey({ namespaceId: "a", pipelineId: "b:c/d", subscriptionId: "e\\f" });
    assert.equal(objectKeyProblem(odd), undefined);
    assert.notEqual(odd, other);
    const longest = lastFireKey({
      namespaceId: "n".repeat(32),
      pipelineId: "p".repeat(32),
      subscriptionId: "s".repeat(32),
    });
    assert.equal(objectKeyProblem(longest), undefined);
  });

  it("round-trips through bytes", () => {
    const record = { lastFire: new Date("2025-01-01T11:00:00Z"), expression: "0 * * * *", timezone: "UTC" };
    assert.deepEqual(decodeLastFire(encodeLastFire(record)), record);
  });

  it("ignores objects that hold no record", () => {
    const bytes = (text: string) => new TextEncoder().encode(text);
    for (const text of [
      "",
      "not json",
      "null",
      "[]",
      '{"last_fire":"yesterday","expression":"","timezone":"UTC"}',
      '{"last_fire":"2025-01-01T00:00:00Z"}',
    ]) {
      assert.equal(decodeLastFire(bytes(text)), undefined, text);
    }
  });
});
