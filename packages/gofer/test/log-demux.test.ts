import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { demuxLogStream, LogDemuxer, splitTimestamp } from "../src/scheduler/docker/log-demux.ts";
import type { LogChunk } from "../src/scheduler/scheduler.ts";

function frame(stream: number, payload: string | Buffer): Buffer {
  const data = typeof payload === "string" ? Buffer.from(payload) : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(data.length, 4);
  return Buffer.concat([header, data]);
}

/** Cuts `bytes` into consecutive pieces of the given sizes, the last piece taking the rest. */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (const size of sizes) {
    pieces.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  pieces.push(bytes.subarray(offset));
  return pieces;
}

function demuxAll(pieces: Buffer[]): Array<{ stream: LogChunk["stream"]; text: string }> {
  const demuxer = new LogDemuxer();
  const chunks = pieces.flatMap((piece) => demuxer.push(piece));
  assert.equal(demuxer.midFrame, false);
  return chunks.map((chunk) => ({ stream: chunk.stream, text: chunk.data.toString() }));
}

async function* source(pieces: Buffer[]): AsyncGenerator<Buffer> {
  yield* pieces;
}

describe("LogDemuxer", () => {
  test("a whole frame in one chunk", () => {
    assert.deepEqual(demuxAll([frame(1, "hello\n")]), [{ stream: "stdout", text: "hello\n" }]);
  });

  test("a header split at every possible offset", () => {
    const bytes = Buffer.concat([frame(2, "oops\n"), frame(1, "fine\n")]);
    for (let at = 1; at < 8; at++) {
      assert.deepEqual(demuxAll(cut(bytes, [at])), [
        { stream: "stderr", text: "oops\n" },
        { stream: "stdout", text: "fine\n" },
      ]);
    }
  });

  test("every byte in its own chunk", () => {
    const bytes = Buffer.concat([frame(1, "abc"), frame(2, "de"), frame(1, "f\n")]);
    const pieces = [...bytes].map((byte) => Buffer.from([byte]));
    assert.deepEqual(demuxAll(pieces), [
      { stream: "stdout", text: "abc" },
      { stream: "stderr", text: "de" },
      { stream: "stdout", text: "f\n" },
    ]);
  });

  test("a payload split across chunks, with the next header in the same chunk as its end", () => {
    const bytes = Buffer.concat([frame(1, "0123456789"), frame(2, "xyz")]);
    assert.deepEqual(demuxAll(cut(bytes, [10, 3, 9])), [
      { stream: "stdout", text: "0123456789" },
      { stream: "stderr", text: "xyz" },
    ]);
  });

  test("interleaved streams keep their order", () => {
    const frames = Array.from({ length: 100 }, (_, i) => frame(i % 3 === 0 ? 2 : 1, `line ${i}\n`));
    const chunks = demuxAll(cut(Buffer.concat(frames), [5, 17, 31, 64, 3]));
    assert.equal(chunks.length, 100);
    chunks.forEach((chunk, i) => {
      assert.deepEqual(chunk, { stream: i % 3 === 0 ? "stderr" : "stdout", text: `line ${i}\n` });
    });
  });

  test("zero-length frames produce nothing and keep alignment", () => {
    const bytes = Buffer.concat([frame(1, ""), frame(2, "a"), frame(2, ""), frame(1, ""), frame(1, "b")]);
    assert.deepEqual(demuxAll([bytes]), [
      { stream: "stderr", text: "a" },
      { stream: "stdout", text: "b" },
    ]);
    assert.deepEqual(demuxAll(cut(bytes, [4, 4, 4, 9, 7])), [
      { stream: "stderr", text: "a" },
      { stream: "stdout", text: "b" },
    ]);
  });

  test("a multi-megabyte frame arriving in network-sized chunks", () => {
    const payload = Buffer.alloc(5 * 1024 * 1024 + 3);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + 7) & 0xff;
    const bytes = Buffer.concat([frame(1, payload), frame(2, "after")]);
    const pieces: Buffer[] = [];
    for (let offset = 0; offset < bytes.length; offset += 65_536) {
      pieces.push(bytes.subarray(offset, offset + 65_536));
    }
    const demuxer = new LogDemuxer();
    const chunks = pieces.flatMap((piece) => demuxer.push(piece));
    assert.equal(chunks.length, 2);
    assert.equal(chunks[0]?.stream, "stdout");
    assert.ok(chunks[0]?.data.equals(payload));
    assert.equal(chunks[1]?.data.toString(), "after");
  });

  test("midFrame reports a partial header or payload", () => {
    const demuxer = new LogDemuxer();
    const bytes = frame(1, "abc");
    demuxer.push(bytes.subarray(0, 3));
    assert.equal(demuxer.midFrame, true);
    demuxer.push(bytes.subarray(3, 9));
    assert.equal(demuxer.midFrame, true);
    assert.equal(demuxer.push(bytes.subarray(9)).length, 1);
    assert.equal(demuxer.midFrame, false);
  });

  test("an unknown stream type is rejected as corruption", () => {
    assert.throws(() => new LogDemuxer().push(frame(7, "x")), /unknown stream type 7/);
  });

  test("an engine error frame is raised with its message", () => {
    assert.throws(() => new LogDemuxer().push(frame(3, "log driver broke")), /log driver broke/);
  });
});

describe("demuxLogStream", () => {
  test("yields every frame of the source in order", async () => {
    const bytes = Buffer.concat([frame(1, "a\n"), frame(2, "b\n"), frame(1, "c")]);
    const chunks: string[] = [];
    for await (const chunk of demuxLogStream(source(cut(bytes, [3, 11])))) {
      chunks.push(`${chunk.stream}:${chunk.data}`);
    }
    assert.deepEqual(chunks, ["stdout:a\n", "stderr:b\n", "stdout:c"]);
  });

  test("fails when the source ends inside a frame", async () => {
    const truncated = frame(1, "abcdef").subarray(0, 10);
    await assert.rejects(async () => {
      for await (const _ of demuxLogStream(source([truncated]))) {
        // Draining is the point.
      }
    }, /ended inside a frame/);
  });
});

describe("splitTimestamp", () => {
  test("separates the engine's timestamp from the output, spaces in the output included", () => {
    const { timestamp, chunk } = splitTimestamp({
      stream: "stderr",
      data: Buffer.from("2024-01-02T03:04:05.123456789Z two  spaces\n"),
    });
    assert.equal(timestamp, "2024-01-02T03:04:05.123456789Z");
    assert.deepEqual(chunk, { stream: "stderr", data: Buffer.from("two  spaces\n") });
  });

  test("a frame without a timestamp is corruption", () => {
    assert.throws(
      () => splitTimestamp({ stream: "stdout", data: Buffer.from(" no timestamp") }),
      /timestamp/,
    );
  });
});
