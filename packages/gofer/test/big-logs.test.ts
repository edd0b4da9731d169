/**
 * Big task logs, end to end on the real engine: a task that writes hundreds of MiB of numbered lines ends
 * successful and its stored log is exactly what it wrote (every line once, in order, the same bytes), also
 * when the server is SIGKILLed in the middle of the capture and started again on the same data folder.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, realpath, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { it, type TestContext } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { pipeline, task } from "@gofer/sdk";
import { GoferClient, type Run } from "@gofer/sdk/client";
import { listContainers, removeContainer } from "../../../scripts/chaos/engine.ts";
import { ServerProcess } from "../../../scripts/chaos/server-process.ts";
import { freePort } from "./support/free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { BUSYBOX, startTestServer, type TestServer } from "./support/test-server.ts";

const MiB = 1024 * 1024;
/** What each task writes: far more than a server could hold in memory per task, or buffer in one string. */
const LOG_MIB = 256;
/** Fixed-length lines put line k at a known offset, and make a whole number of MiB a whole number of lines. */
const LINE_BYTES = 128;
const DIGITS = 10;
const PADDING = "abcdefghijklmnopqrstuvwxyz".repeat(5).slice(0, LINE_BYTES - DIGITS - 2);
const LINES = (LOG_MIB * MiB) / LINE_BYTES;
/** Generous: the capture, the read-back and the checksum all run on a slow two-core machine. */
const TEST_TIMEOUT_MS = 240_000;
/** Leaves room inside the test's timeout to report what went wrong rather than be cut off. */
const WAIT_MS = TEST_TIMEOUT_MS - 30_000;
const NS = "default";
const ROOT = resolve(import.meta.dirname, "../../..");

const numberOf = (k: number) => String(k).padStart(DIGITS, "0");

/**
 * Writes lines 1..LINES in `bursts` equal parts with a pause between them. busybox awk writes 256 MiB in about
 * two seconds here, so without pauses the capture, not the task, sets the pace.
 */
function writerScript(bursts: number, pauseSeconds: number): string {
  const perBurst = LINES / bursts;
  assert.ok(Number.isInteger(perBurst), `${LINES} lines do not split into ${bursts} equal bursts`);
  const awk = `'BEGIN { for (k = first; k <= last; k++) printf "%0${DIGITS}d ${PADDING}\\n", k }'`;
  return [
    "b=0",
    `while [ $b -lt ${bursts} ]; do`,
    `  [ $b -eq 0 ] || sleep ${pauseSeconds}`,
    `  awk -v first=$((b * ${perBurst} + 1)) -v last=$(((b + 1) * ${perBurst})) ${awk} || exit 1`,
    "  b=$((b + 1))",
    "done",
  ].join("\n");
}

let expectedDigest: string | undefined;

/** The sha256 of what the task writes, built here independently of both the task and the server. */
function expectedSha256(): string {
  if (expectedDigest) return expectedDigest;
  const blockLines = 8192;
  const block = Buffer.from(`${numberOf(0)} ${PADDING}\n`.repeat(blockLines), "latin1");
  const hash = createHash("sha256");
  for (let first = 1; first <= LINES; first += blockLines) {
    const count = Math.min(blockLines, LINES - first + 1);
    for (let i = 0; i < count; i++) block.write(numberOf(first + i), i * LINE_BYTES, "latin1");
    hash.update(block.subarray(0, count * LINE_BYTES));
  }
  expectedDigest = hash.digest("hex");
  return expectedDigest;
}

const range = (first: number, last: number) => (first === last ? `line ${first}` : `lines ${first}..${last}`);

interface RepeatRun {
  firstLine: number;
  firstFound: number;
  lastLine: number;
  lastFound: number;
  note?: number;
}

/**
 * Checks a log body as it streams in: each line against the one expected next, with a running sha256. A line
 * that is not the expected one is classified (a repeat, a gap, or not the task's at all) and checking carries on
 * after it, so one lost line reports as one problem rather than as every line after it.
 */
class LogCheck {
  lines = 0;
  bytes = 0;
  missing = 0;
  repeated = 0;
  foreign = 0;
  readonly problems: string[] = [];
  #digest: string | undefined;
  readonly #hash = createHash("sha256");
  readonly #expected = Buffer.from(`${numberOf(0)} ${PADDING}`, "latin1");
  readonly #pattern = new RegExp(`^(\\d{${DIGITS}}) ${PADDING}$`);
  #next = 1;
  #partial: Buffer | undefined;
  #repeats: RepeatRun | undefined;

  feed(bytes: Uint8Array): void {
    const chunk = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    let start = 0;
    if (this.#partial) {
      const end = chunk.indexOf(10);
      if (end === -1) {
        this.#partial = Buffer.concat([this.#partial, chunk]);
        return;
      }
      this.#line(Buffer.concat([this.#partial, chunk.subarray(0, end)]));
      this.#partial = undefined;
      start = end + 1;
    }
    for (let end = chunk.indexOf(10, start); end !== -1; end = chunk.indexOf(10, start)) {
      this.#line(chunk.subarray(start, end));
      start = end + 1;
    }
    // Copied: a partial line must not keep the whole chunk alive.
    if (start < chunk.length) this.#partial = Buffer.from(chunk.subarray(start));
  }

  end(): void {
    this.#digest = this.#hash.digest("hex");
    if (this.#partial) {
      this.foreign += 1;
      this.#note(`the body ends inside a line: ${JSON.stringify(this.#partial.toString("latin1", 0, 40))}`);
    }
    if (this.#next <= LINES) {
      this.missing += LINES - this.#next + 1;
      this.#note(`${range(this.#next, LINES)} missing at the end`);
    }
  }

  get digest(): string {
    assert.ok(this.#digest, "the body was not read to its end");
    return this.#digest;
  }

  summary(): string {
    return (
      `${this.lines} lines (${this.bytes} bytes) read, ${LINES} expected: ${this.missing} missing, ` +
      `${this.repeated} repeated or out of order, ${this.foreign} not the task's; ${this.problems.join("; ")}`
    );
  }

  #line(line: Buffer): void {
    this.lines += 1;
    const k = this.#next;
    if (k <= LINES) {
      this.#expected.write(numberOf(k), 0, "latin1");
      if (line.equals(this.#expected)) {
        this.#next += 1;
        return;
      }
    }
    const text = line.toString("latin1");
    const match = this.#pattern.exec(text);
    const found = match ? Number(match[1]) : 0;
    if (found < 1 || found > LINES) {
      this.foreign += 1;
      this.#note(`the body's line ${this.lines} is not the task's: ${JSON.stringify(text.slice(0, 40))}`);
    } else if (found < k) {
      this.#repeat(found);
    } else {
      this.missing += found - k;
      this.#note(`${range(k, found - 1)} missing: the body's line ${this.lines} is line ${found}`);
      this.#next = found + 1;
    }
  }

  /** Consecutive repeats make one note: a log stored twice over reads as one range, not thousands of lines. */
  #repeat(found: number): void {
    this.repeated += 1;
    let run = this.#repeats;
    if (run && run.lastLine === this.lines - 1 && run.lastFound === found - 1) {
      run.lastLine = this.lines;
      run.lastFound = found;
    } else {
      run = { firstLine: this.lines, firstFound: found, lastLine: this.lines, lastFound: found };
      run.note = this.#note("");
      this.#repeats = run;
    }
    if (run.note !== undefined)
      this.problems[run.note] =
        `the body's ${range(run.firstLine, run.lastLine)} ${run.firstLine === run.lastLine ? "is" : "are"} ` +
        `${range(run.firstFound, run.lastFound)} again`;
  }

  /** Returns where the note went, or nothing once there are enough to go on. */
  #note(problem: string): number | undefined {
    if (this.problems.length < 10) return this.problems.push(problem) - 1;
    if (this.problems.length === 10) this.problems.push("…");
    return undefined;
  }
}

const logsPath = (pipelineId: string, runId: number, taskId: string) =>
  `/api/namespaces/${NS}/pipelines/${pipelineId}/runs/${runId}/tasks/${taskId}/logs`;

const apiHeaders = (token: string) => ({ "gofer-api-version": "v0", authorization: `Bearer ${token}` });

/** Reads the whole stored log over plain HTTP as it streams, checking it on the way. */
async function readStoredLog(
  url: string,
  token: string,
  path: string,
  signal: AbortSignal,
): Promise<LogCheck> {
  const response = await fetch(`${url}${path}`, { headers: apiHeaders(token), signal });
  if (response.status !== 200)
    assert.fail(`GET ${path} answered ${response.status}: ${await response.text()}`);
  const check = new LogCheck();
  if (response.body) for await (const chunk of response.body) check.feed(chunk);
  check.end();
  return check;
}

function assertWholeLog(check: LogCheck): void {
  assert.ok(
    check.problems.length === 0 && check.lines === LINES && check.bytes === LINES * LINE_BYTES,
    check.summary(),
  );
  assert.equal(check.digest, expectedSha256(), "the stored log's sha256 differs from what the task wrote");
}

/** How much of the log the server serves so far, reading no further than `enough` bytes of it. */
async function storedBytes(
  url: string,
  token: string,
  path: string,
  enough: number,
  signal: AbortSignal,
): Promise<number> {
  const response = await fetch(`${url}${path}`, { headers: apiHeaders(token), signal });
  if (response.status !== 200 || !response.body) {
    await response.body?.cancel();
    return 0;
  }
  let bytes = 0;
  // Leaving the loop early cancels the body, and with it the rest of the transfer.
  for await (const chunk of response.body) {
    bytes += chunk.byteLength;
    if (bytes >= enough) break;
  }
  return bytes;
}

/** Waits (bounded) for the engine to hold no container of the instance: finished tasks' are removed. */
async function assertNoContainersLeft(instanceId: string, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const left = await listContainers(`gofer.instance=${instanceId}`);
    if (left.length === 0) return;
    if (Date.now() > deadline) {
      const states = left.map((container) => `${container.Id.slice(0, 12)} (${container.State})`);
      assert.fail(`container(s) of the server left behind: ${states.join(", ")}`);
    }
    await sleep(250, undefined, { signal });
  }
}

async function removeContainersOf(label: string): Promise<void> {
  for (const container of await listContainers(label)) await removeContainer(container.Id);
}

const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

function readInstanceId(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, "gofer.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT instance_id FROM system WHERE id = 1").get() as { instance_id?: string };
    assert.ok(row?.instance_id, "the server's database holds no instance id");
    return row.instance_id;
  } finally {
    db.close();
  }
}

it(`a task that writes ${LOG_MIB} MiB ends successful with every line stored`, {
  timeout: TEST_TIMEOUT_MS,
}, async (t: TestContext) => {
  let server: TestServer | undefined;
  t.after(() => server?.stop());
  server = await startTestServer();
  const pipelineId = "big-log";
  await deployPipeline(server, pipelineConfig(pipelineId, [shTask("write", writerScript(1, 0))]));

  const began = Date.now();
  const runId = await startRun(server, pipelineId);
  const { run, tasks } = await waitForRun(server, pipelineId, runId, WAIT_MS);
  t.diagnostic(`run complete after ${seconds(began)}`);
  // The task's reason first: it names the cause, where the run's only says that a task failed.
  assert.equal(tasks.write.status, "successful", JSON.stringify(tasks.write.status_reason));
  assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
  assert.equal(tasks.write.exit_code, 0);

  const reading = Date.now();
  const check = await readStoredLog(server.url, server.token, logsPath(pipelineId, runId, "write"), t.signal);
  t.diagnostic(`log read and checked in ${seconds(reading)}`);
  assertWholeLog(check);
  await assertNoContainersLeft(server.instanceId, t.signal);
});

it("a kill -9 of the server while such a task writes still stores every line exactly once", {
  timeout: TEST_TIMEOUT_MS,
}, async (t: TestContext) => {
  // Unique, so that cleaning up by this label cannot touch another server's containers.
  const pipelineId = `big-log-crash-${randomBytes(3).toString("hex")}`;
  const dataDir = await realpath(await mkdtemp(join(tmpdir(), "gofer-big-logs-")));
  const server = new ServerProcess({
    root: ROOT,
    dataDir,
    port: await freePort(),
    // A fixed key keeps the "generated key" warning of every start out of the log tail a failure shows.
    settings: { GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: randomBytes(16).toString("hex") },
  });
  let instanceId: string | undefined;
  const killNow = () => server.killNow();
  process.once("exit", killNow);
  t.after(async () => {
    process.off("exit", killNow);
    await server.terminate(20_000);
    await removeContainersOf(instanceId ? `gofer.instance=${instanceId}` : `gofer.pipeline=${pipelineId}`);
    await rm(dataDir, { recursive: true, force: true });
  });

  server.start();
  await server.waitUntilUp(60_000);
  const { secret: token } = await new GoferClient({ baseUrl: server.url }).tokens.bootstrap();
  const client = new GoferClient({ baseUrl: server.url, token, timeoutMs: 30_000 });
  instanceId = readInstanceId(dataDir);
  // Bursts with pauses keep the task writing for seconds, so the kill lands while it still writes.
  const config = pipeline(pipelineId, "Big log through a crash")
    .tasks(task("write", BUSYBOX).command("sh", "-c", writerScript(8, 0.5)))
    .finish();
  const registered = await client.configs.register(NS, pipelineId, config);
  await client.configs.deploy(NS, pipelineId, registered.version);

  const began = Date.now();
  const { run_id: runId } = await client.runs.start(NS, pipelineId);
  const path = logsPath(pipelineId, runId, "write");
  const killAfter = Math.min(8 * MiB, (LOG_MIB * MiB) / 4);
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const stored = await storedBytes(server.url, token, path, killAfter, t.signal);
    if (stored >= killAfter) break;
    assert.ok(!server.unexpectedExit, `the server ${server.unexpectedExit}:\n${server.logTail(40)}`);
    assert.ok(Date.now() < deadline, `only ${stored} bytes of the log were stored in time`);
    await sleep(200, undefined, { signal: t.signal });
  }
  const beforeKill = await client.runs.get(NS, pipelineId, runId);
  assert.notEqual(beforeKill.state, "complete", "the run ended before the kill: the kill proves nothing");
  const [container] = await listContainers(`gofer.instance=${instanceId}`);
  t.diagnostic(
    `killing after ${seconds(began)} with at least ${killAfter} bytes stored; ` +
      `the task's container is ${container?.State ?? "gone"}`,
  );
  await server.kill();
  server.start();
  await server.waitUntilUp(60_000);

  let run: Run;
  for (;;) {
    run = await client.runs.get(NS, pipelineId, runId);
    if (run.state === "complete") break;
    assert.ok(!server.unexpectedExit, `the server ${server.unexpectedExit}:\n${server.logTail(40)}`);
    assert.ok(Date.now() < deadline, `run ${runId} did not complete in time (${run.state})`);
    await sleep(250, undefined, { signal: t.signal });
  }
  t.diagnostic(`run complete after ${seconds(began)}`);
  const execution = await client.tasks.get(NS, pipelineId, runId, "write");
  assert.equal(
    execution.status,
    "successful",
    `${JSON.stringify(execution.status_reason)}\n${server.logTail(40)}`,
  );
  assert.equal(run.status, "successful", JSON.stringify(run.status_reason));
  assert.equal(execution.exit_code, 0);

  const reading = Date.now();
  const check = await readStoredLog(server.url, token, path, t.signal);
  t.diagnostic(`log read and checked in ${seconds(reading)}`);
  assertWholeLog(check);
  await assertNoContainersLeft(instanceId, t.signal);
  assert.equal(server.unexpectedExit, undefined);
});
