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
 *     its "\n"; HTTP: the body) and ended within FOLLOWER_GRACE_MS of `completed_run`. A follower's lag is the
 *     time from `completed_run` to the end of its stream (negative when it ended first);
 *   - docker run: `docker run --rm … > /dev/null`, the engine's own attached delivery, CLI included;
 *   - logs endpoint: the container created through the Engine API, then timed from its start to the end of its
 *     followed, timestamped log stream, whose frames are counted (they must hold BYTES bytes of output) and
 *     dropped; a stream the engine ends early is reported and measured again.
 * Prints each variant's median seconds and MB/s (10^6 bytes a second), the ratios gofer/docker-run,
 * gofer/logs-endpoint and gofer+followers/gofer (target: at most 1.10, i.e. followers do not slow the capture),
 * each follower's median lag, and the server's RSS after the warm-up runs and after the last run of each Gofer
 * variant (followers read the log in buffers of their own, so their memory shows apart).
 *
 * Then one concurrent round: one run of 20 parallel tasks each printing numbered 100-byte lines (50 MiB a task);
 * every stored log must hold each of its task's lines exactly once, in order, and nothing else. Prints the total
 * MB/s and PASS or FAIL.
 *
 * Usage: `npm run bench -- logs` (after `./test.sh` or `./start.sh` has prepared the engine and image).
 * Environment: BENCH_LOG_MB (MiB a run, 200), BENCH_ROUNDS (3), BENCH_CONCURRENT_MB (MiB a task, 50),
 * BENCH_DEADLINE_S (900). Exits 1 on a failed task, a short or wrong log (stored or followed), a follower that
 * could not attach or did not end, or the deadline, 2 on a bad setting;
 * the server, its data and every container it or this benchmark made are removed in every case.
 */
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, createReadStream, openSync, readFileSync } from "node:fs";
import { mkdtemp, realpath, rm, stat } from "node:fs/promises";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { setTimeout as sleep } from "node:timers/promises";
import { pipeline, task } from "@gofer/sdk";
import { GoferClient, type TaskExecution } from "@gofer/sdk/client";
import { WebSocket } from "ws";
import { EngineClient } from "../packages/gofer/src/scheduler/docker/engine-client.ts";
import { freePort } from "../packages/gofer/test/support/free-port.ts";
import { ServerProcess } from "../scripts/chaos/server-process.ts";

const MiB = 1024 * 1024;
const NS = "default";
const ROOT = resolve(import.meta.dirname, "..");
const IMAGE = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";

function setting(name: string, fallback: number): number {
  const value = Number(process.env[name] ?? fallback);
  if (!(value > 0)) {
    process.stderr.write(`${name} must be a positive number, not "${process.env[name]}"\n`);
    process.exit(2);
  }
  return value;
}

const BYTES = Math.round(setting("BENCH_LOG_MB", 200) * MiB);
const ROUNDS = Math.round(setting("BENCH_ROUNDS", 3));
const CONCURRENT_BYTES = Math.round(setting("BENCH_CONCURRENT_MB", 50) * MiB);
const DEADLINE_MS = setting("BENCH_DEADLINE_S", 900) * 1000;
const CONCURRENT_TASKS = 20;
/**
 * Large enough that the server's heap and allocator reach their working size before RSS is first read: what
 * is measured is whether memory grows with the volume of output, not the first run's one-time growth.
 */
const WARM_UP_BYTES = Math.min(64 * MiB, BYTES);

const LINE = "gofer log throughput line 0123456789 abcdefghijklmnopqrstuvwxyz";
const throughputScript = (bytes: number) => `yes '${LINE}' | head -c ${bytes}`;

/**
 * Lines `<k, zero-padded> <task id> <letters>`, 100 bytes with their "\n", so that a line out of place or from
 * another task is told apart. busybox `seq | sed` writes 50 MiB of them in about 0.4 s on 2 cores: the
 * generator stays far below what is measured.
 */
const NUMBERED_LINE_BYTES = 100;
const NUMBERED_LINES = Math.floor(CONCURRENT_BYTES / NUMBERED_LINE_BYTES);
const NUMBER_WIDTH = String(NUMBERED_LINES).length;
const concurrentTaskId = (index: number) => `t${String(index).padStart(2, "0")}`;
const padding = (taskId: string) =>
  "abcdefghijklmnopqrstuvwxyz".repeat(4).slice(0, NUMBERED_LINE_BYTES - NUMBER_WIDTH - taskId.length - 3);
const numberedScript = (taskId: string) =>
  `seq -w 1 ${NUMBERED_LINES} | sed 's/$/ ${taskId} ${padding(taskId)}/'`;
const numberedLine = (k: number, taskId: string) =>
  `${String(k).padStart(NUMBER_WIDTH, "0")} ${taskId} ${padding(taskId)}`;

const PIPELINES = { warmUp: "logs-warm-up", throughput: "logs-throughput", concurrent: "logs-concurrent" };

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

/** What one live follower of a task's log has received so far, and when its stream ended. */
interface Received {
  bytes: number;
  endedAt?: number;
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
/** Both followers end with the task; any longer after `completed_run` is a follower left hanging, not a lag. */
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

/**
 * One run of the one-task pipeline with both followers attached to its task's log once POST run has returned.
 * The run is timed as in `goferThroughput`; the followers only load the server while it captures.
 */
async function goferFollowedThroughput(
  api: Api,
  client: GoferClient,
  completions: RunCompletions,
  pipelineId: string,
  bytes: number,
): Promise<{ ms: number; extra: number; lag: { webSocket: number; http: number } }> {
  const webSocket: Received = { bytes: 0 };
  const http: Received = { bytes: 0 };
  let followed: Promise<unknown> = Promise.resolve();
  const run = await goferThroughput(client, completions, pipelineId, bytes, (runId) => {
    const url = `${api.url}/api/namespaces/${NS}/pipelines/${pipelineId}/runs/${runId}/tasks/write/logs`;
    followed = Promise.all([
      attachWithRetries(
        "the WebSocket follower",
        () => followOverWebSocket(url.replace(/^http/, "ws"), api.token, webSocket),
        webSocket,
      ),
      attachWithRetries(
        "the HTTP follower",
        () => followOverHttp(`${url}?follow=true`, api.token, http),
        http,
      ),
    ]);
    // Awaited once the run is complete; a follower failing sooner must not count as an unhandled rejection.
    followed.catch(() => undefined);
  });
  const stored = bytes + run.extra;
  const got = () =>
    `the WebSocket follower received ${webSocket.bytes} bytes and the HTTP follower ${http.bytes}; ` +
    `the stored log holds ${stored}`;
  const hanging = await Promise.race([
    followed.then(() => false),
    sleep(FOLLOWER_GRACE_MS, true, { ref: false }),
  ]);
  if (hanging)
    throw new BenchFailure(`run ${run.runId}: ${FOLLOWER_GRACE_MS / 1000} s after completed_run, ${got()}`);
  if (webSocket.bytes !== stored || http.bytes !== stored)
    throw new BenchFailure(`run ${run.runId}: ${got()}`);
  return {
    ms: run.ms,
    extra: run.extra,
    lag: {
      webSocket: (webSocket.endedAt ?? Number.NaN) - run.completedAt,
      http: (http.endedAt ?? Number.NaN) - run.completedAt,
    },
  };
}

function runDockerCli(bytes: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const devNull = openSync("/dev/null", "w");
    const start = performance.now();
    const child = spawn(
      "docker",
      ["run", "--rm", "--network", "host", "--label", `gofer.bench=${BENCH_LABEL}`, IMAGE, "sh", "-c"].concat(
        throughputScript(bytes),
      ),
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
async function readLogsEndpoint(bytes: number): Promise<number> {
  for (let attempt = 1; ; attempt += 1) {
    const { ms, output } = await followLogsOnce(bytes);
    if (output === bytes) return ms;
    const note = `the engine's followed log stream ended after ${output} of ${bytes} bytes`;
    if (output > bytes || attempt === LOGS_ENDPOINT_ATTEMPTS)
      throw new BenchFailure(output > bytes ? note : `${note}, ${attempt} times in a row`);
    shortStreams.push(note);
    say(`${note}; measuring again`);
  }
}

async function followLogsOnce(bytes: number): Promise<{ ms: number; output: number }> {
  containers += 1;
  const created = await engine.createContainer(`gofer-bench-${BENCH_LABEL}-${containers}`, {
    Image: IMAGE,
    Cmd: ["sh", "-c", throughputScript(bytes)],
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

/** The first thing wrong with a concurrent task's stored log, read a chunk at a time, or undefined when none is. */
async function numberedLogProblem(path: string, taskId: string): Promise<string | undefined> {
  let next = 1;
  let pending = "";
  const show = (line: string) => JSON.stringify(line.length > 40 ? `${line.slice(0, 40)}…` : line);
  try {
    for await (const chunk of createReadStream(path, { encoding: "latin1", highWaterMark: MiB })) {
      const lines = (pending + chunk).split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) {
        if (next > NUMBERED_LINES) return `an extra line after line ${NUMBERED_LINES}: ${show(line)}`;
        const expected = numberedLine(next, taskId);
        if (line !== expected) return `line ${next} is ${show(line)}, expected ${show(expected)}`;
        next += 1;
      }
    }
  } catch (error) {
    return `reading ${path}: ${messageOf(error)}`;
  }
  if (pending !== "") return `ends with a partial line ${show(pending)}`;
  if (next - 1 !== NUMBERED_LINES) return `holds ${next - 1} lines, expected ${NUMBERED_LINES}`;
  return undefined;
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

async function measure(): Promise<boolean> {
  if ((await engine.inspectImage(IMAGE)) === null)
    throw new BenchFailure(`the task image ${IMAGE} is missing; build it with: npm run images`);
  const { client, completions, api } = await startServer();
  say(
    `${BYTES / MiB} MiB a run, ${ROUNDS} round(s), then ${CONCURRENT_TASKS} tasks × ` +
      `${((NUMBERED_LINES * NUMBERED_LINE_BYTES) / MiB).toFixed(1)} MiB; server pid ${made.server?.pid} at ` +
      `${made.server?.url}, data in ${made.dataDir}`,
  );
  await deploy(client, PIPELINES.warmUp, [{ id: "write", script: throughputScript(WARM_UP_BYTES) }]);
  await deploy(client, PIPELINES.throughput, [{ id: "write", script: throughputScript(BYTES) }]);
  await deploy(
    client,
    PIPELINES.concurrent,
    Array.from({ length: CONCURRENT_TASKS }, (_, index) => {
      const id = concurrentTaskId(index);
      return { id, script: numberedScript(id) };
    }),
  );

  // One small pass of each path, so that no variant pays for cold caches or a first connection.
  await goferThroughput(client, completions, PIPELINES.warmUp, WARM_UP_BYTES);
  await goferFollowedThroughput(api, client, completions, PIPELINES.warmUp, WARM_UP_BYTES);
  await runDockerCli(WARM_UP_BYTES);
  await readLogsEndpoint(WARM_UP_BYTES);

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
      const { ms, extra, lag } = await goferFollowedThroughput(
        api,
        client,
        completions,
        PIPELINES.throughput,
        BYTES,
      );
      extras.add(extra);
      lags.webSocket.push(lag.webSocket);
      lags.http.push(lag.http);
      if (round === ROUNDS - 1) afterFollowed = serverMemory();
      return ms;
    },
    dockerRun: () => runDockerCli(BYTES),
    logsEndpoint: () => readLogsEndpoint(BYTES),
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
    const problem = await numberedLogProblem(
      storedLogPath(PIPELINES.concurrent, concurrent.runId, taskId),
      taskId,
    );
    if (problem) problems.push(`${taskId}: ${problem}`);
  }

  const row = (label: string, values: number[]) =>
    `  ${label.padEnd(24)} ${seconds(median(values)).padStart(9)} s ${megabytesPerSecond(BYTES, median(values)).padStart(9)} MB/s` +
    `   (rounds: ${values.map(seconds).join(", ")} s)\n`;
  const stored =
    extras.size > 1
      ? `BYTES (${BYTES}) in some rounds, BYTES+1 in others`
      : extras.has(0)
        ? `exactly BYTES (${BYTES}) in every round`
        : `BYTES+1 (${BYTES + 1}) in every round: the server completed a last partial line`;
  const concurrentBytes = CONCURRENT_TASKS * NUMBERED_LINES * NUMBERED_LINE_BYTES;
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
      `concurrent: ${CONCURRENT_TASKS} tasks × ${((NUMBERED_LINES * NUMBERED_LINE_BYTES) / MiB).toFixed(1)} MiB ` +
      `in one run (at most ${mostAtOnce(concurrent.tasks)} running at once): ${seconds(concurrent.ms)} s, ` +
      `${megabytesPerSecond(concurrentBytes, concurrent.ms)} MB/s total; server RSS after it ` +
      `${afterConcurrent.rss.toFixed(1)} MiB, peak over the benchmark ${afterConcurrent.peak.toFixed(1)} MiB\n` +
      `concurrent logs, every line once and in order: ${problems.length === 0 ? "PASS" : "FAIL"}\n`,
  );
  for (const problem of problems) process.stdout.write(`  ${problem}\n`);
  return problems.length === 0;
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
