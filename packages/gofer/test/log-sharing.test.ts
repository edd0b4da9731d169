/**
 * Many readers of one log share what they read: the newest appends kept in memory for followers at the end of
 * a live log, and whole blocks of the file for readers behind it. Sharing must never change what a reader gets:
 * every byte once, in order, also across a writer that cuts the file back to its resume point.
 */
import assert from "node:assert/strict";
import type { FileHandle } from "node:fs/promises";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import type { TaskExecutionKey } from "../src/domain/task-execution-key.ts";
import { saveCursor } from "../src/logs/log-cursor.ts";
import { LogStore } from "../src/logs/log-store.ts";
import { RecentAppends } from "../src/logs/recent-appends.ts";
import { BLOCK_BYTES, SharedBlocks } from "../src/logs/shared-blocks.ts";

const key: TaskExecutionKey = { namespace_id: "default", pipeline_id: "shared", run_id: 1, task_id: "print" };

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gofer-log-sharing-"));
  store = new LogStore(join(dir, "logs"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const out = (data: Buffer) => ({ stream: "stdout" as const, data });

/** Numbered lines of 100 bytes, `tag` telling two writers' apart. */
function numbered(from: number, count: number, tag: string): Buffer {
  return Buffer.from(
    Array.from(
      { length: count },
      (_, index) => `${String(from + index).padStart(8, "0")} ${tag.repeat(90)}\n`,
    ).join(""),
  );
}

/** Reads the log to its end, a turn of the event loop after each block as a client's socket would take. */
async function readSlowly(
  blocks: AsyncIterable<Buffer>,
): Promise<{ data: Buffer; memory: Set<ArrayBufferLike> }> {
  const parts: Buffer[] = [];
  const memory = new Set<ArrayBufferLike>();
  for await (const block of blocks) {
    parts.push(Buffer.from(block));
    memory.add(block.buffer);
    await new Promise((resolve) => setImmediate(resolve));
  }
  return { data: Buffer.concat(parts), memory };
}

const shareMemory = (a: Set<ArrayBufferLike>, b: Set<ArrayBufferLike>) =>
  [...a].some((buffer) => b.has(buffer));

test("RecentAppends hands out what follows a position within the kept pieces, oldest dropped past capacity", () => {
  const recent = new RecentAppends(10);
  recent.add(100, [Buffer.from("abc\n")]);
  recent.add(104, [Buffer.from("de"), Buffer.from("f\n")]);
  assert.deepEqual(recent.from(101)?.map(String), ["bc\n", "def\n"]);
  assert.deepEqual(recent.from(104)?.map(String), ["def\n"]);
  assert.equal(recent.from(99), undefined, "before the kept pieces");
  assert.equal(recent.from(108), undefined, "at their end: nothing more to hand out");
  recent.add(108, [Buffer.from("ghijk\n")]);
  assert.equal(recent.from(100), undefined, "the oldest piece went past capacity");
  assert.deepEqual(recent.from(104)?.map(String), ["def\n", "ghijk\n"]);
  recent.add(200, [Buffer.from("far\n")]);
  assert.equal(recent.from(108), undefined, "a piece not where the last ended starts over");
  assert.deepEqual(recent.from(200)?.map(String), ["far\n"]);
  recent.add(204, [Buffer.from("much longer than the capacity\n")]);
  assert.deepEqual(
    recent.from(204)?.map(String),
    ["much longer than the capacity\n"],
    "the newest piece stays",
  );
});

/** A file handle that reads from `content` and counts its reads. */
function fakeHandle(content: Buffer): { handle: FileHandle; reads: () => number } {
  let reads = 0;
  const handle = {
    read: async (buffer: Buffer, offset: number, length: number, position: number) => {
      reads++;
      await new Promise((resolve) => setImmediate(resolve));
      const bytesRead = content.copy(buffer, offset, position, Math.min(content.length, position + length));
      return { bytesRead, buffer };
    },
  } as unknown as FileHandle;
  return { handle, reads: () => reads };
}

test("SharedBlocks reads a whole block once for the readers of a file, and keeps no partial one", async () => {
  const blocks = new SharedBlocks(4 * BLOCK_BYTES);
  const content = Buffer.alloc(2 * BLOCK_BYTES + 10, "x");
  const { handle, reads } = fakeHandle(content);
  const leaveA = blocks.open("file");
  const leaveB = blocks.open("file");
  assert.equal(blocks.shared("file"), true);
  const [first, second] = await Promise.all([
    blocks.block("file", 0, handle),
    blocks.block("file", 0, handle),
  ]);
  assert.ok(first && first === second, "readers arriving together share one read");
  assert.equal(await blocks.block("file", 0, handle), first, "a kept block is not read again");
  assert.equal(reads(), 1);
  assert.equal(await blocks.block("file", 2, handle), undefined, "the file ends inside block 2");
  assert.equal(blocks.size, BLOCK_BYTES);
  leaveA();
  leaveA();
  assert.equal(blocks.shared("file"), false, "leaving twice counts once");
  leaveB();
  assert.equal(blocks.size, 0, "the blocks go with the last reader");
});

test("SharedBlocks keeps no block read while the file was being cut back, and stays within capacity", async () => {
  const blocks = new SharedBlocks(2 * BLOCK_BYTES);
  const { handle } = fakeHandle(Buffer.alloc(4 * BLOCK_BYTES, "y"));
  blocks.open("file");
  blocks.open("file");
  const reading = blocks.block("file", 0, handle);
  blocks.forget("file");
  assert.ok(await reading, "the reader under way still gets its bytes");
  assert.equal(blocks.size, 0, "but they are not kept");
  for (let index = 0; index < 4; index++) await blocks.block("file", index, handle);
  assert.equal(blocks.size, 2 * BLOCK_BYTES);
});

test("followers at the end of a live log get every byte, sharing the appends in memory", async () => {
  let finished = false;
  const followers = Array.from({ length: 4 }, () =>
    readSlowly(store.read(key, { follow: true, isFinished: () => finished })),
  );
  while (store.followerCount(key) < 4) await new Promise((resolve) => setImmediate(resolve));
  const writer = await store.openWriter(key);
  const written: Buffer[] = [];
  // Less than a block in all: whatever the followers share comes from the appends kept in memory.
  for (let batch = 0; batch < 200; batch++) {
    const lines = numbered(batch * 10, 10, "a");
    written.push(lines);
    await writer.write(out(lines));
    await new Promise((resolve) => setImmediate(resolve));
  }
  await writer.close();
  finished = true;
  store.finish(key);
  const received = await Promise.all(followers);
  for (const { data } of received)
    assert.ok(data.equals(Buffer.concat(written)), "every byte once, in order");
  assert.ok(
    shareMemory(
      (received[0] as { memory: Set<ArrayBufferLike> }).memory,
      (received[1] as { memory: Set<ArrayBufferLike> }).memory,
    ),
    "two followers were handed the same memory",
  );
});

test("readers of a log far longer than a block share its blocks and get every byte", async () => {
  const writer = await store.openWriter(key);
  const content = numbered(0, (6 * BLOCK_BYTES) / 100 + 7, "b");
  await writer.write(out(content));
  await writer.close();
  store.finish(key);
  const received = await Promise.all(
    Array.from({ length: 3 }, () => readSlowly(store.read(key, { follow: true, isFinished: () => true }))),
  );
  for (const { data } of received) assert.ok(data.equals(content));
  assert.ok(
    shareMemory(
      (received[0] as { memory: Set<ArrayBufferLike> }).memory,
      (received[2] as { memory: Set<ArrayBufferLike> }).memory,
    ),
  );
});

test("a writer cutting a log back to its resume point leaves no stale shared block behind", async () => {
  const first = await store.openWriter(key);
  await first.write(out(numbered(0, (4 * BLOCK_BYTES) / 100, "c")));
  await first.close();
  // Two followers read the whole log and stay open, so its blocks are kept.
  let finished = false;
  const stale = Array.from({ length: 2 }, () =>
    readSlowly(store.read(key, { follow: true, isFinished: () => finished })),
  );
  const reader = readSlowly(store.read(key, { follow: false }));
  await reader;

  const resumeAt = BLOCK_BYTES / 2 + 100 * 7;
  await saveCursor(store.pathFor(key), { position: undefined, size: resumeAt });
  const second = await store.openWriter(key, { resume: true });
  const rewritten = numbered(0, (3 * BLOCK_BYTES) / 100, "d");
  await second.write(out(rewritten));
  await second.close();

  const { data } = await readSlowly(store.read(key, { follow: false }));
  const expected = Buffer.concat([
    numbered(0, (4 * BLOCK_BYTES) / 100, "c").subarray(0, resumeAt),
    rewritten,
  ]);
  assert.ok(data.equals(expected), "what the file holds now, not the blocks read before the cut");
  finished = true;
  store.finish(key);
  await Promise.all(stale);
});
