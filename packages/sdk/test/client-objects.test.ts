import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import { GoferApiError, GoferClient, GoferConnectionError } from "../src/client/index.ts";
import { FakeServer, type Handler } from "./support/fake-server.ts";

const stored = { key: "report.bin", created: 1700 };

/** Answers with `{object}` to a POST and `{objects}` to a list unless a test installs its own handler. */
const defaultHandler: Handler = (request, response) => {
  const json = (status: number, body: unknown) =>
    response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
  if (request.method === "POST") json(201, { object: stored });
  else if (request.method === "DELETE") response.writeHead(204).end();
  else json(200, { objects: [stored] });
};

/** Bytes with NULs and every other value in them, so a text conversion anywhere would show. */
const binary = (size: number): Buffer => {
  const bytes = randomBytes(size);
  for (let index = 0; index < size; index += 97) bytes[index] = 0;
  return bytes;
};

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

/** A stream of `total` bytes in `chunkSize` pieces, produced only as they are pulled. */
function chunkedStream(
  content: Buffer,
  chunkSize: number,
  delayMs = 0,
): { stream: ReadableStream<Uint8Array>; pulls: () => number } {
  let offset = 0;
  let pulls = 0;
  const stream = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        pulls += 1;
        if (delayMs) await new Promise((resolve) => setTimeout(resolve, delayMs));
        if (offset >= content.length) {
          controller.close();
          return;
        }
        controller.enqueue(new Uint8Array(content.subarray(offset, offset + chunkSize)));
        offset += chunkSize;
      },
    },
    { highWaterMark: 0 },
  );
  return { stream, pulls: () => pulls };
}

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

describe("GoferClient objects", () => {
  const server = new FakeServer();
  let baseUrl: string;
  let client: GoferClient;

  before(async () => {
    baseUrl = await server.start();
    client = new GoferClient({ baseUrl, token: "secret-token", timeoutMs: 5000 });
  });
  after(() => server.stop());
  beforeEach(() => {
    server.requests.length = 0;
    server.handler = defaultHandler;
    server.early = undefined;
  });

  test("lists a pipeline's objects with the v0 headers and unwraps the envelope", async () => {
    assert.deepEqual(await client.objects.pipeline.list("ns", "pipe"), [stored]);
    const { method, url, headers } = server.last;
    assert.equal(method, "GET");
    assert.equal(url, "/api/namespaces/ns/pipelines/pipe/objects");
    assert.equal(headers["gofer-api-version"], "v0");
    assert.equal(headers.authorization, "Bearer secret-token");
  });

  test("puts bytes as application/octet-stream with their length, and force only when asked", async () => {
    const content = binary(4096);
    assert.deepEqual(await client.objects.pipeline.put("ns", "pipe", "report.bin", content), stored);
    let request = server.last;
    assert.equal(request.method, "POST");
    assert.equal(request.url, "/api/namespaces/ns/pipelines/pipe/objects/report.bin");
    assert.equal(request.headers["content-type"], "application/octet-stream");
    assert.equal(request.headers["content-length"], "4096");
    assert.equal(request.headers["gofer-api-version"], "v0");
    assert.deepEqual(request.bytes, content);

    await client.objects.pipeline.put("ns", "pipe", "report.bin", new Blob([content]), { force: true });
    request = server.last;
    assert.equal(request.url, "/api/namespaces/ns/pipelines/pipe/objects/report.bin?force=true");
    assert.deepEqual(request.bytes, content);
  });

  test("streams a few MB upload chunk by chunk, arriving byte-identical", async () => {
    const content = binary(5 * 1024 * 1024 + 123);
    const { stream, pulls } = chunkedStream(content, 64 * 1024);
    await client.objects.run.put("ns", "pipe", 7, "big.bin", stream);
    const request = server.last;
    assert.equal(request.url, "/api/namespaces/ns/pipelines/pipe/runs/7/objects/big.bin");
    assert.equal(request.headers["content-type"], "application/octet-stream");
    assert.equal(request.headers["transfer-encoding"], "chunked");
    assert.equal(request.bytes.length, content.length);
    assert.equal(sha256(request.bytes), sha256(content));
    assert.ok(pulls() > 80, `the body was read in ${pulls()} pulls`);
  });

  test("a slow stream upload outlasts the timeout while chunks keep coming", async () => {
    const slow = new GoferClient({ baseUrl, timeoutMs: 300 });
    const content = binary(10 * 1024);
    const { stream } = chunkedStream(content, 1024, 60);
    // About 660 ms in all, but never 300 ms without a chunk.
    await slow.objects.extension.put("ext", "state", stream);
    assert.deepEqual(server.last.bytes, content);
  });

  test("a failing upload stream rejects with its own error, not a connection error", async () => {
    const broken = new Error("disk read failed");
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) throw broken;
        sent = true;
        controller.enqueue(new Uint8Array([1, 2, 3]));
      },
    });
    await assert.rejects(client.objects.pipeline.put("ns", "pipe", "k", stream), (error) => error === broken);
  });

  test("a refusal sent before the body is read ends the upload and leaves no timer running", async () => {
    server.early = (_request, response) =>
      response
        .writeHead(409, { "content-type": "application/json" })
        .end(JSON.stringify({ message: "exists", error_code: "ALREADY_EXISTS" }));
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length;
    const before = timers();
    let cancelled = false;
    const content = binary(1024 * 1024);
    let offset = 0;
    const stream = new ReadableStream<Uint8Array>({
      // Slow reads, like a file's: a read is still pending when the refusal arrives.
      async pull(controller) {
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (offset >= content.length) return controller.close();
        controller.enqueue(new Uint8Array(content.subarray(offset, offset + 16384)));
        offset += 16384;
      },
      cancel() {
        cancelled = true;
      },
    });
    const started = Date.now();
    await assert.rejects(client.objects.pipeline.put("ns", "pipe", "k", stream), (error) => {
      assert.ok(error instanceof GoferApiError);
      assert.equal(error.status, 409);
      return true;
    });
    assert.ok(Date.now() - started < 2000, "the refusal was not reported at once");
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(cancelled || offset >= content.length, "the source was neither read out nor cancelled");
    assert.equal(timers(), before);
  });

  test("gets an object's raw bytes", async () => {
    const content = binary(300_000);
    server.handler = (_request, response) =>
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(content);
    const got = await client.objects.pipeline.get("ns", "pipe", "report.bin");
    assert.ok(got instanceof Uint8Array);
    assert.equal(sha256(got), sha256(content));
    assert.equal(server.last.method, "GET");
    assert.equal(server.last.url, "/api/namespaces/ns/pipelines/pipe/objects/report.bin");
  });

  test("streams a download as it arrives, and cancelling it ends the request", async () => {
    const content = binary(2 * 1024 * 1024);
    server.handler = (_request, response) =>
      response.writeHead(200, { "content-type": "application/octet-stream" }).end(content);
    const stream = await client.objects.run.stream("ns", "pipe", 3, "log.bin");
    assert.equal(sha256(await readAll(stream)), sha256(content));
    assert.equal(server.last.url, "/api/namespaces/ns/pipelines/pipe/runs/3/objects/log.bin");

    const early = await client.objects.extension.stream("ext", "log.bin");
    const reader = early.getReader();
    const first = await reader.read();
    assert.equal(first.done, false);
    await reader.cancel();
  });

  test("a download cut off midway errors the stream with a connection error", async () => {
    server.handler = (_request, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream", "content-length": "100000" });
      response.write(Buffer.alloc(1000));
      setTimeout(() => response.destroy(), 20);
    };
    const stream = await client.objects.pipeline.stream("ns", "pipe", "k");
    await assert.rejects(readAll(stream), GoferConnectionError);
  });

  test("an aborted download rejects with the signal's reason", async () => {
    server.handler = (_request, response) => {
      response.writeHead(200, { "content-type": "application/octet-stream" });
      response.write(Buffer.alloc(10));
    };
    const controller = new AbortController();
    const stream = await client.objects.pipeline.stream("ns", "pipe", "k", { signal: controller.signal });
    const reader = stream.getReader();
    await reader.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(reader.read(), (error) => error === reason);
  });

  test("encodes keys as one path segment and refuses dot keys before sending", async () => {
    await client.objects.pipeline.delete("ns", "pipe", "a b+c%?.txt");
    assert.equal(server.last.method, "DELETE");
    assert.equal(server.last.url, "/api/namespaces/ns/pipelines/pipe/objects/a%20b%2Bc%25%3F.txt");
    await client.objects.extension.list("ext");
    assert.equal(server.last.url, "/api/extensions/ext/objects");
    await client.objects.run.delete("ns", "pipe", 9, "k");
    assert.equal(server.last.url, "/api/namespaces/ns/pipelines/pipe/runs/9/objects/k");

    const before = server.requests.length;
    await assert.rejects(client.objects.pipeline.get("ns", "pipe", ".."), TypeError);
    await assert.rejects(client.objects.pipeline.put("ns", "pipe", "", new Uint8Array()), TypeError);
    assert.equal(server.requests.length, before);
  });

  test("maps error envelopes onto GoferApiError for put, get and stream", async () => {
    server.handler = (request, response) => {
      const exists = request.method === "POST";
      response.writeHead(exists ? 409 : 404, { "content-type": "application/json" }).end(
        JSON.stringify({
          message: exists
            ? 'Object "k" already exists; set force=true to overwrite it'
            : 'Object "k" not found',
          error_code: exists ? "ALREADY_EXISTS" : "NOT_FOUND",
          request_id: "req-1",
        }),
      );
    };
    const { stream } = chunkedStream(binary(1024), 256);
    await assert.rejects(client.objects.pipeline.put("ns", "pipe", "k", stream), (error) => {
      assert.ok(error instanceof GoferApiError);
      assert.equal(error.status, 409);
      assert.equal(error.errorCode, "ALREADY_EXISTS");
      assert.match(error.message, /already exists/);
      assert.equal(error.requestId, "req-1");
      return true;
    });
    for (const attempt of [
      () => client.objects.pipeline.get("ns", "pipe", "k"),
      () => client.objects.pipeline.stream("ns", "pipe", "k"),
      () => client.objects.run.delete("ns", "pipe", 1, "k"),
    ]) {
      await assert.rejects(attempt(), (error) => {
        assert.ok(error instanceof GoferApiError);
        assert.equal(error.status, 404);
        assert.equal(error.errorCode, "NOT_FOUND");
        return true;
      });
    }
  });
});
