/** `tasks.logs` with `format: "lines"`: each line as an object with its stream and time, read as it streams. */
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { GoferClient } from "../src/client/index.ts";
import { closeServer, listenLocally } from "./support/fake-server.ts";

describe("tasks.logs as line objects", () => {
  let server: Server;
  let client: GoferClient;
  const urls: string[] = [];

  before(async () => {
    server = createServer(async (request, response) => {
      urls.push(request.url ?? "");
      if (request.url?.includes("/pipelines/v0-server/")) {
        // A server without line objects (Gofer's own v0) ignores `format` and answers the plain log.
        response.writeHead(200, { "content-type": "text/plain; charset=utf-8" });
        response.end("first\nsecond\n");
        return;
      }
      response.writeHead(200, { "content-type": "application/x-ndjson; charset=utf-8" });
      const body = Buffer.from(
        '{"line":"out ü","stream":"stdout","time":1733580000123}\n' +
          '{"line":"err","stream":"stderr","time":1733580000456}\n{"line":"older"}\n',
      );
      // Cut inside an object and inside "ü", so that both arrive in pieces.
      const cut = body.indexOf(Buffer.from("ü")) + 1;
      response.write(body.subarray(0, cut));
      await sleep(10);
      response.end(body.subarray(cut));
    });
    client = new GoferClient({ baseUrl: await listenLocally(server), token: "tok", timeoutMs: 300 });
  });
  after(() => closeServer(server));

  test("asks for format=lines and yields each object, stream and time absent where the server has none", async () => {
    const lines = [];
    for await (const line of client.tasks.logs("ns", "pipe", 3, "build", { format: "lines", attempt: 2 }))
      lines.push(line);
    assert.deepEqual(lines, [
      { line: "out ü", stream: "stdout", time: 1733580000123 },
      { line: "err", stream: "stderr", time: 1733580000456 },
      { line: "older" },
    ]);
    assert.equal(
      urls.at(-1),
      "/api/namespaces/ns/pipelines/pipe/runs/3/tasks/build/attempts/2/logs?format=lines",
    );
  });

  test("without format, the request and the lines are v0's", async () => {
    const lines = [];
    for await (const line of client.tasks.logs("ns", "pipe", 3, "build", { follow: true })) lines.push(line);
    assert.equal(urls.at(-1), "/api/namespaces/ns/pipelines/pipe/runs/3/tasks/build/logs?follow=true");
    assert.equal(typeof lines[0], "string");
  });

  test("reads a plain answer (a server without line objects) as lines without stream or time", async () => {
    const lines = [];
    for await (const line of client.tasks.logs("ns", "v0-server", 1, "build", { format: "lines" }))
      lines.push(line);
    assert.deepEqual(lines, [{ line: "first" }, { line: "second" }]);
  });
});
