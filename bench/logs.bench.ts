/**
 * How fast a task's output reaches storage, against the engine delivering the same output to nobody.
 *
 * Every variant runs the same container: `sh -c "yes '<63 characters>' | head -c BYTES"` on gofer/busybox,
 * host network. Alternating rounds of:
 *   - gofer: a real server in a child process (so that its RSS can be read) runs a one-task pipeline; timed from
 *     POST run to the run's `completed_run` event. Then, untimed, the task must be `successful` and its log file
 *     must hold BYTES bytes (BYTES+1 when the server completed a last partial line);
 *   - gofer + followers: the same run, with two live followers of the task's log attached through the API as soon
 *     as POST run returns: a WebSocket (one text frame a line) and `GET …/logs?follow=true` (plain text), each
 *     attach tried again while the server answers 404 or 409. Timed the same way, and checked the same way; then
 *     each follower must have received as many bytes as the stored log holds (WebSocket: each line plus one for
 *     its "\n"; HTTP: the body), and one still open must not go FOLLOWER_GRACE_MS after `completed_run` without
 *     receiving anything. A follower's lag is the time from `completed_run` to the end of its stream (negative
 *     when it ended first);
 *   - docker run: `docker run --rm … > /dev/null`, the engine's own attached delivery, CLI included;
 *   - logs endpoint: the container created through the Engine API, then timed from its start to the end of its
 *     followed, timestamped log stream, whose frames are counted (they must hold BYTES bytes of output) and
 *     dropped; a stream the engine ends early is reported and measured again.
 * Prints each variant's median seconds and MB/s (10^6 bytes a second), the ratios gofer/docker-run,
 * gofer/logs-endpoint and gofer+followers/gofer (target: at most 1.10, i.e. followers do not slow the capture),
 * each follower's median lag, and the server's RSS after the warm-up runs and after the last run of each Gofer
 * variant (the second shows what two followers add).
 *
 * Then one concurrent round: one run of 20 parallel tasks each printing numbered 100-byte lines (50 MiB a task);
 * every stored log must hold each of its task's lines exactly once, in order, and nothing else. Prints the total
 * MB/s and PASS or FAIL.
 *
 * Then the big log: one task writing BENCH_BIG_LOG_MB of numbered BENCH_BIG_LINE_BYTES-byte lines as fast as
 * busybox `seq | sed` can (1 GiB of 1 KiB lines by default), once each through:
 *   - docker run and the engine's logs endpoint, as above: the engine delivering the same output;
 *   - gofer alone: stored MB/s (target ≥ 100), and the server's RSS at the start, at each quarter of the time,
 *     at the end and at its peak (the kernel's high-water mark, reset at the start): flat means it does not
 *     grow with the output;
 *   - gofer with BENCH_FOLLOWERS live followers of the one log (100; alternately WebSocket and HTTP follow, as
 *     above), each checking as the bytes arrive that every line comes exactly once and in order, holding at
 *     most one line (a follower that receives nothing for FOLLOWER_GRACE_MS while still open fails the run).
 *     Prints the capture's MB/s with followers ÷ without (target ≥ 0.91, as above), when the followers ended
 *     after `completed_run`, and the CPU seconds the server and this process (the followers) spent, since
 *     both share the machine's cores.
 * Both stored logs are checked line by line as well. Prints the ratios against docker run and the logs
 * endpoint, and PASS or FAIL for every line exactly once, stored and followed.
 *
 * Usage: `npm run bench -- logs` (after `./test.sh` or `./start.sh` has prepared the engine and image).
 * Environment: BENCH_LOG_MB (MiB a run, 200), BENCH_ROUNDS (3), BENCH_CONCURRENT_MB (MiB a task, 50),
 * BENCH_BIG_LOG_MB (MiB, 1024), BENCH_BIG_LINE_BYTES (1024), BENCH_FOLLOWERS (100), BENCH_DEADLINE_S (1800),
 * BENCH_SERVER_NODE_OPTIONS (NODE_OPTIONS for the server, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`). A quick
 * pass: BENCH_LOG_MB=2 BENCH_BIG_LOG_MB=4 BENCH_FOLLOWERS=5 BENCH_ROUNDS=1 BENCH_CONCURRENT_MB=1. Exits 1 on a
 * failed task, a short or wrong log (stored or followed), a follower that could not attach or did not end, or
 * the deadline, 2 on a bad setting; the server, its data and every container it or this benchmark made are
 * removed in every case.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, createReadStream, openSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { availableParallelism, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { pipeline, task } from "@gofer/sdk";
import { GoferClient, type TaskExecution } from "@gofer/sdk/client";
import { WebSocket } from "ws";
import { EngineClient } from "../packages/gofer/src/scheduler/docker/engine-client.ts";
import { freePort } from "../packages/gofer/test/support/free-port.ts";
import { ServerProcess } from "../scripts/chaos/server-process.ts";
import { countSetting, setting } from "./support/settings.ts";

const MiB = 1024 * 1024;
const NS = "default";
const ROOT = resolve(import.meta.dirname, "..");
const IMAGE = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";

const BYTES = Math.round(setting("BENCH_LOG_MB", 200) * MiB);
const ROUNDS = countSetting("BENCH_ROUNDS", 3);
const CONCURRENT_BYTES = Math.round(setting("BENCH_CONCURRENT_MB", 50) * MiB);
const BIG_BYTES = Math.round(setting("BENCH_BIG_LOG_MB", 1024) * MiB);
const BIG_LINE_BYTES = countSetting("BENCH_BIG_LINE_BYTES", 1024);
const FOLLOWERS = countSetting("BENCH_FOLLOWERS", 100);
const DEADLINE_MS = setting("BENCH_DEADLINE_S", 1800) * 1000;
const CONCURRENT_TASKS = 20;
/**
 * Large enough that the server's heap and allocator reach their working size before RSS is first read: what
 * is measured is whether memory grows with the volume of output, not the first run's one-time growth.
 */
const WARM_UP_BYTES = Math.min(64 * MiB, BYTES);
/** The stored-throughput target of the big run, in MB/s (10^6 bytes a second). */
const BIG_TARGET_MB_S = 100;

const LINE = "gofer log throughput line 0123456789 abcdefghijklmnopqrstuvwxyz";
const throughputScript = (bytes: number) => `yes '${LINE}' | head -c ${bytes}`;

/**
 * Fixed-length lines `<k, zero-padded> <tag> <letters>`, `lineBytes` bytes with their "\n", numbered from 1, so
 * that a line missing, doubled, out of place or from another task is told apart, and a checker holds at most
 * one line. busybox `seq -w | sed` writes them: 50 MiB of 100-byte lines in about 0.4 s on 2 cores, and the
 * longer the lines the faster, so the generator stays below what is measured.
 */
class NumberedLines {
  readonly count: number;
  readonly lineBytes: number;
  readonly width: number;
  /** What follows the number on every line, "\n" excluded. */
  readonly suffix: string;

  constructor(bytes: number, lineBytes: number, tag: string) {
    this.count = Math.floor(bytes / lineBytes);
    this.lineBytes = lineBytes;
    this.width = String(this.count).length;
    const room = lineBytes - this.width - tag.length - 3;
    if (this.count < 1 || room < 1) {
      process.stderr.write(
        `${bytes} bytes of ${lineBytes}-byte numbered lines tagged "${tag}" cannot be made\n`,
      );
      process.exit(2);
    }
    this.suffix = ` ${tag} ${"abcdefghijklmnopqrstuvwxyz".repeat(Math.ceil(room / 26)).slice(0, room)}`;
  }

  get bytes(): number {
    return this.count * this.lineBytes;
  }

  script(): string {
    return `seq -w 1 ${this.count} | sed 's/$/${this.suffix}/'`;
  }

  line(k: number): string {
    return `${String(k).padStart(this.width, "0")}${this.suffix}`;
  }
}

const concurrentTaskId = (index: number) => `t${String(index).padStart(2, "0")}`;
const concurrentLines = (taskId: string) => new NumberedLines(CONCURRENT_BYTES, 100, taskId);
/** What each concurrent task writes: the same for every task, as their ids are as long. */
const CONCURRENT_LINE_BYTES = concurrentLines(concurrentTaskId(0)).bytes;
const BIG_LINES = new NumberedLines(BIG_BYTES, BIG_LINE_BYTES, "big");

const PIPELINES = {
  warmUp: "logs-warm-up",
  throughput: "logs-throughput",
  concurrent: "logs-concurrent",
  big: "logs-big",
};

class BenchFailure extends Error {
  override name = "BenchFailure";
}

const began = performance.now();
const say = (text: string) =>
  process.stdout.write(`logs [+${((performance.now() - began) / 1000).toFixed(1)}s] ${text}\n`);
const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const seconds = (ms: number) => (ms / 1000).toFixed(3);
const milliseconds = (ms: number) => `${ms >= 0 ? "+" : ""}${ms.toFixed(0)} ms`;
const megabytesPerSecond = (bytes: number, ms: number) => (bytes / 1e6 / (ms / 1000)).toFixed(1);
const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/** Marks the containers this benchmark starts itself, so that cleanup finds exactly those. */
const BENCH_LABEL = `logs-${randomBytes(4).toString("hex")}`;
const engine = new EngineClient();

/** What cleanup must undo; filled in as the benchmark makes it. */
const made: {
  server?: ServerProcess;
  dataDir?: string;
  instanceId?: string;
  events?: RunCompletions;
} = {};

/** Resolves each run's wait on its `completed_run` event, so no polling interval lands in the measurement. */
class RunCompletions {
  readonly #socket: WebSocket;
  readonly #seen = new Set<string>();
  readonly #waiting = new Map<string, { resolve: () => void; reject: (error: Error) => void }>();
  #closed: string | undefined;

  static async open(url: string, token: string): Promise<RunCompletions> {
    const socket = new WebSocket(`${url.replace(/^http/, "ws")}/api/events`, {
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${token}` },
    });
    await new Promise<void>((opened, failed) => {
      socket.once("open", () => opened());
      socket.once("error", failed);
    });
    return new RunCompletions(socket);
  }

  constructor(socket: WebSocket) {
    this.#socket = socket;
    socket.on("message", (data) => {
      const completed = JSON.parse(String(data))?.kind?.completed_run;
      if (!completed) return;
      const key = `${completed.pipeline_id}/${completed.run_id}`;
      this.#seen.add(key);
      this.#waiting.get(key)?.resolve();
    });
    // An "error" is always followed by "close", which fails the waits.
    socket.on("error", () => undefined);
    socket.on("close", (code, reason) => {
      this.#closed = `the event stream closed (${code}${reason.length > 0 ? ` ${reason}` : ""})`;
      for (const waiter of this.#waiting.values()) waiter.reject(new BenchFailure(this.#closed));
      this.#waiting.clear();
    });
  }

  wait(pipelineId: string, runId: number): Promise<void> {
    const key = `${pipelineId}/${runId}`;
    if (this.#seen.delete(key)) return Promise.resolve();
    if (this.#closed) return Promise.reject(new BenchFailure(this.#closed));
    return new Promise<void>((resolve, reject) => {
      this.#waiting.set(key, { resolve, reject });
    }).finally(() => {
      this.#waiting.delete(key);
      this.#seen.delete(key);
    });
  }

  close(): void {
    this.#socket.close();
  }
}

/** Counts the output in a multiplexed, timestamped log stream: frame payloads less each `<timestamp> ` prefix. */
class FrameCounter {
  output = 0;
  readonly #header = Buffer.alloc(8);
  #headerFilled = 0;
  #payloadLeft = 0;
  #inTimestamp = false;

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.#payloadLeft === 0) {
        const take = Math.min(8 - this.#headerFilled, chunk.length - at);
        chunk.copy(this.#header, this.#headerFilled, at, at + take);
        this.#headerFilled += take;
        at += take;
        if (this.#headerFilled === 8) {
          this.#headerFilled = 0;
          this.#payloadLeft = this.#header.readUInt32BE(4);
          this.#inTimestamp = true;
        }
        continue;
      }
      const end = Math.min(chunk.length, at + this.#payloadLeft);
      let from = at;
      if (this.#inTimestamp) {
        // Unbounded search is safe: a frame that ends inside this chunk holds its whole timestamp and space.
        const space = chunk.indexOf(0x20, at);
        if (space === -1 || space >= end) from = end;
        else {
          from = space + 1;
          this.#inTimestamp = false;
        }
      }
      this.output += end - from;
      this.#payloadLeft -= end - at;
      at = end;
    }
  }
}

/**
 * Checks a stream of {@link NumberedLines} as it arrives, holding at most one line whatever the stream's size:
 * every line must be the next one, whole and byte for byte, and nothing may follow the last. The expected line
 * is one buffer whose number is counted up in place, so a line costs one comparison and no allocation.
 */
class LineSequenceCheck {
  readonly #lines: NumberedLines;
  /** The line expected next, "\n" included. */
  readonly #expected: Buffer;
  /** A line cut by the end of a chunk, completed by the next. */
  readonly #partial: Buffer;
  #partialBytes = 0;
  #next = 1;
  #problem: string | undefined;

  constructor(lines: NumberedLines) {
    this.#lines = lines;
    this.#expected = Buffer.from(`${lines.line(1)}\n`, "latin1");
    this.#partial = Buffer.allocUnsafe(lines.lineBytes);
  }

  /** Lines ending in "\n", cut anywhere. */
  push(chunk: Buffer): void {
    const size = this.#lines.lineBytes;
    let at = 0;
    if (this.#partialBytes > 0) {
      at = chunk.copy(this.#partial, this.#partialBytes, 0, size - this.#partialBytes);
      this.#partialBytes += at;
      if (this.#partialBytes < size) return;
      this.#partialBytes = 0;
      this.#check(this.#partial, 0, size, size);
    }
    for (; at + size <= chunk.length; at += size) this.#check(chunk, at, at + size, size);
    this.#partialBytes = chunk.copy(this.#partial, 0, at);
  }

  /** One line without its "\n": a WebSocket frame. */
  pushLine(line: Buffer): void {
    this.#check(line, 0, line.length, this.#lines.lineBytes - 1);
  }

  /** Once the stream has ended: the first thing wrong with it, or undefined when every line came once, in order. */
  end(): string | undefined {
    if (this.#problem) return this.#problem;
    if (this.#partialBytes > 0)
      return `ends with a partial line ${show(this.#partial.subarray(0, this.#partialBytes))}`;
    const received = this.#next - 1;
    if (received !== this.#lines.count) return `holds ${received} lines, expected ${this.#lines.count}`;
    return undefined;
  }

  #check(source: Buffer, start: number, end: number, expectedEnd: number): void {
    if (this.#problem) return;
    const { count, width } = this.#lines;
    if (this.#next > count) {
      this.#problem = `an extra line after line ${count}: ${show(source.subarray(start, end))}`;
      return;
    }
    if (source.compare(this.#expected, 0, expectedEnd, start, end) !== 0) {
      this.#problem =
        `line ${this.#next} is ${show(source.subarray(start, end))}, ` +
        `expected ${show(this.#expected.subarray(0, expectedEnd))}`;
      return;
    }
    this.#next += 1;
    const digits = this.#expected;
    let at = width - 1;
    while (at > 0 && digits[at] === 0x39) {
      digits[at] = 0x30;
      at -= 1;
    }
    digits[at] = (digits[at] ?? 0) + 1;
  }
}

/** The start of a line, for a message. */
const show = (line: Buffer) => {
  const text = line.toString("latin1");
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
};

function readInstanceId(dataDir: string): string {
  const db = new DatabaseSync(join(dataDir, "gofer.db"), { readOnly: true });
  try {
    const row = db.prepare("SELECT instance_id FROM system WHERE id = 1").get() as { instance_id?: string };
    if (!row?.instance_id) throw new BenchFailure("the server's database holds no instance id");
    return row.instance_id;
  } finally {
    db.close();
  }
}

/** The server's resident and peak resident memory, in MiB. */
function serverMemory(): { rss: number; peak: number } {
  const pid = made.server?.pid;
  if (pid === undefined)
    throw new BenchFailure(`the server ${made.server?.unexpectedExit ?? "is not running"}`);
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const mib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB$`, "m").exec(status)?.[1]) / 1024;
  return { rss: mib("VmRSS"), peak: mib("VmHWM") };
}

const signed = (mib: number) => `${mib >= 0 ? "+" : ""}${mib.toFixed(1)}`;

function storedLogPath(pipelineId: string, runId: number, taskId: string): string {
  if (!made.dataDir) throw new BenchFailure("no data dir");
  return join(made.dataDir, "logs", NS, pipelineId, String(runId), `${taskId}.log`);
}

/** Where the API is and the token to call it with, for the requests the SDK client does not make. */
interface Api {
  url: string;
  token: string;
}

async function startServer(): Promise<{ client: GoferClient; completions: RunCompletions; api: Api }> {
  made.dataDir = await realpath(await mkdtemp(join(tmpdir(), "gofer-bench-logs-")));
  const server = new ServerProcess({
    root: ROOT,
    dataDir: made.dataDir,
    port: await freePort(),
    settings: {
      // A fixed key keeps the "generated key" warning out of the server log shown on failure.
      GOFER_WEB_SECRET_STORE__SQLITE__ENCRYPTION_KEY: randomBytes(16).toString("hex"),
      GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: "127.0.0.1:0",
      ...(process.env.BENCH_SERVER_NODE_OPTIONS && { NODE_OPTIONS: process.env.BENCH_SERVER_NODE_OPTIONS }),
    },
  });
  made.server = server;
  server.start();
  await server.waitUntilUp(30_000);
  const { secret: token } = await new GoferClient({ baseUrl: server.url }).tokens.bootstrap();
  made.instanceId = readInstanceId(made.dataDir);
  made.events = await RunCompletions.open(server.url, token);
  return {
    client: new GoferClient({ baseUrl: server.url, token, timeoutMs: 30_000 }),
    completions: made.events,
    api: { url: server.url, token },
  };
}

async function deploy(client: GoferClient, id: string, tasks: Array<{ id: string; script: string }>) {
  const config = pipeline(id, `Benchmark ${id}`)
    .description("Registered by bench/logs.bench.ts")
    // 0: the server's default, which limits runs in flight, not the tasks of one run.
    .parallelism(0)
    .tasks(...tasks.map((spec) => task(spec.id, IMAGE).command("sh", "-c", spec.script)))
    .finish();
  const registered = await client.configs.register(NS, id, config);
  await client.configs.deploy(NS, id, registered.version);
}

/**
 * Starts a run, calls `started` with its id, and waits for its completion; then fails unless every task ended
 * `successful`. `completedAt` is when `completed_run` arrived, on the `performance.now()` clock.
 */
async function goferRun(
  client: GoferClient,
  completions: RunCompletions,
  pipelineId: string,
  started?: (runId: number) => void,
): Promise<{ ms: number; runId: number; tasks: TaskExecution[]; completedAt: number }> {
  const start = performance.now();
  const { run_id: runId } = await client.runs.start(NS, pipelineId);
  started?.(runId);
  await completions.wait(pipelineId, runId);
  const completedAt = performance.now();
  const ms = completedAt - start;
  const tasks = await client.tasks.list(NS, pipelineId, runId);
  const failed = tasks.filter((execution) => execution.status !== "successful");
  if (failed.length > 0)
    throw new BenchFailure(
      `run ${runId} of ${pipelineId}: ` +
        failed
          .map(
            (execution) =>
              `task ${execution.task_id} ended ${execution.status}` +
              (execution.status_reason ? ` (${execution.status_reason.description})` : ""),
          )
          .join("; "),
    );
  return { ms, runId, tasks, completedAt };
}

/** One run of the one-task pipeline; returns the time and how many bytes the stored log holds beyond `bytes`. */
async function goferThroughput(
  client: GoferClient,
  completions: RunCompletions,
  pipelineId: string,
  bytes: number,
  started?: (runId: number) => void,
): Promise<{ ms: number; extra: number; runId: number; completedAt: number }> {
  const { ms, runId, completedAt } = await goferRun(client, completions, pipelineId, started);
  const path = storedLogPath(pipelineId, runId, "write");
  const size = await stat(path).then(
    (stats) => stats.size,
    (error: unknown) => {
      throw new BenchFailure(`run ${runId}: no stored log at ${path}: ${messageOf(error)}`);
    },
  );
  if (size !== bytes && size !== bytes + 1)
    throw new BenchFailure(`run ${runId}: the stored log holds ${size} bytes; the task wrote ${bytes}`);
  return { ms, extra: size - bytes, runId, completedAt };
}

/** One live follower of a task's log: what it has received so far, and when its stream ended. */
interface Received {
  kind: "WebSocket" | "HTTP";
  bytes: number;
  endedAt?: number;
  /** Checks the lines as they arrive, when the log is numbered lines. */
  check?: LineSequenceCheck;
}

/** An attach the server answered with something other than a stream. */
interface Refused {
  status: number;
  body: string;
}

/**
 * The server stores a run's tasks with the run, so an attach made once POST run has returned should find its
 * task; a 404 (no such task yet) or 409 (not followable yet) is tried again for this long rather than failing a
 * follower that merely came early, and counted, since it means the attach was not immediate.
 */
const ATTACH_RETRY_MS = 5_000;
const ATTACH_PAUSE_MS = 20;
let refusedAttaches = 0;
/**
 * Followers end with the task, once they have read the log to its end. A follower still open that receives
 * nothing for this long after `completed_run` is left hanging, not slow.
 */
const FOLLOWER_GRACE_MS = 30_000;

const apiHeaders = (token: string) => ({ "gofer-api-version": "v0", authorization: `Bearer ${token}` });
const bodyOf = (text: string) => {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
};

/** Follows a task's log over a WebSocket until the server closes it; one text frame is one line, "\n" excluded. */
function followOverWebSocket(url: string, token: string, received: Received): Promise<Refused | undefined> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(url, { headers: apiHeaders(token) });
    let failure = "";
    socket.on("unexpected-response", (request, response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => {
        request.destroy();
        resolve({ status: response.statusCode ?? 0, body });
      });
      response.on("error", (error) =>
        reject(new BenchFailure(`the WebSocket follower's refused attach: ${error.message}`)),
      );
    });
    socket.on("message", (data, isBinary) => {
      if (isBinary) failure = "a binary frame arrived; ";
      received.bytes += (data as Buffer).length + 1;
      received.check?.pushLine(data as Buffer);
    });
    // An "error" is always followed by "close", which settles the promise.
    socket.on("error", (error) => {
      failure += `${error.message}; `;
    });
    socket.on("close", (code, reason) => {
      received.endedAt = performance.now();
      if (code === 1000 && failure === "") resolve(undefined);
      else
        reject(
          new BenchFailure(
            `the WebSocket follower: ${failure}closed with ${code}${reason.length > 0 ? ` ${reason}` : ""} ` +
              `after ${received.bytes} bytes`,
          ),
        );
    });
  });
}

/** Follows a task's log with a plain GET until the response ends; counts the body's bytes. */
function followOverHttp(url: string, token: string, received: Received): Promise<Refused | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpGet(url, { headers: apiHeaders(token) }, (response) => {
      if (response.statusCode !== 200) {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          body += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        return;
      }
      response.on("data", (chunk: Buffer) => {
        received.bytes += chunk.length;
        received.check?.push(chunk);
      });
      // A response cut short ends in "error", never "end".
      response.on("end", () => {
        received.endedAt = performance.now();
        resolve(undefined);
      });
      response.on("error", (error) =>
        reject(new BenchFailure(`the HTTP follower: ${error.message} after ${received.bytes} bytes`)),
      );
    });
    request.on("error", (error) => reject(new BenchFailure(`the HTTP follower: ${error.message}`)));
  });
}

async function attachWithRetries(
  what: string,
  follow: () => Promise<Refused | undefined>,
  received: Received,
): Promise<Received> {
  const giveUpAt = performance.now() + ATTACH_RETRY_MS;
  for (let tries = 1; ; tries += 1) {
    const refused = await follow();
    if (!refused) return received;
    const early = refused.status === 404 || refused.status === 409;
    if (!early || performance.now() >= giveUpAt)
      throw new BenchFailure(
        `${what} could not attach: the server answered ${refused.status} ${bodyOf(refused.body)}` +
          (early ? ` ${tries} times in ${ATTACH_RETRY_MS / 1000} s` : ""),
      );
    refusedAttaches += 1;
    await sleep(ATTACH_PAUSE_MS);
  }
}

/** A followed run: the run as `goferThroughput` reports it, and each follower once every one has ended. */
interface FollowedRun {
  ms: number;
  extra: number;
  runId: number;
  completedAt: number;
  followers: Received[];
  /** What was wrong with what each follower received, one description each; empty when each got the whole log. */
  problems: string[];
}

/**
 * One run of the one-task pipeline with `count` live followers of its task's log attached once POST run has
 * returned, alternately over a WebSocket and over HTTP; with `lines`, each follower checks every line as it
 * arrives. The run is timed as in `goferThroughput`; the followers only load the server while it captures.
 */
async function goferFollowedThroughput(
  api: Api,
  client: GoferClient,
  completions: RunCompletions,
  pipelineId: string,
  bytes: number,
  count: number,
  lines?: NumberedLines,
): Promise<FollowedRun> {
  const followers = Array.from(
    { length: count },
    (_, index): Received => ({
      kind: index % 2 === 0 ? "WebSocket" : "HTTP",
      bytes: 0,
      ...(lines && { check: new LineSequenceCheck(lines) }),
    }),
  );
  let followed: Promise<unknown> = Promise.resolve();
  const run = await goferThroughput(client, completions, pipelineId, bytes, (runId) => {
    const url = `${api.url}/api/namespaces/${NS}/pipelines/${pipelineId}/runs/${runId}/tasks/write/logs`;
    followed = Promise.all(
      followers.map((received, index) =>
        received.kind === "WebSocket"
          ? attachWithRetries(
              `WebSocket follower ${index + 1}`,
              () => followOverWebSocket(url.replace(/^http/, "ws"), api.token, received),
              received,
            )
          : attachWithRetries(
              `HTTP follower ${index + 1}`,
              () => followOverHttp(`${url}?follow=true`, api.token, received),
              received,
            ),
      ),
    );
    // Awaited once the run is complete; a follower failing sooner must not count as an unhandled rejection.
    followed.catch(() => undefined);
  });
  const stored = bytes + run.extra;
  await followersEnded(followed, followers, run.completedAt, stored);
  const problems: string[] = [];
  followers.forEach((received, index) => {
    const what = `${received.kind} follower ${index + 1}`;
    const problem = received.check?.end();
    if (problem) problems.push(`${what}: ${problem}`);
    else if (received.bytes !== stored)
      problems.push(`${what} received ${received.bytes} bytes; the stored log holds ${stored}`);
  });
  return {
    ms: run.ms,
    extra: run.extra,
    runId: run.runId,
    completedAt: run.completedAt,
    followers,
    problems,
  };
}

/**
 * Waits until every follower's stream has ended; fails when one still open has received nothing for
 * FOLLOWER_GRACE_MS since `completedAt` or its last byte, whichever came later.
 */
async function followersEnded(
  followed: Promise<unknown>,
  followers: Received[],
  completedAt: number,
  stored: number,
): Promise<void> {
  const seen = followers.map((received) => ({ bytes: received.bytes, at: completedAt }));
  for (;;) {
    if (await Promise.race([followed.then(() => true), sleep(1000, false, { ref: false })])) return;
    const now = performance.now();
    for (const [index, received] of followers.entries()) {
      const last = seen[index] as { bytes: number; at: number };
      if (received.endedAt !== undefined) continue;
      if (received.bytes !== last.bytes) {
        last.bytes = received.bytes;
        last.at = now;
      } else if (now - last.at >= FOLLOWER_GRACE_MS)
        throw new BenchFailure(
          `${received.kind} follower ${index + 1} received nothing for ${FOLLOWER_GRACE_MS / 1000} s and ` +
            `is still open, after ${received.bytes} of the stored log's ${stored} bytes`,
        );
    }
  }
}

/** `docker run` of `script`, its output sent to /dev/null by the CLI. */
function runDockerCli(script: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const devNull = openSync("/dev/null", "w");
    const start = performance.now();
    const child = spawn(
      "docker",
      [
        "run",
        "--rm",
        "--network",
        "host",
        "--label",
        `gofer.bench=${BENCH_LABEL}`,
        IMAGE,
        "sh",
        "-c",
        script,
      ],
      { stdio: ["ignore", devNull, "pipe"] },
    );
    closeSync(devNull);
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.on("error", (error) => reject(new BenchFailure(`docker run: ${error.message}`)));
    child.on("close", (code, signal) => {
      if (code === 0) resolve(performance.now() - start);
      else reject(new BenchFailure(`docker run ended with ${signal ?? `code ${code}`}: ${stderr.trim()}`));
    });
  });
}

let containers = 0;
/** Followed streams the engine ended before the container's last byte, one description each. */
const shortStreams: string[] = [];
const LOGS_ENDPOINT_ATTEMPTS = 3;

/**
 * The logs endpoint's time for `bytes` of output. The engine sometimes ends a followed stream early (dockerd
 * 20.10's json-file reader gives up on a record still being written, logging "got error while decoding json");
 * such a time covers only part of the output, so it is reported and measured again.
 */
async function readLogsEndpoint(script: string, bytes: number): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const { ms, output } = await followLogsOnce(script);
    if (output === bytes) return ms;
    const note = `the engine's followed log stream ended after ${output} of ${bytes} bytes`;
    if (output > bytes || attempt === LOGS_ENDPOINT_ATTEMPTS)
      throw new BenchFailure(output > bytes ? note : `${note}, ${attempt} times in a row`);
    shortStreams.push(note);
    say(`${note}; measuring again`);
  }
}

async function followLogsOnce(script: string): Promise<{ ms: number; output: number }> {
  containers += 1;
  const created = await engine.createContainer(`gofer-bench-${BENCH_LABEL}-${containers}`, {
    Image: IMAGE,
    Cmd: ["sh", "-c", script],
    Labels: { "gofer.bench": BENCH_LABEL },
    HostConfig: { NetworkMode: "host" },
  });
  try {
    const start = performance.now();
    await engine.startContainer(created.Id);
    const stream = await engine.containerLogs(created.Id, {
      follow: true,
      stdout: true,
      stderr: true,
      timestamps: true,
    });
    const counter = new FrameCounter();
    for await (const chunk of stream) counter.push(chunk as Buffer);
    const ms = performance.now() - start;
    const exit = await engine.waitContainer(created.Id);
    if (exit.StatusCode !== 0) throw new BenchFailure(`the direct container exited with ${exit.StatusCode}`);
    return { ms, output: counter.output };
  } finally {
    await engine.removeContainer(created.Id, { force: true, volumes: true });
  }
}

/** The first thing wrong with a stored log of numbered lines, read a chunk at a time, or undefined when none is. */
async function storedLogProblem(path: string, lines: NumberedLines): Promise<string | undefined> {
  const check = new LineSequenceCheck(lines);
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: MiB })) check.push(chunk as Buffer);
  } catch (error) {
    return `reading ${path}: ${messageOf(error)}`;
  }
  return check.end();
}

/** The most task executions that ran at the same moment, from their start and end times. */
function mostAtOnce(tasks: TaskExecution[]): number {
  const edges = tasks.flatMap((execution) => [
    { at: execution.started, step: 1 },
    { at: execution.ended, step: -1 },
  ]);
  // An end and a start at the same millisecond did not overlap.
  edges.sort((a, b) => a.at - b.at || a.step - b.step);
  let running = 0;
  let most = 0;
  for (const edge of edges) {
    running += edge.step;
    most = Math.max(most, running);
  }
  return most;
}

/** The server's memory over a stretch of work, in MiB: RSS before and after, and the highest RSS in between. */
interface MemorySpan {
  start: number;
  end: number;
  peak: number;
  /**
   * RSS once a quarter, half and three quarters of the time had passed: memory that stops growing early does
   * not grow with the output.
   */
  quarters: number[];
}

const RSS_SAMPLE_MS = 100;

/** CPU seconds (user + system) spent over a stretch of work by the server and by this process. */
interface CpuSpan {
  server: number;
  bench: number;
}

/** Clock ticks a second in /proc/<pid>/stat: USER_HZ, 100 on every Linux architecture Node runs on. */
const USER_HZ = 100;

/** The server's CPU seconds so far, from /proc/<pid>/stat (utime and stime, fields 14 and 15). */
function serverCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after it are counted from its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
}

/**
 * Runs `work` with the server's peak RSS (the kernel's high-water mark) reset to its RSS at the start, and
 * counts the CPU time the server and this process (the followers, when there are any) spend meanwhile.
 */
async function withServerUsage<T>(
  work: () => Promise<T>,
): Promise<{ result: T; memory: MemorySpan; cpu: CpuSpan }> {
  const pid = made.server?.pid;
  if (pid === undefined)
    throw new BenchFailure(`the server ${made.server?.unexpectedExit ?? "is not running"}`);
  // proc(5): writing 5 to clear_refs resets the process's VmHWM to its current RSS.
  writeFileSync(`/proc/${pid}/clear_refs`, "5");
  const start = serverMemory().rss;
  const serverCpu = serverCpuSeconds(pid);
  const benchCpu = process.cpuUsage();
  const samples: number[] = [];
  const sampler = setInterval(() => {
    if (made.server?.pid !== undefined) samples.push(serverMemory().rss);
  }, RSS_SAMPLE_MS);
  let result: T;
  try {
    result = await work();
  } finally {
    clearInterval(sampler);
  }
  const { rss: end, peak } = serverMemory();
  const bench = process.cpuUsage(benchCpu);
  const quarters = [1, 2, 3].map((quarter) => samples[Math.floor((samples.length * quarter) / 4)] ?? start);
  return {
    result,
    memory: { start, end, peak, quarters },
    cpu: { server: serverCpuSeconds(pid) - serverCpu, bench: (bench.user + bench.system) / 1e6 },
  };
}

interface BigResult {
  alone: { ms: number; memory: MemorySpan; cpu: CpuSpan };
  followed: { run: FollowedRun; memory: MemorySpan; cpu: CpuSpan };
  dockerRun: number;
  logsEndpoint: number;
  /** Anything wrong with a stored log or with what a follower received, one description each. */
  problems: string[];
}

/**
 * The big log: one task writing BIG_LINES as fast as it can, once through `docker run`, once through Gofer
 * alone, once through Gofer with FOLLOWERS live followers checking every line, and once through the engine's
 * logs endpoint. Both stored logs are checked line by line.
 */
async function measureBig(client: GoferClient, completions: RunCompletions, api: Api): Promise<BigResult> {
  const { bytes } = BIG_LINES;
  const problems: string[] = [];
  const checkStored = async (what: string, runId: number) => {
    const problem = await storedLogProblem(storedLogPath(PIPELINES.big, runId, "write"), BIG_LINES);
    if (problem) problems.push(`${what}, stored log: ${problem}`);
  };
  say(`big log: ${(bytes / MiB).toFixed(1)} MiB of ${BIG_LINES.count} lines through docker run`);
  const dockerRun = await runDockerCli(BIG_LINES.script());
  say(`big log: docker run ${seconds(dockerRun)} s; gofer alone`);
  const alone = await withServerUsage(() => goferThroughput(client, completions, PIPELINES.big, bytes));
  await checkStored("gofer alone", alone.result.runId);
  say(`big log: gofer alone ${seconds(alone.result.ms)} s; gofer with ${FOLLOWERS} followers`);
  const followed = await withServerUsage(() =>
    goferFollowedThroughput(api, client, completions, PIPELINES.big, bytes, FOLLOWERS, BIG_LINES),
  );
  await checkStored(`gofer + ${FOLLOWERS} followers`, followed.result.runId);
  problems.push(...followed.result.problems);
  say(`big log: gofer + followers ${seconds(followed.result.ms)} s; the engine's logs endpoint`);
  const logsEndpoint = await readLogsEndpoint(BIG_LINES.script(), bytes);
  return {
    alone: { ms: alone.result.ms, memory: alone.memory, cpu: alone.cpu },
    followed: { run: followed.result, memory: followed.memory, cpu: followed.cpu },
    dockerRun,
    logsEndpoint,
    problems,
  };
}

function bigReport(big: BigResult): string {
  const { bytes } = BIG_LINES;
  const run = big.followed.run;
  const row = (label: string, ms: number) =>
    `  ${label.padEnd(28)} ${seconds(ms).padStart(9)} s ${megabytesPerSecond(bytes, ms).padStart(9)} MB/s\n`;
  const memory = (label: string, span: MemorySpan) =>
    `${label} ${span.start.toFixed(1)} MiB at the start, ${span.end.toFixed(1)} MiB at the end ` +
    `(${signed(span.end - span.start)} MiB), peak ${span.peak.toFixed(1)} MiB ` +
    `(${signed(span.peak - span.start)} MiB); ` +
    `at each quarter of the time ${span.quarters.map((rss) => rss.toFixed(0)).join(", ")} MiB`;
  const storedRate = bytes / 1e6 / (big.alone.ms / 1000);
  const lags = (kind: Received["kind"]) => {
    const values = run.followers
      .filter((received) => received.kind === kind)
      .map((received) => (received.endedAt ?? Number.NaN) - run.completedAt);
    return values.length === 0
      ? `no ${kind} followers`
      : `${values.length} over ${kind === "HTTP" ? "HTTP follow" : kind}, median ${milliseconds(median(values))}, ` +
          `last ${milliseconds(Math.max(...values))}`;
  };
  const started = run.completedAt - run.ms;
  const lastEnd = Math.max(...run.followers.map((received) => received.endedAt ?? Number.NaN));
  return (
    `\nbig log: ${(bytes / MiB).toFixed(1)} MiB of numbered ${BIG_LINES.lineBytes}-byte lines from one task, ` +
    `one run of each:\n` +
    row("gofer end to end (stored)", big.alone.ms) +
    row(`gofer + ${FOLLOWERS} log followers`, run.ms) +
    row("docker run > /dev/null", big.dockerRun) +
    row("engine logs endpoint", big.logsEndpoint) +
    `  stored ${storedRate.toFixed(1)} MB/s: target ≥ ${BIG_TARGET_MB_S} MB/s ` +
    `${storedRate >= BIG_TARGET_MB_S ? "met" : "NOT MET"}\n` +
    `  ratio gofer/docker-run ${(big.alone.ms / big.dockerRun).toFixed(2)}, ` +
    `gofer/logs-endpoint ${(big.alone.ms / big.logsEndpoint).toFixed(2)}, ` +
    `MB/s with ${FOLLOWERS} followers ÷ without ${(big.alone.ms / run.ms).toFixed(2)} (target ≥ 0.91)\n` +
    `  ${memory("server RSS, gofer alone:", big.alone.memory)}\n` +
    `  ${memory(`server RSS, with ${FOLLOWERS} followers:`, big.followed.memory)}\n` +
    `  followers' end after completed_run: ${lags("WebSocket")}; ${lags("HTTP")}\n` +
    `  followers received ${((FOLLOWERS * bytes) / MiB).toFixed(0)} MiB in all, ` +
    `${megabytesPerSecond(FOLLOWERS * bytes, lastEnd - started)} MB/s from POST run to the last one's end\n` +
    `  CPU seconds, gofer alone: server ${big.alone.cpu.server.toFixed(1)}; with ${FOLLOWERS} followers until ` +
    `the last one ended: server ${big.followed.cpu.server.toFixed(1)}, the followers (this process) ` +
    `${big.followed.cpu.bench.toFixed(1)}, on ${availableParallelism()} core(s)\n` +
    `big log, stored twice and followed ${FOLLOWERS} times, every line exactly once and in order: ` +
    `${big.problems.length === 0 ? "PASS" : "FAIL"}\n` +
    big.problems.map((problem) => `  ${problem}\n`).join("")
  );
}

async function measure(): Promise<boolean> {
  if ((await engine.inspectImage(IMAGE)) === null)
    throw new BenchFailure(`the task image ${IMAGE} is missing; build it with: npm run images`);
  const { client, completions, api } = await startServer();
  say(
    `${BYTES / MiB} MiB a run, ${ROUNDS} round(s), then ${CONCURRENT_TASKS} tasks × ` +
      `${(CONCURRENT_LINE_BYTES / MiB).toFixed(1)} MiB, then ${(BIG_LINES.bytes / MiB).toFixed(1)} MiB with ` +
      `${FOLLOWERS} followers; server pid ${made.server?.pid} at ${made.server?.url}, data in ${made.dataDir}`,
  );
  await deploy(client, PIPELINES.warmUp, [{ id: "write", script: throughputScript(WARM_UP_BYTES) }]);
  await deploy(client, PIPELINES.throughput, [{ id: "write", script: throughputScript(BYTES) }]);
  await deploy(
    client,
    PIPELINES.concurrent,
    Array.from({ length: CONCURRENT_TASKS }, (_, index) => {
      const id = concurrentTaskId(index);
      return { id, script: concurrentLines(id).script() };
    }),
  );
  await deploy(client, PIPELINES.big, [{ id: "write", script: BIG_LINES.script() }]);

  // One small pass of each path, so that no variant pays for cold caches or a first connection.
  await goferThroughput(client, completions, PIPELINES.warmUp, WARM_UP_BYTES);
  await goferFollowedThroughput(api, client, completions, PIPELINES.warmUp, WARM_UP_BYTES, 2);
  await runDockerCli(throughputScript(WARM_UP_BYTES));
  await readLogsEndpoint(throughputScript(WARM_UP_BYTES), WARM_UP_BYTES);

  const times = {
    gofer: [] as number[],
    goferFollowed: [] as number[],
    dockerRun: [] as number[],
    logsEndpoint: [] as number[],
  };
  /** Per round, ms from `completed_run` to the end of each follower's stream. */
  const lags = { webSocket: [] as number[], http: [] as number[] };
  /** Bytes each stored log held beyond what its task wrote: 0, or 1 for a completed last line. */
  const extras = new Set<number>();
  const before = serverMemory();
  /** After each Gofer variant's last round: capture alone, and capture with two followers reading along. */
  let after = before;
  let afterFollowed = before;
  const variants = {
    gofer: async (round: number) => {
      const { ms, extra } = await goferThroughput(client, completions, PIPELINES.throughput, BYTES);
      extras.add(extra);
      if (round === ROUNDS - 1) after = serverMemory();
      return ms;
    },
    goferFollowed: async (round: number) => {
      const { ms, extra, completedAt, followers, problems } = await goferFollowedThroughput(
        api,
        client,
        completions,
        PIPELINES.throughput,
        BYTES,
        2,
      );
      if (problems.length > 0) throw new BenchFailure(problems.join("; "));
      extras.add(extra);
      const [webSocket, http] = followers as [Received, Received];
      lags.webSocket.push((webSocket.endedAt ?? Number.NaN) - completedAt);
      lags.http.push((http.endedAt ?? Number.NaN) - completedAt);
      if (round === ROUNDS - 1) afterFollowed = serverMemory();
      return ms;
    },
    dockerRun: () => runDockerCli(throughputScript(BYTES)),
    logsEndpoint: () => readLogsEndpoint(throughputScript(BYTES), BYTES),
  };
  for (let round = 0; round < ROUNDS; round += 1) {
    const order = (["gofer", "goferFollowed", "dockerRun", "logsEndpoint"] as const).slice();
    if (round % 2 === 1) order.reverse();
    for (const variant of order) times[variant].push(await variants[variant](round));
    say(
      `round ${round + 1}/${ROUNDS} (${order.join(", ")}): gofer ${seconds(times.gofer[round] ?? 0)} s, ` +
        `gofer + followers ${seconds(times.goferFollowed[round] ?? 0)} s (lag: WebSocket ` +
        `${milliseconds(lags.webSocket[round] ?? 0)}, HTTP ${milliseconds(lags.http[round] ?? 0)}), ` +
        `docker run ${seconds(times.dockerRun[round] ?? 0)} s, ` +
        `logs endpoint ${seconds(times.logsEndpoint[round] ?? 0)} s`,
    );
  }

  say(`concurrent round: ${CONCURRENT_TASKS} tasks in one run`);
  const concurrent = await goferRun(client, completions, PIPELINES.concurrent);
  const afterConcurrent = serverMemory();
  const problems: string[] = [];
  for (let index = 0; index < CONCURRENT_TASKS; index += 1) {
    const taskId = concurrentTaskId(index);
    const problem = await storedLogProblem(
      storedLogPath(PIPELINES.concurrent, concurrent.runId, taskId),
      concurrentLines(taskId),
    );
    if (problem) problems.push(`${taskId}: ${problem}`);
  }

  const big = await measureBig(client, completions, api);

  const row = (label: string, values: number[]) =>
    `  ${label.padEnd(24)} ${seconds(median(values)).padStart(9)} s ${megabytesPerSecond(BYTES, median(values)).padStart(9)} MB/s` +
    `   (rounds: ${values.map(seconds).join(", ")} s)\n`;
  const stored =
    extras.size > 1
      ? `BYTES (${BYTES}) in some rounds, BYTES+1 in others`
      : extras.has(0)
        ? `exactly BYTES (${BYTES}) in every round`
        : `BYTES+1 (${BYTES + 1}) in every round: the server completed a last partial line`;
  const concurrentBytes = CONCURRENT_TASKS * CONCURRENT_LINE_BYTES;
  process.stdout.write(
    `\n${BYTES / MiB} MiB of task output a run, median of ${ROUNDS} round(s):\n` +
      row("gofer end to end", times.gofer) +
      row("gofer + 2 log followers", times.goferFollowed) +
      row("docker run > /dev/null", times.dockerRun) +
      row("engine logs endpoint", times.logsEndpoint) +
      `  ratio gofer/docker-run ${(median(times.gofer) / median(times.dockerRun)).toFixed(2)}, ` +
      `gofer/logs-endpoint ${(median(times.gofer) / median(times.logsEndpoint)).toFixed(2)}, ` +
      `gofer+followers/gofer ${(median(times.goferFollowed) / median(times.gofer)).toFixed(2)} (target ≤ 1.10)\n` +
      `  followers' lag after completed_run, median: WebSocket ${milliseconds(median(lags.webSocket))}, ` +
      `HTTP follow ${milliseconds(median(lags.http))}   (rounds: WebSocket ` +
      `${lags.webSocket.map(milliseconds).join(", ")}; HTTP ${lags.http.map(milliseconds).join(", ")}); ` +
      `each received the whole log in every round` +
      (refusedAttaches > 0
        ? `; ${refusedAttaches} attach(es) refused with 404/409 and tried again, warm-up included`
        : "") +
      `\n` +
      `  stored log size: ${stored}\n` +
      (shortStreams.length > 0
        ? `  engine logs endpoint: ${shortStreams.length} followed stream(s) ended early and were measured again\n`
        : "") +
      `  server RSS: ${before.rss.toFixed(1)} MiB after the ${WARM_UP_BYTES / MiB} MiB warm-up runs, ` +
      `${after.rss.toFixed(1)} MiB after the last Gofer run (${signed(after.rss - before.rss)} MiB), ` +
      `${afterFollowed.rss.toFixed(1)} MiB after the last one with followers ` +
      `(${signed(afterFollowed.rss - before.rss)} MiB)\n` +
      `concurrent: ${CONCURRENT_TASKS} tasks × ${(CONCURRENT_LINE_BYTES / MiB).toFixed(1)} MiB ` +
      `in one run (at most ${mostAtOnce(concurrent.tasks)} running at once): ${seconds(concurrent.ms)} s, ` +
      `${megabytesPerSecond(concurrentBytes, concurrent.ms)} MB/s total; server RSS after it ` +
      `${afterConcurrent.rss.toFixed(1)} MiB, peak over the benchmark until then ` +
      `${afterConcurrent.peak.toFixed(1)} MiB\n` +
      `concurrent logs, every line once and in order: ${problems.length === 0 ? "PASS" : "FAIL"}\n`,
  );
  for (const problem of problems) process.stdout.write(`  ${problem}\n`);
  process.stdout.write(bigReport(big));
  return problems.length === 0 && big.problems.length === 0;
}

let cleaning: Promise<string[]> | undefined;

/** Stops the server, then removes its containers, this benchmark's, and the data dir; returns what went wrong. */
function cleanUp(): Promise<string[]> {
  cleaning ??= (async () => {
    const notes: string[] = [];
    made.events?.close();
    if (made.server) {
      const stopped = await made.server.terminate(20_000);
      if (!stopped.clean) notes.push(`server shutdown: ${stopped.exit}`);
    }
    const labels: Array<Record<string, string>> = [{ "gofer.bench": BENCH_LABEL }];
    if (made.instanceId) labels.push({ "gofer.instance": made.instanceId });
    for (const label of labels) {
      try {
        for (const container of await engine.listContainers({ all: true, labels: label }))
          await engine.removeContainer(container.Id, { force: true, volumes: true });
      } catch (error) {
        notes.push(`removing containers labelled ${JSON.stringify(label)}: ${messageOf(error)}`);
      }
    }
    if (made.dataDir) await rm(made.dataDir, { recursive: true, force: true });
    engine.close();
    return notes;
  })();
  return cleaning;
}

let finishing = false;

async function finish(code: number, failure?: string): Promise<void> {
  if (finishing) return;
  finishing = true;
  clearTimeout(deadline);
  // Cleanup waits on the engine and the server; neither may hold the benchmark past its bound.
  setTimeout(() => {
    process.stderr.write("logs: cleanup took over a minute; killing the server\n");
    process.exit(code === 0 ? 1 : code);
  }, 60_000).unref();
  if (failure !== undefined) {
    process.stdout.write(`\nlogs bench: FAIL: ${failure}\n`);
    if (made.server) process.stdout.write(`server log (last lines):\n${made.server.logTail(15)}\n`);
  }
  for (const note of await cleanUp()) process.stdout.write(`cleanup: ${note}\n`);
  process.exit(code);
}

const deadline = setTimeout(
  () => void finish(1, `the deadline of ${DEADLINE_MS / 1000} s passed (BENCH_DEADLINE_S)`),
  DEADLINE_MS,
);
process.on("exit", () => made.server?.killNow());
for (const signal of ["SIGINT", "SIGTERM"] as const)
  process.on(signal, () => {
    if (finishing) process.exit(130);
    void finish(130, `interrupted by ${signal}`);
  });

try {
  const passed = await measure();
  await finish(passed ? 0 : 1);
} catch (error) {
  await finish(1, error instanceof BenchFailure ? error.message : ((error as Error).stack ?? String(error)));
}
