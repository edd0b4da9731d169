/** Positions in a Docker log stream whose stamps are not in stream order (see log-position.ts). */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type EngineLogCursor, LogPosition, stampMs } from "../src/scheduler/docker/log-position.ts";
import { NOTHING_TO_SKIP, positioned, type TimestampedFrame } from "../src/scheduler/docker/log-resume.ts";
import type { LogChunk } from "../src/scheduler/scheduler.ts";

/** The engine's stamp `ms` after midnight, 2026-01-01 UTC, with all nine fraction digits (ms below an hour). */
function stamp(ms: number): string {
  const nanos = Math.round(ms * 1_000_000);
  const seconds = Math.floor(nanos / 1_000_000_000);
  const two = (n: number) => String(n).padStart(2, "0");
  const fraction = String(nanos % 1_000_000_000).padStart(9, "0");
  return `2026-01-01T00:${two(Math.floor(seconds / 60))}:${two(seconds % 60)}.${fraction}Z`;
}

interface Piece {
  timestamp: string;
  stream: LogChunk["stream"];
  text: string;
}

/** What the engine answers for a read from `cursor`: every piece stamped at or after its timestamp, in order. */
function engineRead(log: Piece[], timestamp: string | undefined): TimestampedFrame[] {
  return log
    .filter((piece) => timestamp === undefined || piece.timestamp >= timestamp)
    .map((piece) => ({
      timestamp: piece.timestamp,
      chunk: { stream: piece.stream, data: Buffer.from(piece.text) },
    }));
}

async function collect(frames: TimestampedFrame[], cursor: EngineLogCursor | undefined): Promise<string> {
  const skip = cursor ? { stdout: cursor.stdout, stderr: cursor.stderr } : NOTHING_TO_SKIP;
  let text = "";
  async function* source() {
    yield* frames;
  }
  for await (const chunk of positioned(source(), skip, new LogPosition(cursor?.timestamp)))
    text += chunk.data.toString();
  return text;
}

/** A chatty two-stream log: every seventh piece is stamped a little before the piece ahead of it. */
function skewedLog(pieces: number, stepMs: number): Piece[] {
  return Array.from({ length: pieces }, (_, index) => ({
    timestamp: stamp(index % 7 === 3 ? index * stepMs - stepMs * 0.6 : index * stepMs),
    stream: index % 3 === 0 ? "stderr" : "stdout",
    text: `piece ${index} ${"x".repeat(index % 5)}|`,
  }));
}

test("resuming from the position after any piece yields exactly the rest, once", async () => {
  const log = skewedLog(2000, 2);
  const whole = log.map((piece) => piece.text).join("");
  const position = new LogPosition();
  let delivered = "";
  for (const [index, piece] of log.entries()) {
    const cursor = position.advance(piece.timestamp, piece.stream, piece.text.length);
    delivered += piece.text;
    if (index % 53 !== 0 && index !== log.length - 1) continue;
    const rest = await collect(engineRead(log, cursor.timestamp), cursor);
    assert.equal(delivered + rest, whole, `resuming after piece ${index}`);
  }
});

test("the position settles on a stamp a second old and skips only what came since", () => {
  const position = new LogPosition();
  assert.equal(position.cursor(), undefined);
  // Until a stamp is a second old, the position counts from the start of the read.
  assert.deepEqual(position.advance(stamp(0), "stdout", 5), { stdout: 5, stderr: 0 });
  assert.deepEqual(position.advance(stamp(500), "stderr", 3), { stdout: 5, stderr: 3 });
  // A piece stamped before its predecessor is still counted from the start.
  assert.deepEqual(position.advance(stamp(499), "stdout", 2), { stdout: 7, stderr: 3 });
  // A second after the first piece, it becomes the anchor: the position covers the pieces stamped since.
  assert.deepEqual(position.advance(stamp(1000), "stdout", 4), {
    timestamp: stamp(0),
    stdout: 11,
    stderr: 3,
  });
  assert.deepEqual(position.advance(stamp(2100), "stdout", 1), {
    timestamp: stamp(1000),
    stdout: 5,
    stderr: 0,
  });
});

test("a read that began at a position counts from there until an anchor settles", () => {
  const position = new LogPosition(stamp(10));
  assert.deepEqual(position.advance(stamp(10.5), "stdout", 9), {
    timestamp: stamp(10),
    stdout: 9,
    stderr: 0,
  });
});

test("a million pieces inside one skew window cost constant memory and an exact position", async () => {
  const position = new LogPosition();
  const before = process.memoryUsage().heapUsed;
  let cursor: EngineLogCursor | undefined;
  // 1,000,000 pieces in 900 ms, every tenth stamped a microsecond before the one ahead of it.
  for (let index = 0; index < 1_000_000; index++) {
    const ms = index * 0.0009 - (index % 10 === 9 ? 0.001 : 0);
    cursor = position.advance(stamp(Math.max(ms, 0)), index % 2 === 0 ? "stdout" : "stderr", 70);
  }
  const grown = process.memoryUsage().heapUsed - before;
  assert.deepEqual(cursor, { stdout: 35_000_000, stderr: 35_000_000 });
  assert.ok(grown < 32 * 1024 * 1024, `the tracker kept ${Math.round(grown / 1024 / 1024)} MiB`);
  // And the pieces after them resume exactly.
  const next = position.advance(stamp(1500), "stdout", 3);
  assert.equal(next.timestamp, stamp(0));
  assert.equal(next.stdout, 35_000_003);
});

test("stamps a few nanoseconds apart still order exactly", () => {
  const position = new LogPosition();
  position.advance("2026-01-01T00:00:01.000000002Z", "stdout", 1);
  position.advance("2026-01-01T00:00:01.000000001Z", "stdout", 1);
  const cursor = position.advance("2026-01-01T00:00:02.000000002Z", "stdout", 1);
  assert.deepEqual(cursor, { timestamp: "2026-01-01T00:00:01.000000002Z", stdout: 2, stderr: 0 });
  assert.throws(() => stampMs("yesterday"), /unexpected log timestamp/);
});
