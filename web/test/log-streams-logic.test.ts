/** A task log's streams and times in the UI, in Node: reading line objects, the clock shown, the remembered toggle. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseLineObjects } from "../src/logs/line-objects-stream.ts";
import {
  clockTime,
  hasStderr,
  rememberTimestamps,
  timestampsRemembered,
} from "../src/logs/log-line-marks.ts";

describe("line objects from a streamed body", () => {
  it("parses each line as one object, a newline inside a line included, and skips blank ones", () => {
    assert.deepEqual(
      parseLineObjects(['{"line":"a","stream":"stdout","time":1}', '{"line":"b\\nstill b"}', ""]),
      [{ line: "a", stream: "stdout", time: 1 }, { line: "b\nstill b" }],
    );
  });
});

describe("marks and times beside a log line", () => {
  it("shows the local clock to the millisecond", () => {
    const at = new Date(2026, 11, 7, 9, 5, 3, 45).getTime();
    assert.equal(clockTime(at), "09:05:03.045");
  });

  it("explains the stderr mark only when a line has it", () => {
    assert.equal(hasStderr(["stdout", undefined, "stdout"]), false);
    assert.equal(hasStderr(["stdout", "stderr"]), true);
  });

  it("remembers the timestamps choice in the tab's storage, off until chosen", () => {
    const kept = new Map<string, string>();
    const storage = {
      getItem: (key: string) => kept.get(key) ?? null,
      setItem: (key: string, value: string) => void kept.set(key, value),
    };
    assert.equal(timestampsRemembered(storage), false);
    rememberTimestamps(true, storage);
    assert.equal(timestampsRemembered(storage), true);
    rememberTimestamps(false, storage);
    assert.equal(timestampsRemembered(storage), false);
    assert.equal(timestampsRemembered(undefined), false, "no storage: off");
  });
});
