import assert from "node:assert/strict";
import { getEventListeners } from "node:events";
import { appendFile, mkdir, mkdtemp, open, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { setImmediate as nextTurn, setTimeout as sleep } from "node:timers/promises";
import { GoferError } from "../src/domain/errors.ts";
import type { TaskExecutionKey } from "../src/domain/task-execution-key.ts";
import { LogStore } from "../src/logs/log-store.ts";
import { identityLine, TaskLogWriter } from "../src/logs/log-writer.ts";

const key: TaskExecutionKey = { namespace_id: "default", pipeline_id: "simple", run_id: 3, task_id: "build" };

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gofer-logs-"));
  store = new LogStore(join(dir, "logs"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const out = (text: string | Buffer) => ({ stream: "stdout" as const, data: Buffer.from(text) });
const err = (text: string | Buffer) => ({ stream: "stderr" as const, data: Buffer.from(text) });

/** The lines of a read, without their "\n"; every block it yields must hold whole lines only. */
async function collect(blocks: AsyncIterable<Buffer>): Promise<Buffer[]> {
  const lines: Buffer[] = [];
  for await (const block of blocks) lines.push(...linesOf(block));
  return lines;
}

function linesOf(block: Buffer): Buffer[] {
  const lines: Buffer[] = [];
  let start = 0;
  for (let end = block.indexOf(0x0a); end !== -1; end = block.indexOf(0x0a, start)) {
    lines.push(block.subarray(start, end));
    start = end + 1;
  }
  assert.equal(start, block.length, "a block holds whole lines only");
  return lines;
}

const text = (lines: Buffer[]) => lines.map((line) => line.toString());

/** Fails instead of hanging when a follower never ends. */
async function within<T>(promise: Promise<T>, ms = 5000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Resolves once the follower has subscribed, i.e. has started and is reading or waiting. */
async function followerStarted(): Promise<void> {
  while (store.followerCount(key) === 0) await new Promise((resolve) => setImmediate(resolve));
}

/** Cuts `data` at pseudo-random points, so lines span chunks and chunks hold many lines. */
function cut(data: Buffer, maxSize: number): Buffer[] {
  const pieces: Buffer[] = [];
  let seed = 42;
  for (let start = 0; start < data.length; ) {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    const end = Math.min(data.length, start + 1 + (seed % maxSize));
    pieces.push(data.subarray(start, end));
    start = end;
  }
  return pieces;
}

test("interleaved stdout and stderr lines stay whole, in the order they complete", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("out one, "));
  await writer.write(err("err one\nerr two "));
  await writer.write(out("still out one\nout two\n"));
  await writer.write(err("still err two\n"));
  await writer.close();

  assert.equal(
    await readFile(store.pathFor(key), "utf8"),
    "err one\nout one, still out one\nout two\nerr two still err two\n",
  );
  assert.deepEqual(text(await collect(store.read(key, { follow: false }))), [
    "err one",
    "out one, still out one",
    "out two",
    "err two still err two",
  ]);
});

test("close stores unterminated last lines with a newline; a reopened writer appends", async () => {
  const first = await store.openWriter(key);
  await first.write(err("partial err"));
  await first.write(out("partial out"));
  await first.close();
  assert.equal(await readFile(store.pathFor(key), "utf8"), "partial out\npartial err\n");

  const second = await store.openWriter(key);
  await second.write(out("after restart"));
  await second.close();
  assert.deepEqual(text(await collect(store.read(key, { follow: false }))), [
    "partial out",
    "partial err",
    "after restart",
  ]);
});

test("writes are serialised in call order without awaiting each one", async () => {
  const writer = await store.openWriter(key);
  const writes = [];
  for (let i = 0; i < 100; i++) writes.push(writer.write(out(`line ${i}\n`)));
  await Promise.all([...writes, writer.close()]);
  const lines = text(await collect(store.read(key, { follow: false })));
  assert.deepEqual(
    lines,
    Array.from({ length: 100 }, (_, i) => `line ${i}`),
  );
});

test("a write after close is refused; close is idempotent", async () => {
  const writer = await store.openWriter(key);
  await writer.close();
  await writer.close();
  await assert.rejects(writer.write(out("late\n")), (error: unknown) => {
    assert.ok(error instanceof GoferError);
    assert.equal(error.code, "INTERNAL");
    return true;
  });
});

test("10,000 lines round-trip exactly", async () => {
  const expected = Array.from({ length: 10_000 }, (_, i) => `line ${i} ${"x".repeat(i % 97)}`);
  const writer = await store.openWriter(key);
  for (const piece of cut(Buffer.from(`${expected.join("\n")}\n`), 4096)) {
    await writer.write(out(piece));
  }
  await writer.close();
  assert.deepEqual(text(await collect(store.read(key, { follow: false }))), expected);
  assert.deepEqual(text(await collect(store.read(key, { follow: false, highWaterMark: 1000 }))), expected);
});

test("a 5 MiB line round-trips byte-exactly", async () => {
  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = 0x21 + (i % 90);
  const writer = await store.openWriter(key);
  await writer.write(out("before\n"));
  for (const piece of cut(big, 64 * 1024)) await writer.write(out(piece));
  await writer.write(out("\nafter\n"));
  await writer.close();

  const lines = await collect(store.read(key, { follow: false, highWaterMark: 16 * 1024 }));
  assert.equal(lines.length, 3);
  assert.equal(lines[0]?.toString(), "before");
  assert.ok(lines[1]?.equals(big), "the long line differs");
  assert.equal(lines[2]?.toString(), "after");
});

test("binary bytes, carriage returns and invalid UTF-8 round-trip", async () => {
  const lines = [
    Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0x0d]),
    Buffer.from("progress 10%\rprogress 100%\r"),
    Buffer.from([0xe2, 0x82]),
    Buffer.alloc(0),
    Buffer.from([0x82, 0xac, 0x1b, 0x5b, 0x33, 0x31, 0x6d]),
  ];
  const writer = await store.openWriter(key);
  // Split mid-way through a multi-byte sequence on purpose.
  const all = Buffer.concat(lines.flatMap((line) => [line, Buffer.from("\n")]));
  for (const piece of cut(all, 3)) await writer.write(err(piece));
  await writer.close();
  assert.deepEqual(await collect(store.read(key, { follow: false })), lines);
});

test("transformLine sees each complete line once, before it is stored", async () => {
  const seen: string[] = [];
  const writer = await store.openWriter(key, {
    transformLine: (line) => {
      seen.push(line.toString());
      return Buffer.from(line.toString().replaceAll("hunter2", "***"));
    },
  });
  await writer.write(out("password=hun"));
  await writer.write(out("ter2\nok"));
  await writer.close();
  assert.deepEqual(seen, ["password=hunter2", "ok"]);
  assert.equal(await readFile(store.pathFor(key), "utf8"), "password=***\nok\n");
});

test("a follower started before the writer opens gets every line and ends after finish", async () => {
  let finished = false;
  const following = collect(store.read(key, { follow: true, isFinished: () => finished }));
  await followerStarted();

  const writer = await store.openWriter(key);
  await writer.write(out("one\ntw"));
  await writer.write(err("three\n"));
  await writer.write(out("o\n"));
  await writer.write(out("four"));
  await writer.close();
  finished = true;
  store.finish(key);

  assert.deepEqual(text(await within(following)), ["one", "three", "two", "four"]);
  assert.equal(store.followerCount(key), 0);
});

test("a follower receives each line as soon as it is appended", async () => {
  let finished = false;
  const writer = await store.openWriter(key);
  const lines = store.read(key, { follow: true, isFinished: () => finished });
  for (const word of ["alpha", "beta", "gamma"]) {
    const next = lines.next();
    await writer.write(out(`${word}\n`));
    assert.equal((await within(next)).value?.toString(), `${word}\n`);
  }
  await writer.close();
  finished = true;
  store.finish(key);
  assert.equal((await within(lines.next())).done, true);
});

test("a follower started after finish reads everything and ends", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("a\nb\nc"));
  await writer.close();
  store.finish(key);
  const lines = await within(collect(store.read(key, { follow: true, isFinished: async () => true })));
  assert.deepEqual(text(lines), ["a", "b", "c"]);
});

test("a follower of a task that never started ends once it is finished", async () => {
  let finished = false;
  const following = collect(store.read(key, { follow: true, isFinished: () => finished }));
  await followerStarted();
  finished = true;
  store.finish(key);
  assert.deepEqual(await within(following), []);
  assert.equal(await store.exists(key), false);
});

test("finish race: isFinished is true at the first check, so the reader reads the file and ends", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("only\n"));
  await writer.close();
  // No finish() call at all: the reader must not wait for a notification that already happened.
  let checks = 0;
  const isFinished = () => {
    checks++;
    return true;
  };
  assert.deepEqual(text(await within(collect(store.read(key, { follow: true, isFinished })))), ["only"]);
  assert.equal(checks, 1);
});

test("a finished log with a writer still open is followed until the writer closes", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("first\nbuffered last line"));
  const following = collect(store.read(key, { follow: true, isFinished: () => true }));
  await followerStarted();
  await writer.close();
  assert.deepEqual(text(await within(following)), ["first", "buffered last line"]);
});

test("aborting stops a follower and leaves no listeners behind", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("one\n"));
  const controller = new AbortController();
  const lines = store.read(key, { follow: true, isFinished: () => false, signal: controller.signal });
  assert.equal((await lines.next()).value?.toString(), "one\n");
  const waiting = lines.next();
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  await assert.rejects(within(waiting), { name: "AbortError" });
  assert.equal(store.followerCount(key), 0);
  assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  await writer.close();
});

test("a reader that ends normally removes its abort listener", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("x\n"));
  await writer.close();
  const controller = new AbortController();
  await collect(store.read(key, { follow: true, isFinished: () => true, signal: controller.signal }));
  assert.equal(getEventListeners(controller.signal, "abort").length, 0);
  assert.equal(store.followerCount(key), 0);
});

test("reading streams the file rather than loading it whole", async () => {
  const path = store.pathFor(key);
  const writer = await store.openWriter(key);
  await writer.close();
  const line = "y".repeat(1023);
  await writeFile(path, `${line}\n`.repeat(1024));

  const lines = store.read(key, { follow: false, highWaterMark: 16 * 1024 });
  const first = (await lines.next()).value?.toString() ?? "";
  const firstLines = first.length / 1024;
  assert.ok(firstLines >= 1 && firstLines <= 16, "at most one high-water mark's worth of lines");
  assert.equal(first, `${line}\n`.repeat(firstLines));
  // Had the reader loaded the 1 MiB file when it started, it could not see a line appended afterwards.
  await appendFile(path, "appended after the first line was read\n");
  const rest = await collect(lines);
  assert.equal(rest.length, 1024 - firstLines + 1);
  assert.equal(rest.at(-1)?.toString(), "appended after the first line was read");
});

test("a missing log reads as empty", async () => {
  assert.deepEqual(await collect(store.read(key, { follow: false })), []);
});

test("remove deletes the file and is idempotent", async () => {
  const writer = await store.openWriter(key);
  await writer.write(out("x\n"));
  await writer.close();
  assert.equal(await store.exists(key), true);
  await store.remove(key);
  assert.equal(await store.exists(key), false);
  await store.remove(key);
  await store.remove({ ...key, task_id: "never-written" });
});

test("pathFor lays logs out by key and refuses ids that could escape the directory", () => {
  assert.equal(store.pathFor(key), join(dir, "logs", "default", "simple", "3", "build.log"));
  for (const bad of [
    { ...key, namespace_id: ".." },
    { ...key, pipeline_id: "a/b" },
    { ...key, task_id: "a\\b" },
    { ...key, task_id: "" },
    { ...key, task_id: "." },
    { ...key, run_id: -1 },
    { ...key, run_id: 1.5 },
  ]) {
    assert.throws(() => store.pathFor(bad), { code: "INVALID_IDENTIFIER" });
  }
});

/** A piece as a resumable backend hands it over: with the position right after it. */
const at = (count: number, chunk: { stream: "stdout" | "stderr"; data: Buffer }) => ({
  ...chunk,
  position: { timestamp: `2026-01-01T00:00:00.00000000${count}Z`, count },
});

test("a detached writer saves the point where the file holds whole output, and resuming cuts back to it", async () => {
  const first = await store.openWriter(key);
  await first.write(at(1, out("one\n")));
  await first.write(at(2, err("two\n")));
  // A partial line, and a whole line of the other stream after it: neither is safe to resume after yet.
  await first.write(at(3, out("three, begun ")));
  await first.write(at(4, err("four\n")));
  await first.detach();
  assert.equal(await readFile(store.pathFor(key), "utf8"), "one\ntwo\nfour\n");

  const second = await store.openWriter(key, { resume: true });
  assert.deepEqual(second.resumeAfter, at(2, out("")).position, "resumes after the last whole piece");
  assert.equal(await readFile(store.pathFor(key), "utf8"), "one\ntwo\n", "what follows the point is cut");
  // The backend sends everything after the point again; each line ends up stored once.
  await second.write(at(3, out("three, begun ")));
  await second.write(at(4, err("four\n")));
  await second.write(at(5, out("and ended\n")));
  await second.close();
  assert.equal(await readFile(store.pathFor(key), "utf8"), "one\ntwo\nfour\nthree, begun and ended\n");

  await store.dropResumePoint(key);
  const third = await store.openWriter(key, { resume: true });
  assert.equal(third.resumeAfter, undefined, "without a resume point capture starts over");
  assert.equal(await readFile(store.pathFor(key), "utf8"), "");
  await third.close();
});

test("a torn or foreign resume point means starting over, never a wrong cut", async () => {
  const writer = await store.openWriter(key);
  await writer.write(at(1, out("kept only if the point is trusted\n")));
  await writer.detach();
  await writeFile(`${store.pathFor(key)}.cursor`, '{"position":{"timestamp":"2026-01');
  const resumed = await store.openWriter(key, { resume: true });
  assert.equal(resumed.resumeAfter, undefined);
  assert.equal(await readFile(store.pathFor(key), "utf8"), "");
  await resumed.close();
});

test("a read yields a few large blocks of whole lines, an unterminated last line ended by a newline", async () => {
  const writer = await store.openWriter(key);
  const expected = Array.from({ length: 3000 }, (_, i) => `line ${i}`);
  for (const piece of cut(Buffer.from(`${expected.join("\n")}\n`), 900)) await writer.write(out(piece));
  await writer.write(err("error line\n"));
  await writer.close();
  // As a crash in the middle of an append leaves it.
  await appendFile(store.pathFor(key), "unterminated");
  const blocks: Buffer[] = [];
  for await (const block of store.read(key, { follow: false, highWaterMark: 4096 })) blocks.push(block);
  assert.ok(blocks.length < 20, `${blocks.length} blocks for 3002 lines`);
  assert.equal(
    Buffer.concat(blocks).toString(),
    `${[...expected, "error line", "unterminated"].join("\n")}\n`,
  );
});

test("an append that fails is reported by the next write or by close, and nothing is appended after it", async () => {
  // /dev/full takes the file open and refuses every write with ENOSPC, as a full disk does.
  await mkdir(dirname(store.pathFor(key)), { recursive: true });
  await symlink("/dev/full", store.pathFor(key));
  const writer = await store.openWriter(key);
  await writer.write(out("queued, then refused\n"));
  await within(
    (async () => {
      while (
        !(await writer.write(out("more\n")).then(
          () => false,
          () => true,
        ))
      )
        await nextTurn();
    })(),
  );
  await assert.rejects(writer.close(), /ENOSPC/);
});

test("a writer fed faster than the disk holds at most a few MiB queued", async () => {
  const writer = await store.openWriter(key);
  const piece = Buffer.alloc(256 * 1024, "y");
  piece[piece.length - 1] = 0x0a;
  let waited = 0;
  for (let i = 0; i < 200; i++) {
    const written = writer.write(out(piece));
    let settled = false;
    void written.then(() => {
      settled = true;
    });
    await Promise.resolve();
    if (!settled) waited++;
    await written;
  }
  await writer.close();
  assert.ok(waited > 0, "the writer made its caller wait at least once");
  assert.equal((await stat(store.pathFor(key))).size, 200 * piece.length);
});

test("the bound on queued output holds while the resume point is being saved", async () => {
  // A save that takes a while (a slow disk, a busy machine): nothing is appended meanwhile, so a caller that
  // keeps writing must be made to wait rather than queue the rest of the output in memory.
  await mkdir(dirname(store.pathFor(key)), { recursive: true });
  const path = store.pathFor(key);
  let appended = 0;
  const writer = new TaskLogWriter(await open(path, "a"), {
    transformLine: identityLine,
    onAppend: (bytes) => {
      appended += bytes;
    },
    onClose: () => undefined,
    saveCommit: () => sleep(100),
  });
  const piece = Buffer.alloc(256 * 1024, "y");
  piece[piece.length - 1] = 0x0a;
  const pieces = 256;
  let accepted = 0;
  let mostQueued = 0;
  for (let i = 0; i < pieces; i++) {
    await writer.write(out(piece));
    accepted += piece.length;
    mostQueued = Math.max(mostQueued, accepted - appended);
  }
  await writer.close();
  assert.equal((await stat(path)).size, pieces * piece.length);
  assert.ok(mostQueued <= 16 * 1024 * 1024, `${mostQueued} bytes were accepted but not yet stored at once`);
});
