/**
 * A task's log as line objects (`format=lines`): each line with the stream it came from and when it arrived,
 * over HTTP, follow and WebSocket, across a restart mid-task, for an earlier attempt and with a masked secret;
 * and the v0 plain answers exactly as before.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { delegate } from "../src/scheduler/delegating-scheduler.ts";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForLogLines,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { assertEnvelopeBody, collectSocket, refusedSocket } from "./support/websocket.ts";

const WAIT_MS = 60_000;

/** Four lines, stdout and stderr in turn, with pauses so their order is certain. */
const INTERLEAVED =
  'echo "out 1"; sleep 0.3; echo "err 1" >&2; sleep 0.3; echo "out 2"; sleep 0.3; echo "err 2" >&2';
const INTERLEAVED_TEXT = "out 1\nerr 1\nout 2\nerr 2\n";

interface LineObject {
  line: string;
  stream?: string;
  time?: number;
}

const logsPath = (pipeline: string, run: number, task: string) =>
  `/api/namespaces/default/pipelines/${pipeline}/runs/${run}/tasks/${task}/logs`;

function parseLines(text: string): LineObject[] {
  assert.ok(text === "" || text.endsWith("\n"), "NDJSON ends with a newline");
  return text === ""
    ? []
    : text
        .replace(/\n$/, "")
        .split("\n")
        .map((line) => JSON.parse(line) as LineObject);
}

/** Each line came from the stream its text names ("out …" or "err …"), in order of time, within `window`. */
function assertStreamsByText(lines: LineObject[], window: { from: number; to: number }): void {
  let previous = 0;
  for (const { line, stream, time } of lines) {
    assert.equal(stream, line.startsWith("err") ? "stderr" : "stdout", `stream of ${JSON.stringify(line)}`);
    assert.equal(typeof time, "number", `time of ${JSON.stringify(line)}`);
    assert.ok((time as number) >= previous, `times never go back (${line})`);
    assert.ok((time as number) >= window.from && (time as number) <= window.to, `time of ${line} in the run`);
    previous = time as number;
  }
}

describe("task logs as line objects, with their streams and times", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("answers line objects over HTTP, follow and WebSocket, and v0's plain text unchanged without format", async () => {
    await deployPipeline(server, pipelineConfig("streams", [shTask("mixed", INTERLEAVED)]));
    const startedAt = Date.now();
    const runId = await startRun(server, "streams");
    const path = logsPath("streams", runId, "mixed");
    await waitForTask(server, "streams", runId, "mixed", (task) => task.state === "running", WAIT_MS);
    const followed = server.api("GET", `${path}?follow=true&format=lines`);
    const socket = collectSocket(server, `${path}?format=lines`, WAIT_MS);
    const plainSocket = collectSocket(server, path, WAIT_MS);
    const { tasks } = await waitForRun(server, "streams", runId, WAIT_MS);
    assert.equal(tasks.mixed.status, "successful");
    const window = { from: startedAt, to: Date.now() };

    const expected = ["out 1", "err 1", "out 2", "err 2"];
    const whole = await server.api("GET", `${path}?format=lines`);
    assert.equal(whole.status, 200, whole.text);
    assert.match(whole.headers.get("content-type") ?? "", /^application\/x-ndjson/);
    const lines = parseLines(whole.text);
    assert.deepEqual(
      lines.map((line) => line.line),
      expected,
    );
    assertStreamsByText(lines, window);
    assert.deepEqual(
      lines.map((line) => Object.keys(line)),
      expected.map(() => ["line", "stream", "time"]),
    );
    // The pauses between the lines show in their times.
    const times = lines.map((line) => line.time as number);
    assert.ok((times[3] as number) - (times[0] as number) >= 600, `times ${times.join(", ")}`);

    const follow = await followed;
    assert.equal(follow.status, 200);
    assert.deepEqual(parseLines(follow.text), lines);

    const frames = (await socket).frames.map((frame) => JSON.parse(frame) as LineObject);
    assert.deepEqual(frames, lines);

    // v0's answers, with no format or format=text, are the log's bytes as they always were.
    const plain = await server.api("GET", path);
    assert.equal(plain.text, INTERLEAVED_TEXT);
    assert.match(plain.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal((await server.api("GET", `${path}?format=text`)).text, INTERLEAVED_TEXT);
    assert.equal((await server.api("GET", `${path}?follow=true`)).text, INTERLEAVED_TEXT);
    assert.deepEqual((await plainSocket).frames, expected);
    const stored = await readFile(`${server.dataDir}/logs/default/streams/${runId}/mixed.log`, "utf8");
    assert.equal(stored, INTERLEAVED_TEXT);
  });

  it("cuts a line object at 1 MiB and says by how much, while the plain log keeps the whole line", async () => {
    const script = "head -c 3145728 /dev/zero | tr '\\0' a; echo; echo after";
    await deployPipeline(server, pipelineConfig("long-line", [shTask("wide", script)]));
    const runId = await startRun(server, "long-line");
    const { tasks } = await waitForRun(server, "long-line", runId, WAIT_MS);
    assert.equal(tasks.wide.status, "successful");
    const path = logsPath("long-line", runId, "wide");
    const lines = parseLines((await server.api("GET", `${path}?format=lines`)).text) as (LineObject & {
      truncated?: number;
    })[];
    assert.equal(lines.length, 2);
    assert.equal(lines[0]?.line.length, 1024 * 1024);
    assert.equal(lines[0]?.truncated, 3 * 1024 * 1024 - 1024 * 1024);
    assert.equal(lines[0]?.stream, "stdout");
    assert.deepEqual([lines[1]?.line, lines[1]?.stream, lines[1]?.truncated], ["after", "stdout", undefined]);
    const plain = await server.api("GET", path);
    assert.equal(plain.text.length, 3 * 1024 * 1024 + "\nafter\n".length);
  });

  it("refuses an unknown format with the v0 error envelope, over HTTP and WebSocket", async () => {
    await deployPipeline(server, pipelineConfig("bad-format", [shTask("quiet", "echo hi")]));
    const runId = await startRun(server, "bad-format");
    await waitForRun(server, "bad-format", runId, WAIT_MS);
    const refused = await server.api("GET", `${logsPath("bad-format", runId, "quiet")}?format=json`);
    assert.equal(refused.status, 400);
    assertEnvelopeBody(refused.text, refused.json.error_code);
    assert.match(refused.text, /format/);
    const socketRefused = await refusedSocket(
      server,
      `${logsPath("bad-format", runId, "quiet")}?format=html`,
      WAIT_MS,
    );
    assert.equal(socketRefused.status, 400);
    assertEnvelopeBody(socketRefused.body, refused.json.error_code);
  });

  it("keeps each line's stream across a restart of the server mid-task, with no line lost or doubled", async () => {
    const script =
      'i=1; while [ $i -le 30 ]; do echo "out $i"; sleep 0.05; echo "err $i" >&2; sleep 0.05; i=$((i+1)); done';
    await deployPipeline(server, pipelineConfig("restarted", [shTask("count", script)]));
    const startedAt = Date.now();
    const runId = await startRun(server, "restarted");
    await waitForLogLines(server, "restarted", runId, "count", 6);
    await server.restart(async () => {
      await new Promise((resolve) => setTimeout(resolve, 1000));
    });
    const { tasks } = await waitForRun(server, "restarted", runId, WAIT_MS);
    assert.equal(tasks.count.status, "successful");
    const response = await server.api("GET", `${logsPath("restarted", runId, "count")}?format=lines`);
    const lines = parseLines(response.text);
    // Each stream's lines once and in order. Between the two streams the engine's own order can swap lines
    // 50 ms apart on a busy machine (it copies stdout and stderr separately), so that order is not asserted.
    const count = Array.from({ length: 30 }, (_, index) => index + 1);
    const of = (stream: string) => lines.map((line) => line.line).filter((line) => line.startsWith(stream));
    assert.deepEqual(
      of("out"),
      count.map((n) => `out ${n}`),
    );
    assert.deepEqual(
      of("err"),
      count.map((n) => `err ${n}`),
    );
    assert.equal(lines.length, 60);
    for (const { line, stream } of lines)
      assert.equal(stream, line.startsWith("err") ? "stderr" : "stdout", `stream of ${JSON.stringify(line)}`);
    const times = lines.map((line) => line.time as number);
    const window = { from: startedAt, to: Date.now() };
    assert.ok(
      times.every((time) => time >= window.from && time <= window.to),
      `times ${times.join(", ")} within the run`,
    );
  });

  it("serves an earlier attempt's lines with their streams, masks a secret, and deletes the records with the log", async () => {
    const script =
      'echo "attempt $GOFER_TASK_ATTEMPT"; sleep 0.2; echo "token=$TOKEN" >&2; sleep 0.2; ' +
      '[ "$GOFER_TASK_ATTEMPT" = 2 ] || exit 3; echo "done"';
    await deployPipeline(
      server,
      pipelineConfig("retried", [
        {
          ...shTask("flaky", script, { variables: { TOKEN: "pipeline_secret{{token}}" } }),
          retries: { limit: 2, delay: "100ms" },
        },
      ]),
    );
    const secret = "s3cr3t-value-for-lines";
    const put = await server.api("POST", "/api/namespaces/default/pipelines/retried/secrets", {
      key: "token",
      content: secret,
      force: false,
    });
    assert.equal(put.status, 201, put.text);
    const startedAt = Date.now();
    const runId = await startRun(server, "retried");
    const { tasks } = await waitForRun(server, "retried", runId, WAIT_MS);
    assert.equal(tasks.flaky.status, "successful");
    assert.equal(tasks.flaky.attempt, 2);
    const window = { from: startedAt, to: Date.now() };

    const taskPath = "/api/namespaces/default/pipelines/retried/runs";
    const first = await server.api("GET", `${taskPath}/${runId}/tasks/flaky/attempts/1/logs?format=lines`);
    assert.equal(first.status, 200, first.text);
    const firstLines = parseLines(first.text);
    assert.equal(first.text.includes(secret), false);
    assert.deepEqual(
      firstLines.map(({ line, stream }) => ({ line, stream })),
      [
        { line: "attempt 1", stream: "stdout" },
        { line: "token=[masked]", stream: "stderr" },
      ],
    );
    const latest = parseLines(
      (await server.api("GET", `${logsPath("retried", runId, "flaky")}?format=lines`)).text,
    );
    assert.deepEqual(
      latest.map(({ line, stream }) => ({ line, stream })),
      [
        { line: "attempt 2", stream: "stdout" },
        { line: "token=[masked]", stream: "stderr" },
        { line: "done", stream: "stdout" },
      ],
    );
    for (const line of [...firstLines, ...latest]) {
      assert.ok(line.time !== undefined && line.time >= window.from && line.time <= window.to);
    }

    const folder = `${server.dataDir}/logs/default/retried/${runId}`;
    assert.ok(existsSync(`${folder}/flaky.log.streams`));
    assert.ok(existsSync(`${folder}/flaky.attempt-2.log.streams`));
    assert.equal((await server.api("DELETE", logsPath("retried", runId, "flaky"))).status, 204);
    assert.equal(existsSync(`${folder}/flaky.log.streams`), false);
    assert.equal(existsSync(`${folder}/flaky.attempt-2.log.streams`), false);
  });
});

describe("task logs from a backend that merges stdout and stderr", () => {
  let server: TestServer;

  before(async () => {
    // The real engine, announced as merging its streams as Kubernetes' pod logs do.
    server = await startTestServer(
      {},
      { wrapScheduler: (docker) => delegate(docker, { mergesStreams: true }) },
    );
  });
  after(async () => {
    await server.stop();
  });

  it("records no stream or time rather than a wrong one, and the plain log stays whole", async () => {
    await deployPipeline(server, pipelineConfig("merged", [shTask("mixed", INTERLEAVED)]));
    const runId = await startRun(server, "merged");
    const { tasks } = await waitForRun(server, "merged", runId, WAIT_MS);
    assert.equal(tasks.mixed.status, "successful");
    const path = logsPath("merged", runId, "mixed");
    const lines = parseLines((await server.api("GET", `${path}?format=lines`)).text);
    assert.deepEqual(lines, [{ line: "out 1" }, { line: "err 1" }, { line: "out 2" }, { line: "err 2" }]);
    assert.equal((await server.api("GET", path)).text, INTERLEAVED_TEXT);
    assert.equal(existsSync(`${server.dataDir}/logs/default/merged/${runId}/mixed.log.streams`), false);
  });
});
