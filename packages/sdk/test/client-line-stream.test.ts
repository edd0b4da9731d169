import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { splitLines } from "../src/client/line-stream.ts";

async function* chunksOf(...chunks: (string | Uint8Array)[]): AsyncGenerator<Uint8Array> {
  const encoder = new TextEncoder();
  for (const chunk of chunks) yield typeof chunk === "string" ? encoder.encode(chunk) : chunk;
}

async function collect(lines: AsyncIterable<string>): Promise<string[]> {
  const all: string[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

describe("splitLines", () => {
  test("splits on newlines across chunk boundaries", async () => {
    assert.deepEqual(await collect(splitLines(chunksOf("one\ntw", "o\nthr", "ee", "\n"))), [
      "one",
      "two",
      "three",
    ]);
  });

  test("yields a last line that has no newline", async () => {
    assert.deepEqual(await collect(splitLines(chunksOf("first\n", "last without newline"))), [
      "first",
      "last without newline",
    ]);
  });

  test("keeps empty lines but adds none for a trailing newline", async () => {
    assert.deepEqual(await collect(splitLines(chunksOf("a\n\nb\n"))), ["a", "", "b"]);
    assert.deepEqual(await collect(splitLines(chunksOf("\n"))), [""]);
    assert.deepEqual(await collect(splitLines(chunksOf())), []);
    assert.deepEqual(await collect(splitLines(chunksOf("", ""))), []);
  });

  test("keeps carriage returns, which are part of the output", async () => {
    assert.deepEqual(await collect(splitLines(chunksOf("progress 1\rprogress 2\r\ndone\n"))), [
      "progress 1\rprogress 2\r",
      "done",
    ]);
  });

  test("reassembles multi-byte UTF-8 characters split at every possible byte", async () => {
    const text = "héllo wörld\n€uro ✓\n𝄞 clef\nend";
    const bytes = new TextEncoder().encode(text);
    const expected = text.split("\n");
    for (let cut = 1; cut < bytes.length; cut += 1) {
      const lines = await collect(splitLines(chunksOf(bytes.slice(0, cut), bytes.slice(cut))));
      assert.deepEqual(lines, expected, `cut at byte ${cut}`);
    }
    const oneByteAtATime = [...bytes].map((byte) => Uint8Array.of(byte));
    assert.deepEqual(await collect(splitLines(chunksOf(...oneByteAtATime))), expected);
  });

  test("a long line in many chunks arrives whole", async () => {
    const pieces = Array.from({ length: 1000 }, (_, index) => `${index},`);
    assert.deepEqual(await collect(splitLines(chunksOf(...pieces, "\nnext"))), [pieces.join(""), "next"]);
  });

  test("stops reading its source when the consumer stops", async () => {
    let pulled = 0;
    let closed = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        for (;;) {
          pulled += 1;
          yield new TextEncoder().encode(`line ${pulled}\n`);
        }
      } finally {
        closed = true;
      }
    }
    for await (const line of splitLines(endless())) {
      if (line === "line 3") break;
    }
    assert.equal(pulled, 3);
    assert.ok(closed);
  });
});
