import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForTask } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { assertEnvelopeBody, refusedSocket, socketHeaders, socketUrl } from "./support/websocket.ts";

/** A terminal session as a test drives it: everything received, and how the socket closed. */
interface Terminal {
  socket: WebSocket;
  screen(): string;
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
}

function openTerminal(
  server: TestServer,
  path: string,
  options: { headers?: Record<string, string>; protocols?: string[] } = {},
): Promise<Terminal> {
  const socket = new WebSocket(socketUrl(server, path), options.protocols ?? [], {
    headers: options.headers ?? socketHeaders(server),
  });
  const received: Buffer[] = [];
  socket.on("message", (data: Buffer) => {
    received.push(Buffer.from(data));
    // Busybox's shell asks where the cursor is before each prompt and waits for the answer, as a terminal gives.
    if (data.includes("\u001b[6n")) socket.send("\u001b[1;1R");
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
  );
  const screen = () => Buffer.concat(received).toString("utf8");
  const waitFor = async (pattern: RegExp, timeoutMs = 10_000) => {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(screen())) {
      if (Date.now() > deadline)
        throw new Error(`terminal never showed ${pattern}; it shows ${JSON.stringify(screen())}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  };
  return new Promise((resolve, reject) => {
    socket.once("open", () => {
      const terminal = { socket, screen, waitFor, closed };
      // Input typed before the shell's first prompt would be taken as the answer to its cursor question.
      waitFor(/# /).then(() => resolve(terminal), reject);
    });
    socket.once("error", reject);
    socket.once("unexpected-response", (_request, response) =>
      reject(new Error(`attach refused with HTTP ${response.statusCode}`)),
    );
  });
}

describe("attaching a terminal to a running task", () => {
  let server: TestServer;
  let runId: number;
  const taskPath = (task: string) => `/api/namespaces/default/pipelines/attach/runs/${runId}/tasks/${task}`;

  before(async () => {
    server = await startTestServer();
    await deployPipeline(
      server,
      pipelineConfig("attach", [
        shTask("sleeper", "trap 'exit 0' TERM; echo started; while true; do sleep 0.1; done"),
        shTask("quick", "echo done"),
      ]),
    );
    runId = await startRun(server, "attach");
    await waitForTask(server, "attach", runId, "sleeper", (task) => task.state === "running");
    await waitForTask(server, "attach", runId, "quick", (task) => task.state === "complete");
  });
  after(async () => {
    await server.api("DELETE", `/api/namespaces/default/pipelines/attach/runs/${runId}`);
    await server.stop();
  });

  it("runs a shell in the task's container: input, output, a resize, and the exit code as the close reason", async () => {
    const terminal = await openTerminal(
      server,
      `${taskPath("sleeper")}/attach?command=/bin/sh&columns=90&rows=20`,
    );
    terminal.socket.send("stty size\n");
    await terminal.waitFor(/20 90/);
    terminal.socket.send(`\u0000${JSON.stringify({ resize: { columns: 132, rows: 40 } })}`);
    // The resize is applied asynchronously; ask until the shell sees it.
    const deadline = Date.now() + 10_000;
    while (!/40 132/.test(terminal.screen())) {
      assert.ok(Date.now() < deadline, `the resize never reached the terminal: ${terminal.screen()}`);
      terminal.socket.send("stty size\n");
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    terminal.socket.send(Buffer.from("echo attached-$GOFER_TASK_ID\n"));
    await terminal.waitFor(/attached-sleeper/);
    terminal.socket.send("exit 3\n");
    assert.deepEqual(await terminal.closed, { code: 1000, reason: "exited 3" });
    const task = await server.api("GET", taskPath("sleeper"));
    assert.equal(task.json.task_execution.state, "running", "leaving the shell does not end the task");
  });

  it("without a terminal, pipes stdin and output and ends the command when the client sends end-of-input", async () => {
    const socket = new WebSocket(
      socketUrl(
        server,
        `${taskPath("sleeper")}/attach?tty=false&command=${encodeURIComponent("sh -c 'wc -l; exit 7'")}`,
      ),
      { headers: socketHeaders(server) },
    );
    const received: Buffer[] = [];
    socket.on("message", (data: Buffer) => received.push(Buffer.from(data)));
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.on("close", (code, reason) => resolve({ code, reason: String(reason) })),
    );
    await new Promise((resolve, reject) => socket.once("open", resolve).once("error", reject));
    socket.send("one\ntwo\nthree\n");
    socket.send(`\u0000${JSON.stringify({ eof: true })}`);
    assert.deepEqual(await closed, { code: 1000, reason: "exited 7" });
    assert.equal(Buffer.concat(received).toString().trim(), "3");
  });

  it("accepts a browser's credentials as subprotocols and never echoes the token", async () => {
    const terminal = await openTerminal(server, `${taskPath("sleeper")}/attach`, {
      headers: {},
      protocols: ["gofer-api-version.v0", `gofer-token.${server.token}`],
    });
    assert.equal(terminal.socket.protocol, "gofer-api-version.v0");
    terminal.socket.send("echo via-subprotocol\n");
    await terminal.waitFor(/via-subprotocol/);
    terminal.socket.close();
    await terminal.closed;

    const anonymous = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(socketUrl(server, `${taskPath("sleeper")}/attach`), [
        "gofer-api-version.v0",
      ]);
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      socket.on("open", () => reject(new Error("an anonymous attach was accepted")));
    });
    assert.equal(anonymous, 401);
  });

  it("refuses a finished task, an unknown one, a read-only token and a malformed size before upgrading", async () => {
    const finished = await refusedSocket(server, `${taskPath("quick")}/attach`, 5000);
    assert.equal(finished.status, 409);
    assertEnvelopeBody(finished.body, "CONFLICT");
    const unknown = await refusedSocket(server, `${taskPath("nope")}/attach`, 5000);
    assert.equal(unknown.status, 404);
    const badSize = await refusedSocket(server, `${taskPath("sleeper")}/attach?columns=0&rows=20`, 5000);
    assert.equal(badSize.status, 400);

    const reader = await server.api("POST", "/api/tokens", {
      user: "reader",
      roles: ["anonymous"],
      expires: 0,
    });
    assert.equal(reader.status, 201, reader.text);
    const refused = await new Promise<number>((resolve, reject) => {
      const socket = new WebSocket(socketUrl(server, `${taskPath("sleeper")}/attach`), {
        headers: { "gofer-api-version": "v0", authorization: `Bearer ${reader.json.secret}` },
      });
      socket.on("unexpected-response", (_request, response) => resolve(response.statusCode ?? 0));
      socket.on("open", () => reject(new Error("a read-only token could attach")));
    });
    assert.equal(refused, 403);

    const plain = await server.api("GET", `${taskPath("sleeper")}/attach`);
    assert.equal(plain.status, 400);
    assert.match(plain.json.message, /WebSocket/);
  });
});

describe("attach switched off in configuration", () => {
  it("refuses every attach with 403 ATTACH_DISABLED naming the setting", async () => {
    const server = await startTestServer({ GOFER_WEB_API__TASK_ATTACH: "false" });
    try {
      await deployPipeline(server, pipelineConfig("closed", [shTask("sleeper", "sleep 30")]));
      const runId = await startRun(server, "closed");
      await waitForTask(server, "closed", runId, "sleeper", (task) => task.state === "running");
      const refused = await refusedSocket(
        server,
        `/api/namespaces/default/pipelines/closed/runs/${runId}/tasks/sleeper/attach`,
        5000,
      );
      assert.equal(refused.status, 403);
      assertEnvelopeBody(refused.body, "ATTACH_DISABLED");
      assert.match(refused.body, /api\.task_attach/);
      await server.api("DELETE", `/api/namespaces/default/pipelines/closed/runs/${runId}?wait_for=0`);
    } finally {
      await server.stop();
    }
  });
});
