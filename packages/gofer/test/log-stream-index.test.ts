/**
 * The stream index beside a task log (stream-index.ts): written by the log's writer through its batching and
 * masking, cut back with the log on resume, read by followers, deleted with the log; and lines read as line
 * objects (line-objects.ts).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import type { TaskExecutionKey } from "../src/domain/task-execution-key.ts";
import { lineObjects } from "../src/logs/line-objects.ts";
import { LogStore } from "../src/logs/log-store.ts";
import { MARK_INTERVAL_MS, RECORD_BYTES, streamIndexPathOf } from "../src/logs/stream-index.ts";

const key: TaskExecutionKey = {
  namespace_id: "default",
  pipeline_id: "streams",
  run_id: 1,
  task_id: "mixed",
};

let dir: string;
let store: LogStore;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gofer-stream-index-"));
  store = new LogStore(join(dir, "logs"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const out = (text: string) => ({ stream: "stdout" as const, data: Buffer.from(text) });
const err = (text: string) => ({ stream: "stderr" as const, data: Buffer.from(text) });
const at = (count: number, chunk: { stream: "stdout" | "stderr"; data: Buffer }) => ({
  ...chunk,
  position: { timestamp: `2026-01-01T00:00:00.00000000${count}Z`, count },
});

interface LineObject {
  line: string;
  stream?: string;
  time?: number;
}

async function readLineObjects(blocks: AsyncIterable<Buffer>): Promise<LineObject[]> {
  let text = "";
  for await (const block of lineObjects(blocks)) {
    assert.equal(block.at(-1), 0x0a, "every block ends with a whole line object");
    text += block.toString();
  }
  return text === ""
    ? []
    : text
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => JSON.parse(line) as LineObject);
}

const streamsOf = (lines: LineObject[]) => lines.map(({ line, stream }) => ({ line, stream }));

test("each line reads with its stream and arrival time; records are kept at switches and every so often", async () => {
  const before = Date.now();
  const writer = await store.openWriter(key);
  await writer.write(out("one\ntw"));
  await writer.write(err("oops\n"));
  await writer.write(out("o\nthree\n"));
  await sleep(MARK_INTERVAL_MS + 20);
  await writer.write(out("four\n"));
  // An unterminated last line of each stream is completed at close, stdout's first.
  await writer.write(err("last err"));
  await writer.write(out("last out"));
  await writer.close();
  const after = Date.now();

  const lines = await readLineObjects(store.read(key, { follow: false }));
  assert.deepEqual(streamsOf(lines), [
    { line: "one", stream: "stdout" },
    { line: "oops", stream: "stderr" },
    { line: "two", stream: "stdout" },
    { line: "three", stream: "stdout" },
    { line: "four", stream: "stdout" },
    { line: "last out", stream: "stdout" },
    { line: "last err", stream: "stderr" },
  ]);
  for (const line of lines) assert.ok(line.time !== undefined && line.time >= before && line.time <= after);
  assert.ok((lines[4]?.time ?? 0) - (lines[3]?.time ?? 0) >= MARK_INTERVAL_MS, "a record after the interval");
  // one, oops, two (a switch back), four (after the interval), last err; last out only if the interval passed.
  const records = (await stat(streamIndexPathOf(store.pathFor(key)))).size / RECORD_BYTES;
  assert.ok(records >= 5 && records <= 6, `${records} records`);
  // The log itself is the plain text v0 serves.
  assert.equal(
    await readFile(store.pathFor(key), "utf8"),
    "one\noops\ntwo\nthree\nfour\nlast out\nlast err\n",
  );
});

test("a busy log on one stream costs a few records, not one per line", async () => {
  const writer = await store.openWriter(key);
  const started = Date.now();
  for (let n = 0; n < 200; n++) {
    await writer.write(out(`${Array.from({ length: 100 }, (_, i) => `line ${n}-${i}`).join("\n")}\n`));
  }
  await writer.close();
  const records = (await stat(streamIndexPathOf(store.pathFor(key)))).size / RECORD_BYTES;
  assert.ok(records <= 1 + (Date.now() - started) / MARK_INTERVAL_MS, `${records} records for 20,000 lines`);
  const lines = await readLineObjects(store.read(key, { follow: false }));
  assert.equal(lines.length, 20_000);
  assert.ok(lines.every((line) => line.stream === "stdout"));
});

test("offsets are those of the masked bytes written", async () => {
  const writer = await store.openWriter(key, {
    transformLine: (line) => Buffer.from(line.toString().replaceAll("hunter2", "[a much longer mask]")),
  });
  await writer.write(out("password=hunter2 hunter2\n"));
  await writer.write(err("e hunter2\n"));
  await writer.write(out("x\n"));
  await writer.close();
  assert.deepEqual(streamsOf(await readLineObjects(store.read(key, { follow: false }))), [
    { line: "password=[a much longer mask] [a much longer mask]", stream: "stdout" },
    { line: "e [a much longer mask]", stream: "stderr" },
    { line: "x", stream: "stdout" },
  ]);
});

test("resuming after a crash cuts the records back with the log, so re-read output gets its own streams", async () => {
  const first = await store.openWriter(key);
  await first.write(at(1, out("one\n")));
  // The first resume point is saved at once; what follows within the save interval is not, as in a crash.
  await sleep(50);
  await first.write(at(2, err("lost e\n")));
  await first.write(at(3, out("lost o\n")));
  const path = store.pathFor(key);
  while ((await readFile(path, "utf8")) !== "one\nlost e\nlost o\n") await sleep(5);

  const second = await store.openWriter(key, { resume: true });
  assert.deepEqual(second.resumeAfter, at(1, out("")).position);
  await second.write(at(2, err("again, longer than before\n")));
  await second.write(at(3, err("still stderr\n")));
  await second.close();
  assert.deepEqual(streamsOf(await readLineObjects(store.read(key, { follow: false }))), [
    { line: "one", stream: "stdout" },
    { line: "again, longer than before", stream: "stderr" },
    { line: "still stderr", stream: "stderr" },
  ]);
  await first.detach();
});

test("followers, alone or sharing reads, get each line with its stream as it is written", async () => {
  let finished = false;
  const follow = () =>
    readLineObjects(store.read(key, { follow: true, isFinished: () => finished, highWaterMark: 64 }));
  const followers = [follow(), follow(), follow()];
  const writer = await store.openWriter(key);
  const expected: Array<{ line: string; stream: string }> = [];
  for (let n = 0; n < 40; n++) {
    const stream = n % 3 === 0 ? "stderr" : "stdout";
    const line = `${stream} line ${n}`;
    expected.push({ line, stream });
    await writer.write(stream === "stderr" ? err(`${line}\n`) : out(`${line}\n`));
    if (n % 5 === 0) await sleep(2);
  }
  await writer.close();
  finished = true;
  store.finish(key);
  for (const lines of await Promise.all(followers)) assert.deepEqual(streamsOf(lines), expected);
});

test("a log without records (older, or from a backend that merges the streams) has lines without stream or time", async () => {
  const older = { ...key, task_id: "older" };
  await mkdir(dirname(store.pathFor(older)), { recursive: true });
  await writeFile(store.pathFor(older), "a\nb\n");
  assert.deepEqual(await readLineObjects(store.read(older, { follow: false })), [
    { line: "a" },
    { line: "b" },
  ]);

  // Appending to it with records from then on: the older lines stay unmarked.
  const appended = await store.openWriter(older);
  await appended.write(err("c\n"));
  await appended.close();
  assert.deepEqual(streamsOf(await readLineObjects(store.read(older, { follow: false }))), [
    { line: "a", stream: undefined },
    { line: "b", stream: undefined },
    { line: "c", stream: "stderr" },
  ]);

  const merged = { ...key, task_id: "merged" };
  const writer = await store.openWriter(merged, { streamsKnown: false });
  await writer.write(out("all\nas stdout\n"));
  await writer.close();
  assert.equal(existsSync(streamIndexPathOf(store.pathFor(merged))), false);
  assert.deepEqual(await readLineObjects(store.read(merged, { follow: false })), [
    { line: "all" },
    { line: "as stdout" },
  ]);
});

test("the records go with the log: every attempt's on remove, leaving the run's folder removable", async () => {
  for (const attempt of [1, 2]) {
    const writer = await store.openWriter({ ...key, attempt });
    await writer.write(err(`attempt ${attempt}\n`));
    await writer.close();
  }
  const indexes = [1, 2].map((attempt) => streamIndexPathOf(store.pathFor({ ...key, attempt })));
  assert.ok(indexes.every((path) => existsSync(path)));
  await store.remove(key);
  assert.ok(indexes.every((path) => !existsSync(path)));
  await store.removeRunFolderIfEmpty(key);
  assert.equal(existsSync(dirname(indexes[0] as string)), false, "no record file keeps the run's folder");
});
