/** Positions in a Docker log stream whose stamps are not in stream order (see log-position.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { LogPosition, stampMs } from "../src/scheduler/docker/log-position.ts";

/** The engine's stamp `ms` after midnight, 2026-01-01 UTC, with all nine fraction digits (ms below an hour). */
function stamp(ms: number): string {
  const nanos = Math.round(ms * 1_000_000);
  const seconds = Math.floor(nanos / 1_000_000_000);
  const two = (n: number) => String(n).padStart(2, "0");
  const fraction = String(nanos % 1_000_000_000).padStart(9, "0");
  return `2026-01-01T00:${two(Math.floor(seconds / 60))}:${two(seconds % 60)}.${fraction}Z`;
}

test("the position names the smallest stamp of the last second and how many pieces it covers", () => {
  const position = new LogPosition();
  assert.equal(position.cursor(), undefined);
  assert.deepEqual(position.advance(stamp(0)), { timestamp: stamp(0), count: 1 });
  // A piece stamped before its predecessor: resuming at the newer stamp would skip it.
  position.advance(stamp(500));
  assert.deepEqual(position.advance(stamp(499)), { timestamp: stamp(0), count: 3 });
  // Pieces older than a second behind the newest leave the window.
  assert.deepEqual(position.advance(stamp(1400)), { timestamp: stamp(499), count: 3 });
  assert.deepEqual(position.advance(stamp(5000)), { timestamp: stamp(5000), count: 1 });
});

test("over many out-of-order pieces, through compaction, `since` at the position returns exactly the covered tail", () => {
  const position = new LogPosition();
  const stamps: string[] = [];
  let cursor = position.advance(stamp(0));
  stamps.push(stamp(0));
  for (let index = 1; index <= 20_001; index++) {
    // Every tenth piece is stamped before the one it follows.
    const text = stamp(index % 10 === 0 ? index * 0.5 - 0.7 : index * 0.5);
    stamps.push(text);
    cursor = position.advance(text);
  }
  // What the engine answers for since=timestamp, in stream order, must begin with exactly the `count` covered
  // pieces: the last `count` all qualify, and nothing before them does.
  const covered = stamps.slice(-cursor.count);
  const before = stamps.slice(0, -cursor.count);
  assert.ok(covered.every((text) => text >= cursor.timestamp));
  assert.ok(before.every((text) => text < cursor.timestamp));
  assert.ok(cursor.count > 1900 && cursor.count < 2100, `the window spans about a second: ${cursor.count}`);
});

test("stamps a few nanoseconds apart still order exactly", () => {
  const position = new LogPosition();
  position.advance("2026-01-01T00:00:01.000000002Z");
  const cursor = position.advance("2026-01-01T00:00:01.000000001Z");
  assert.deepEqual(cursor, { timestamp: "2026-01-01T00:00:01.000000001Z", count: 2 });
  assert.throws(() => stampMs("yesterday"), /unexpected log timestamp/);
});
