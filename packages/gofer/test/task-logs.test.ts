import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { Agent, get as httpGet } from "node:http";
import type { Socket } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  deployPipeline,
  pipelineConfig,
  shTask,
  startRun,
  waitForRun,
  waitForTask,
} from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { assertEnvelopeBody, collectSocket, refusedSocket, socketHeaders } from "./support/websocket.ts";

const WAIT_MS = 20_000;

/** A GET over `agent` (so the connection can be reused), resolving with the body. */
function plainGet(server: TestServer, agent: Agent, path: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const request = httpGet(
      `${server.url}${path}`,
      { agent, headers: socketHeaders(server), signal: AbortSignal.timeout(WAIT_MS) },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
        response.on("error", reject);
      },
    );
    request.on("error", reject);
  });
}

/** Reads a streamed plain-text body, noting when each complete line arrived. */
async function readStreamedLines(
  response: Response,
): Promise<{ lines: string[]; arrivals: number[]; endedAt: number }> {
  assert.ok(response.body, "response has no body");
  const decoder = new TextDecoder();
  const lines: string[] = [];
  const arrivals: number[] = [];
  let pending = "";
  for await (const chunk of response.body) {
    pending += decoder.decode(chunk, { stream: true });
    const parts = pending.split("\n");
    pending = parts.pop() ?? "";
    for (const line of parts) {
      lines.push(line);
      arrivals.push(Date.now());
    }
  }
  pending += decoder.decode();
  assert.equal(pending, "", "the streamed body ended inside a line");
  return { lines, arrivals, endedAt: Date.now() };
}

describe("task logs on a real engine", () => {
  let server: TestServer;
  const logsPath = (pipeline: string, run: number, task: string) =>
    `/api/namespaces/default/pipelines/${pipeline}/runs/${run}/tasks/${task}/logs`;

  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it("serves 10,000 lines in order, as plain text and as one WebSocket frame per line", async () => {
    await deployPipeline(server, pipelineConfig("numbered", [shTask("count", "seq 1 10000")]));
    const runId = await startRun(server, "numbered");
    const { tasks } = await waitForRun(server, "numbered", runId, WAIT_MS);
    assert.equal(tasks.count.status, "successful");
    const expected = Array.from({ length: 10_000 }, (_, index) => String(index + 1));

    const plain = await server.api("GET", logsPath("numbered", runId, "count"));
    assert.equal(plain.status, 200);
    assert.match(plain.headers.get("content-type") ?? "", /^text\/plain/);
    assert.equal(plain.text, `${expected.join("\n")}\n`);

    const socket = await collectSocket(server, logsPath("numbered", runId, "count"), WAIT_MS);
    assert.equal(socket.frames.length, 10_000);
    assert.deepEqual(socket.frames, expected);
    assert.equal(socket.code, 1000);
  });

  it("captures stdout and stderr, each line whole even when both streams write at once", async () => {
    // Short lines alternate between the streams. Then both streams write long lines at once, in slow pieces: the
    // engine passes a line over 16 KiB on in parts, so parts of a stdout and a stderr line arrive interleaved.
    const piece = 20_000;
    const slowLine = (char: string) =>
      `for j in 1 2 3 4; do head -c ${piece} /dev/zero | tr '\\0' ${char}; sleep 0.05; done; echo`;
    const long = 4 * piece;
    const script =
      "for i in $(seq 1 20); do echo out $i; echo err $i >&2; done; " +
      `for i in 1 2 3; do ${slowLine("o")}; done & ` +
      `for i in 1 2 3; do ${slowLine("e")}; done >&2 & wait`;
    await deployPipeline(server, pipelineConfig("streams", [shTask("both", script)]));
    const runId = await startRun(server, "streams");
    const { tasks } = await waitForRun(server, "streams", runId, WAIT_MS);
    assert.equal(tasks.both.status, "successful");

    const plain = await server.api("GET", logsPath("streams", runId, "both"));
    assert.equal(plain.status, 200);
    assert.ok(plain.text.endsWith("\n"));
    const lines = plain.text.slice(0, -1).split("\n");
    const short = lines.filter((line) => line.length < 100);
    const numbers = Array.from({ length: 20 }, (_, index) => index + 1);
    assert.deepEqual(
      short.filter((line) => line.startsWith("out ")),
      numbers.map((n) => `out ${n}`),
    );
    assert.deepEqual(
      short.filter((line) => line.startsWith("err ")),
      numbers.map((n) => `err ${n}`),
    );
    assert.equal(
      short.length,
      40,
      `unexpected short lines: ${short.filter((line) => !/^(out|err) \d+$/.test(line))}`,
    );
    const longLines = lines.filter((line) => line.length >= 100);
    const summary = (line: string) => `${line.length} bytes starting ${JSON.stringify(line.slice(0, 3))}`;
    assert.equal(
      longLines.filter((line) => line === "o".repeat(long)).length,
      3,
      longLines.map(summary).join(", "),
    );
    assert.equal(
      longLines.filter((line) => line === "e".repeat(long)).length,
      3,
      longLines.map(summary).join(", "),
    );
    assert.equal(longLines.length, 6, longLines.map(summary).join(", "));
  });

  it("stores and serves a last line without a trailing newline as a line", async () => {
    await deployPipeline(server, pipelineConfig("unterminated", [shTask("print", "printf 'a\\nb'")]));
    const runId = await startRun(server, "unterminated");
    await waitForRun(server, "unterminated", runId, WAIT_MS);

    const plain = await server.api("GET", logsPath("unterminated", runId, "print"));
    assert.equal(plain.status, 200);
    assert.equal(plain.text, "a\nb\n");
    const socket = await collectSocket(server, logsPath("unterminated", runId, "print"), WAIT_MS);
    assert.deepEqual(socket.frames, ["a", "b"]);
    assert.equal(socket.code, 1000);
  });

  it("round-trips a 1 MiB line byte-exactly", async () => {
    const size = 1024 * 1024;
    await deployPipeline(
      server,
      pipelineConfig("long-line", [
        shTask("long", `head -c ${size} /dev/zero | tr '\\0' x; echo; echo after`),
      ]),
    );
    const runId = await startRun(server, "long-line");
    await waitForRun(server, "long-line", runId, WAIT_MS);

    const plain = await server.api("GET", logsPath("long-line", runId, "long"));
    assert.equal(plain.status, 200);
    assert.equal(plain.text.length, size + "\nafter\n".length);
    assert.ok(plain.text === `${"x".repeat(size)}\nafter\n`, "the long line did not round-trip exactly");

    const socket = await collectSocket(server, logsPath("long-line", runId, "long"), WAIT_MS);
    assert.equal(socket.frames.length, 2);
    assert.equal(socket.frames[0]?.length, size);
    assert.ok(socket.frames[0] === "x".repeat(size), "the long WebSocket frame differs");
    assert.equal(socket.frames[1], "after");
    assert.equal(socket.code, 1000);
  });

  describe("following a running task", () => {
    const script = "for i in $(seq 1 10); do echo line $i; sleep 0.2; done";
    const expected = Array.from({ length: 10 }, (_, index) => `line ${index + 1}`);

    /** Starts a run of the ticking task and returns once the task's container is running. */
    async function startTicking(pipeline: string): Promise<number> {
      await deployPipeline(server, pipelineConfig(pipeline, [shTask("tick", script)]));
      const runId = await startRun(server, pipeline);
      const running = await waitForTask(
        server,
        pipeline,
        runId,
        "tick",
        (task) => task.state !== "waiting" && task.state !== "processing",
        WAIT_MS,
      );
      assert.equal(running.state, "running", "the task finished before following could start");
      return runId;
    }

    it("streams plain text while the task runs and ends once it completes", async () => {
      const runId = await startTicking("follow-plain");
      const response = await fetch(`${server.url}${logsPath("follow-plain", runId, "tick")}?follow=true`, {
        headers: socketHeaders(server),
        signal: AbortSignal.timeout(WAIT_MS),
      });
      assert.equal(response.status, 200);
      const streamed = await readStreamedLines(response);
      const { tasks } = await waitForRun(server, "follow-plain", runId, WAIT_MS);
      const ended: number = tasks.tick.ended;

      assert.deepEqual(streamed.lines, expected);
      const firstAt = streamed.arrivals[0] ?? Number.POSITIVE_INFINITY;
      // The task prints for about two seconds: a streamed body shows its first line well before the end.
      assert.ok(firstAt < ended - 1000, `first line came ${ended - firstAt} ms before the task ended`);
      const beforeEnd = streamed.arrivals.filter((at) => at < ended).length;
      assert.ok(beforeEnd >= 5, `only ${beforeEnd} lines arrived before the task ended`);
      assert.ok(streamed.endedAt >= ended, "the body ended before the task completed");
    });

    it("sends WebSocket frames while the task runs and closes normally once it completes", async () => {
      const runId = await startTicking("follow-ws");
      const socket = await collectSocket(server, logsPath("follow-ws", runId, "tick"), WAIT_MS);
      const { tasks } = await waitForRun(server, "follow-ws", runId, WAIT_MS);
      const ended: number = tasks.tick.ended;

      assert.deepEqual(socket.frames, expected);
      assert.equal(socket.code, 1000);
      const firstAt = socket.arrivals[0] ?? Number.POSITIVE_INFINITY;
      assert.ok(firstAt < ended - 1000, `first frame came ${ended - firstAt} ms before the task ended`);
      const beforeEnd = socket.arrivals.filter((at) => at < ended).length;
      assert.ok(beforeEnd >= 5, `only ${beforeEnd} frames arrived before the task ended`);
      assert.ok(socket.closedAt >= ended, "the socket closed before the task completed");
    });
  });

  it("serves an empty log for a task that was skipped", async () => {
    await deployPipeline(
      server,
      pipelineConfig("skipping", [
        shTask("fail", "echo failing; exit 1"),
        shTask("never", "echo must not run", { depends_on: { fail: "Success" } }),
      ]),
    );
    const runId = await startRun(server, "skipping");
    const { tasks } = await waitForRun(server, "skipping", runId, WAIT_MS);
    assert.equal(tasks.never.status, "skipped");

    const plain = await server.api("GET", logsPath("skipping", runId, "never"));
    assert.equal(plain.status, 200);
    assert.equal(plain.text, "");
    const followed = await server.api("GET", `${logsPath("skipping", runId, "never")}?follow=true`);
    assert.equal(followed.status, 200);
    assert.equal(followed.text, "");
    const socket = await collectSocket(server, logsPath("skipping", runId, "never"), WAIT_MS);
    assert.deepEqual(socket.frames, []);
    assert.equal(socket.code, 1000);
    // The failed parent's log is there, so emptiness above is about the skipped task, not the route.
    const parent = await server.api("GET", logsPath("skipping", runId, "fail"));
    assert.equal(parent.text, "failing\n");
  });

  it("refuses to delete a running task's log, then deletes it once complete and answers 410", async () => {
    await deployPipeline(server, pipelineConfig("removal", [shTask("slow", "echo kept; sleep 2")]));
    const runId = await startRun(server, "removal");
    await waitForTask(server, "removal", runId, "slow", (task) => task.state === "running", WAIT_MS);

    const early = await server.api("DELETE", logsPath("removal", runId, "slow"));
    assert.equal(early.status, 400);
    assertEnvelopeBody(early.text, "BAD_REQUEST");

    const { tasks } = await waitForRun(server, "removal", runId, WAIT_MS);
    assert.equal(tasks.slow.logs_removed, false);
    const before = await server.api("GET", logsPath("removal", runId, "slow"));
    assert.equal(before.text, "kept\n");

    const removed = await server.api("DELETE", logsPath("removal", runId, "slow"));
    assert.equal(removed.status, 204);
    assert.equal(removed.text, "");

    const gone = await server.api("GET", logsPath("removal", runId, "slow"));
    assert.equal(gone.status, 410);
    assertEnvelopeBody(gone.text, "LOGS_REMOVED");
    const goneSocket = await refusedSocket(server, logsPath("removal", runId, "slow"), WAIT_MS);
    assert.equal(goneSocket.status, 410);
    assertEnvelopeBody(goneSocket.body, "LOGS_REMOVED");

    const task = await server.api(
      "GET",
      `/api/namespaces/default/pipelines/removal/runs/${runId}/tasks/slow`,
    );
    assert.equal(task.status, 200);
    assert.equal(task.json.task_execution.logs_removed, true);
  });

  it("leaves nothing behind on a keep-alive connection that serves many log reads", async () => {
    await deployPipeline(server, pipelineConfig("reread", [shTask("short", "echo once")]));
    const runId = await startRun(server, "reread");
    await waitForRun(server, "reread", runId, WAIT_MS);

    const serverSockets: Socket[] = [];
    const onConnection = (socket: Socket) => serverSockets.push(socket);
    server.service.app.server.on("connection", onConnection);
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const closeListeners: number[] = [];
    try {
      for (let read = 0; read < 12; read += 1) {
        const body = await plainGet(server, agent, logsPath("reread", runId, "short"));
        assert.equal(body, "once\n");
        closeListeners.push(serverSockets[0]?.listenerCount("close") ?? -1);
      }
    } finally {
      agent.destroy();
      server.service.app.server.off("connection", onConnection);
    }
    assert.equal(serverSockets.length, 1, "the reads did not share one connection");
    // Each read registering a listener on the shared socket would grow this list: 11 of them warn of a leak.
    assert.ok(
      closeListeners.every((count) => count === closeListeners[0]),
      `close listeners: ${closeListeners}`,
    );
  });

  it("answers 404 for the log of an unknown task, as plain text and on the WebSocket upgrade", async () => {
    await deployPipeline(server, pipelineConfig("known", [shTask("real", "true")]));
    const runId = await startRun(server, "known");
    await waitForRun(server, "known", runId, WAIT_MS);

    const plain = await server.api("GET", logsPath("known", runId, "ghost"));
    assert.equal(plain.status, 404);
    assertEnvelopeBody(plain.text, "NOT_FOUND");
    const refused = await refusedSocket(server, logsPath("known", runId, "ghost"), WAIT_MS);
    assert.equal(refused.status, 404);
    assertEnvelopeBody(refused.body, "NOT_FOUND");

    const missingRun = await server.api("GET", logsPath("known", runId + 100, "real"));
    assert.equal(missingRun.status, 404);
    assertEnvelopeBody(missingRun.text, "NOT_FOUND");
  });

  it("deletes a pipeline's and a namespace's log files along with them", async () => {
    const logsDir = join(server.dataDir, "logs");
    const created = await server.api("POST", "/api/namespaces", {
      id: "doomed",
      name: "Doomed",
      description: "",
    });
    assert.equal(created.status, 201, created.text);
    for (const [namespace, pipelineId] of [
      ["default", "short-lived-logs"],
      ["doomed", "inside-doomed"],
    ] as const) {
      await deployPipeline(server, pipelineConfig(pipelineId, [shTask("say", "echo kept")]), namespace);
      const runId = await startRun(server, pipelineId, {}, namespace);
      await waitForRun(server, pipelineId, runId, WAIT_MS, namespace);
      assert.ok(
        existsSync(join(logsDir, namespace, pipelineId)),
        `no log folder for ${namespace}/${pipelineId}`,
      );
    }

    assert.equal(
      (await server.api("DELETE", "/api/namespaces/default/pipelines/short-lived-logs")).status,
      204,
    );
    assert.equal((await server.api("DELETE", "/api/namespaces/doomed")).status, 204);
    const gone = async (path: string) => {
      const deadline = Date.now() + 5000;
      while (existsSync(path) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 25));
      return !existsSync(path);
    };
    assert.ok(await gone(join(logsDir, "default", "short-lived-logs")), "the pipeline's logs stayed");
    assert.ok(await gone(join(logsDir, "doomed")), "the namespace's logs stayed");
  });
});
