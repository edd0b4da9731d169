import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GoferApiError, GoferClient, GoferConnectionError } from "../src/client/index.ts";
import { closeServer, listenLocally } from "./support/fake-server.ts";

const LOGS = "/api/namespaces/ns/pipelines/pipe/runs/3/tasks/build/logs";

type Handler = (request: IncomingMessage, response: ServerResponse) => void | Promise<void>;

/** Serves `GET …/logs` with whatever the test installs, the way the Gofer server streams plain text. */
describe("tasks.logs over plain-text HTTP", () => {
  let server: Server;
  let handler: Handler = (_request, response) => void response.end();
  let client: GoferClient;
  const seen: { url: string; version: string | undefined; authorization: string | undefined }[] = [];

  before(async () => {
    server = createServer((request, response) => {
      seen.push({
        url: request.url ?? "",
        version: request.headers["gofer-api-version"] as string | undefined,
        authorization: request.headers.authorization,
      });
      void handler(request, response);
    });
    const baseUrl = await listenLocally(server);
    client = new GoferClient({ baseUrl, token: "tok", timeoutMs: 300 });
  });
  after(() => closeServer(server));

  const logs = (options?: Parameters<GoferClient["tasks"]["logs"]>[4]) =>
    client.tasks.logs("ns", "pipe", 3, "build", options);

  async function collect(lines: AsyncIterable<string>): Promise<string[]> {
    const all: string[] = [];
    for await (const line of lines) all.push(line);
    return all;
  }

  test("yields lines as they stream, across chunks, split UTF-8 and an unterminated last line", async () => {
    const bytes = Buffer.from("first line\nsecond — with ünïcödé\n€ third", "utf8");
    const euro = bytes.indexOf(Buffer.from("€"));
    handler = async (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
      // Cut inside "—" and inside "€" so that both arrive as two halves.
      for (const [from, to] of [
        [0, 14],
        [14, 20],
        [20, euro + 1],
        [euro + 1, bytes.length],
      ]) {
        response.write(bytes.subarray(from, to));
        await sleep(10);
      }
      response.end();
    };
    assert.deepEqual(await collect(logs()), ["first line", "second — with ünïcödé", "€ third"]);
    const request = seen.at(-1);
    assert.equal(request?.url, LOGS);
    assert.equal(request?.version, "v0");
    assert.equal(request?.authorization, "Bearer tok");
  });

  test("asks the server to follow only when told to", async () => {
    handler = (_request, response) => void response.end("x\n");
    await collect(logs({ follow: true }));
    assert.equal(seen.at(-1)?.url, `${LOGS}?follow=true`);
    await collect(logs({ follow: false }));
    assert.equal(seen.at(-1)?.url, LOGS);
  });

  test("reads one attempt's log when told which, following it too", async () => {
    handler = (_request, response) => void response.end("attempt 1\n");
    assert.deepEqual(await collect(logs({ attempt: 1 })), ["attempt 1"]);
    assert.equal(seen.at(-1)?.url, "/api/namespaces/ns/pipelines/pipe/runs/3/tasks/build/attempts/1/logs");
    await collect(logs({ attempt: 2, follow: true }));
    assert.equal(
      seen.at(-1)?.url,
      "/api/namespaces/ns/pipelines/pipe/runs/3/tasks/build/attempts/2/logs?follow=true",
    );
  });

  test("sends nothing until iterated", async () => {
    const before = seen.length;
    const iterable = logs();
    await sleep(20);
    assert.equal(seen.length, before);
    handler = (_request, response) => void response.end("only\n");
    assert.deepEqual(await collect(iterable), ["only"]);
  });

  test("a followed log may stay silent longer than the request timeout", async () => {
    handler = async (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("before the pause\n");
      await sleep(600);
      response.end("after the pause\n");
    };
    assert.deepEqual(await collect(logs({ follow: true })), ["before the pause", "after the pause"]);
  });

  test("breaking out of the loop ends the request on the server", async () => {
    const closed = new Promise<void>((resolve) => {
      handler = (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        let count = 0;
        const timer = setInterval(() => response.write(`line ${++count}\n`), 5);
        response.on("close", () => {
          clearInterval(timer);
          resolve();
        });
      };
    });
    const lines: string[] = [];
    for await (const line of logs({ follow: true })) {
      lines.push(line);
      if (lines.length === 3) break;
    }
    assert.deepEqual(lines, ["line 1", "line 2", "line 3"]);
    await closed;
  });

  test("aborting the signal ends the iteration with the abort reason and the request with it", async () => {
    const closed = new Promise<void>((resolve) => {
      handler = (_request, response) => {
        response.writeHead(200, { "content-type": "text/plain" });
        response.write("one\n");
        response.on("close", () => resolve());
      };
    });
    const controller = new AbortController();
    const lines: string[] = [];
    await assert.rejects(
      async () => {
        for await (const line of logs({ follow: true, signal: controller.signal })) {
          lines.push(line);
          setTimeout(() => controller.abort(), 20);
        }
      },
      { name: "AbortError" },
    );
    assert.deepEqual(lines, ["one"]);
    await closed;
  });

  test("an error answer is a GoferApiError from its envelope", async () => {
    handler = (_request, response) => {
      response.writeHead(410, { "content-type": "application/json" });
      response.end(
        JSON.stringify({
          request_id: "r9",
          message: 'The logs of task "build" were removed',
          error_code: "LOGS_REMOVED",
        }),
      );
    };
    await assert.rejects(collect(logs()), (error: unknown) => {
      assert.ok(error instanceof GoferApiError);
      assert.equal(error.status, 410);
      assert.equal(error.errorCode, "LOGS_REMOVED");
      assert.equal(error.requestId, "r9");
      assert.equal(error.message, 'The logs of task "build" were removed');
      return true;
    });
  });

  test("no response headers within the timeout is a timed-out GoferConnectionError", async () => {
    handler = () => undefined;
    await assert.rejects(collect(logs({ follow: true })), (error: unknown) => {
      assert.ok(error instanceof GoferConnectionError);
      assert.equal(error.timedOut, true);
      return true;
    });
  });

  test("a connection cut mid-stream is a GoferConnectionError after the lines already received", async () => {
    handler = (_request, response) => {
      response.writeHead(200, { "content-type": "text/plain" });
      response.write("got this\n");
      setTimeout(() => response.socket?.destroy(), 20);
    };
    const lines: string[] = [];
    await assert.rejects(
      async () => {
        for await (const line of logs({ follow: true })) lines.push(line);
      },
      (error: unknown) => error instanceof GoferConnectionError && !error.timedOut,
    );
    assert.deepEqual(lines, ["got this"]);
  });
});
