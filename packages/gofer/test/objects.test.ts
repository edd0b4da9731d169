/**
 * Objects against a real server and engine: the three scopes, binary-safe streaming, key safety, atomic
 * uploads, the pipeline limit, run expiry and interpolation into a task's environment.
 */
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { readdir } from "node:fs/promises";
import { request } from "node:http";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

const P = "/api/namespaces/default/pipelines";

/** Every file under `dir`, relative to it. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => join(entry.parentPath, entry.name));
}

/** A request whose path goes out exactly as written (fetch would resolve `..` and `%2e%2e` first). */
function rawRequest(
  server: TestServer,
  method: string,
  path: string,
  body?: Buffer,
): Promise<{ status: number; body: Buffer }> {
  const url = new URL(server.url);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          "gofer-api-version": "v0",
          authorization: `Bearer ${server.token}`,
          "content-type": "application/octet-stream",
          ...(body && { "content-length": String(body.length) }),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks) }));
        response.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

async function put(server: TestServer, path: string, content: Uint8Array | string, force = false) {
  const response = await fetch(`${server.url}${path}${force ? "?force=true" : ""}`, {
    method: "POST",
    headers: {
      "gofer-api-version": "v0",
      authorization: `Bearer ${server.token}`,
      "content-type": "application/octet-stream",
    },
    body: typeof content === "string" ? content : Buffer.from(content),
  });
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  return { status: response.status, json: (await response.json()) as any };
}

async function get(server: TestServer, path: string) {
  const response = await fetch(`${server.url}${path}`, {
    headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
  });
  return {
    status: response.status,
    type: response.headers.get("content-type"),
    length: response.headers.get("content-length"),
    body: Buffer.from(await response.arrayBuffer()),
  };
}

const sha = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex");

describe("objects", () => {
  let server: TestServer;
  let objectsDir: string;

  before(async () => {
    server = await startTestServer({
      GOFER_WEB_OBJECT_STORE__PIPELINE_OBJECT_LIMIT: "3",
      GOFER_WEB_OBJECT_STORE__RUN_OBJECT_EXPIRY: "2",
      // Far below the object limit: objects must not be bounded by the JSON body limit.
      GOFER_WEB_API__REQUEST_BODY_LIMIT: "16384",
    });
    objectsDir = join(server.dataDir, "objects");
    await deployPipeline(server, pipelineConfig("store", [shTask("noop", "true")]));
    // Extension objects belong to an installed extension (the cron image from `npm run images`).
    const installed = await server.api("POST", "/api/extensions", {
      id: "cron",
      image: "gofer/extension-cron:latest",
      settings: {},
    });
    assert.equal(installed.status, 201, installed.text);
  });
  after(async () => {
    await server.stop();
  });

  it("stores, lists, downloads and deletes pipeline, run and extension objects", async () => {
    const runId = await startRun(server, "store");
    await waitForRun(server, "store", runId);
    for (const base of [
      `${P}/store/objects`,
      `${P}/store/runs/${runId}/objects`,
      "/api/extensions/cron/objects",
    ]) {
      const created = await put(server, `${base}/greeting`, "hello\u0000world");
      assert.equal(created.status, 201, JSON.stringify(created.json));
      assert.equal(created.json.object.key, "greeting");
      assert.ok(created.json.object.created > 0);

      const listed = await server.api("GET", base);
      assert.equal(listed.status, 200, listed.text);
      assert.deepEqual(listed.json, { objects: [{ key: "greeting", created: created.json.object.created }] });

      const fetched = await get(server, `${base}/greeting`);
      assert.equal(fetched.status, 200);
      assert.equal(fetched.type, "application/octet-stream");
      assert.equal(fetched.length, "11");
      assert.equal(fetched.body.toString("utf8"), "hello\u0000world");

      const conflict = await put(server, `${base}/greeting`, "other");
      assert.equal(conflict.status, 409);
      assert.match(conflict.json.message, /force=true/);
      assert.equal((await put(server, `${base}/greeting`, "other", true)).status, 201);
      assert.equal((await get(server, `${base}/greeting`)).body.toString(), "other");

      assert.equal((await server.api("DELETE", `${base}/greeting`)).status, 204);
      assert.equal((await get(server, `${base}/greeting`)).status, 404);
      assert.equal((await server.api("DELETE", `${base}/greeting`)).status, 404);
    }
    assert.equal((await get(server, `${P}/absent/objects/x`)).status, 404);
    const uninstalled = await put(server, "/api/extensions/not-installed/objects/greeting", "hello");
    assert.equal(uninstalled.status, 404, JSON.stringify(uninstalled.json));
    assert.match(uninstalled.json.message, /Extension "not-installed" not found/);
    assert.deepEqual(await filesUnder(objectsDir), []);
  });

  it("refuses keys that could name something outside the store, and writes nothing", async () => {
    const before = await filesUnder(objectsDir);
    const hostile = [
      ["..%2Fx", /'\/'/],
      ["%2E%2E", /"\." or "\.\."/],
      ["%2Fetc%2Fpasswd", /'\/'/],
      ["a%00b", /NUL/],
      ["..%5Cx", /'\\'/],
      ["k".repeat(300), /at most 256 bytes/],
    ] as const;
    for (const [key, rule] of hostile) {
      const response = await rawRequest(
        server,
        "POST",
        `${P}/store/objects/${key}?force=true`,
        Buffer.from("x"),
      );
      assert.equal(response.status, 400, `${key}: ${response.body}`);
      const body = JSON.parse(response.body.toString());
      assert.equal(body.error_code, "INVALID_OBJECT_KEY");
      assert.match(body.message, rule);
      assert.equal((await rawRequest(server, "GET", `${P}/store/objects/${key}`)).status, 400);
    }
    assert.deepEqual(await filesUnder(objectsDir), before);
  });

  it("round-trips a 5 MB random binary object byte-identical, past the request body limit", async () => {
    const content = randomBytes(5 * 1024 * 1024);
    assert.equal((await put(server, `${P}/store/objects/blob.bin`, content)).status, 201);
    const fetched = await get(server, `${P}/store/objects/blob.bin`);
    assert.equal(fetched.length, String(content.length));
    assert.equal(sha(fetched.body), sha(content));
    assert.equal((await server.api("DELETE", `${P}/store/objects/blob.bin`)).status, 204);
  });

  it("leaves nothing behind when an upload is aborted mid-stream", async () => {
    const url = new URL(server.url);
    await new Promise<void>((resolve) => {
      const req = request({
        host: url.hostname,
        port: url.port,
        method: "POST",
        path: `${P}/store/objects/partial`,
        headers: {
          "gofer-api-version": "v0",
          authorization: `Bearer ${server.token}`,
          "content-type": "application/octet-stream",
          "content-length": String(10 * 1024 * 1024),
        },
      });
      req.on("error", () => resolve());
      req.write(randomBytes(1024 * 1024), () => {
        // Give the server time to have started writing the partial file, then cut the connection.
        setTimeout(() => {
          req.destroy();
          resolve();
        }, 200);
      });
    });
    const deadline = Date.now() + 5000;
    while ((await filesUnder(objectsDir)).length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.deepEqual(await filesUnder(objectsDir), []);
    assert.equal((await get(server, `${P}/store/objects/partial`)).status, 404);
  });

  it("keeps at most pipeline_object_limit pipeline objects, evicting the oldest", async () => {
    for (const key of ["one", "two", "three"])
      assert.equal((await put(server, `${P}/store/objects/${key}`, key)).status, 201);
    // Overwriting makes "one" the newest version, so "two" is now the oldest.
    assert.equal((await put(server, `${P}/store/objects/one`, "one again", true)).status, 201);
    assert.equal((await put(server, `${P}/store/objects/four`, "four")).status, 201);
    const listed = await server.api("GET", `${P}/store/objects`);
    assert.deepEqual(
      listed.json.objects.map((object: { key: string }) => object.key),
      ["three", "one", "four"],
    );
    assert.equal((await get(server, `${P}/store/objects/two`)).status, 404);
    assert.equal((await filesUnder(objectsDir)).length, 3);
    for (const key of ["three", "one", "four"]) await server.api("DELETE", `${P}/store/objects/${key}`);
  });

  it("expires the objects of runs older than the last run_object_expiry runs", async () => {
    await deployPipeline(server, pipelineConfig("expiry", [shTask("noop", "true")]));
    const runs: number[] = [];
    for (let index = 0; index < 2; index += 1) {
      const runId = await startRun(server, "expiry");
      await waitForRun(server, "expiry", runId);
      assert.equal((await put(server, `${P}/expiry/runs/${runId}/objects/data`, `run ${runId}`)).status, 201);
      runs.push(runId);
    }
    const third = await startRun(server, "expiry");
    await waitForRun(server, "expiry", third);
    const [first, second] = runs as [number, number];
    const deadline = Date.now() + 5000;
    let expired = false;
    while (!expired && Date.now() < deadline) {
      expired = (await server.api("GET", `${P}/expiry/runs/${first}`)).json.run.store_objects_expired;
      if (!expired) await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(expired, true);
    assert.deepEqual((await server.api("GET", `${P}/expiry/runs/${first}/objects`)).json.objects, []);
    assert.equal((await get(server, `${P}/expiry/runs/${first}/objects/data`)).status, 404);
    assert.equal((await put(server, `${P}/expiry/runs/${first}/objects/late`, "x")).status, 409);
    assert.equal(
      (await server.api("GET", `${P}/expiry/runs/${second}`)).json.run.store_objects_expired,
      false,
    );
    assert.equal(
      (await get(server, `${P}/expiry/runs/${second}/objects/data`)).body.toString(),
      `run ${second}`,
    );
  });

  it("refuses an upload whose run expired while its body streamed in, and keeps no row or file", async () => {
    await deployPipeline(server, pipelineConfig("late", [shTask("noop", "true")]));
    const runId = await startRun(server, "late");
    await waitForRun(server, "late", runId);
    const pipelineDir = join(objectsDir, "namespaces", "default", "late");

    // A chunked upload the route accepts (the run has not expired yet), held open after its first chunk.
    const url = new URL(server.url);
    const req = request({
      host: url.hostname,
      port: url.port,
      method: "POST",
      path: `${P}/late/runs/${runId}/objects/slow`,
      headers: {
        "gofer-api-version": "v0",
        authorization: `Bearer ${server.token}`,
        "content-type": "application/octet-stream",
      },
    });
    const answered = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.on("response", (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on("error", reject);
      });
      req.on("error", reject);
    });
    req.write("first half, ");
    let deadline = Date.now() + 5000;
    while ((await filesUnder(pipelineDir)).length === 0) {
      assert.ok(Date.now() < deadline, "the upload never started writing");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }

    // Expire the run the way the server does: newer runs start (run_object_expiry is 2).
    for (let index = 0; index < 2; index += 1) {
      const newer = await startRun(server, "late");
      await waitForRun(server, "late", newer);
    }
    deadline = Date.now() + 5000;
    while (!(await server.api("GET", `${P}/late/runs/${runId}`)).json.run.store_objects_expired) {
      assert.ok(Date.now() < deadline, "the run's objects never expired");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    req.end("second half");
    const response = await answered;
    assert.equal(response.status, 409, response.body);
    const error = JSON.parse(response.body);
    assert.equal(error.error_code, "CONFLICT");
    assert.match(error.message, new RegExp(`objects of run ${runId} have expired`));
    assert.deepEqual((await server.api("GET", `${P}/late/runs/${runId}/objects`)).json.objects, []);
    assert.equal((await get(server, `${P}/late/runs/${runId}/objects/slow`)).status, 404);
    assert.deepEqual(await filesUnder(pipelineDir), []);
  });

  it("removes a deleted pipeline's object files", async () => {
    await deployPipeline(server, pipelineConfig("doomed", [shTask("noop", "true")]));
    assert.equal((await put(server, `${P}/doomed/objects/keep`, "bytes")).status, 201);
    assert.ok((await filesUnder(join(objectsDir, "namespaces", "default", "doomed"))).length === 1);
    assert.equal((await server.api("DELETE", `${P}/doomed`)).status, 204);
    const deadline = Date.now() + 5000;
    while ((await filesUnder(join(objectsDir, "namespaces", "default", "doomed"))).length > 0) {
      assert.ok(Date.now() < deadline, "object files of the deleted pipeline are still there");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });

  it("interpolates pipeline_object{{key}} and run_object{{key}} into a task's environment, by the key in the braces", async () => {
    assert.equal((await put(server, `${P}/interp/objects/shared`, "from the pipeline")).status, 404);
    await deployPipeline(
      server,
      pipelineConfig("interp", [
        shTask("gate", "sleep 2"),
        shTask("reader", 'echo "P=$FROM_PIPELINE"; echo "R=$FROM_RUN"', {
          depends_on: { gate: "success" },
          variables: { FROM_PIPELINE: "pipeline_object{{shared}}", FROM_RUN: "run_object{{handoff}}" },
        }),
      ]),
    );
    assert.equal((await put(server, `${P}/interp/objects/shared`, "from the pipeline")).status, 201);
    const runId = await startRun(server, "interp");
    // The reader resolves its variables only when it starts, after the gate: the run object can come late.
    assert.equal(
      (await put(server, `${P}/interp/runs/${runId}/objects/handoff`, "from the run")).status,
      201,
    );
    const { tasks } = await waitForRun(server, "interp", runId);
    assert.equal(tasks.reader.status, "successful", JSON.stringify(tasks.reader.status_reason));
    const log = await server.api("GET", `${P}/interp/runs/${runId}/tasks/reader/logs`);
    assert.match(log.text, /^P=from the pipeline$/m);
    assert.match(log.text, /^R=from the run$/m);
  });

  it("fails a task whose object reference names a missing key, naming the key", async () => {
    await deployPipeline(
      server,
      pipelineConfig("missing", [
        shTask("reader", "echo never", { variables: { DATA: "run_object{{not-there}}" } }),
      ]),
    );
    const runId = await startRun(server, "missing");
    const { tasks } = await waitForRun(server, "missing", runId);
    assert.equal(tasks.reader.status, "failed");
    assert.equal(tasks.reader.status_reason.reason, "failed_precondition");
    assert.match(tasks.reader.status_reason.description, /"not-there"/);
  });

  it("refuses an object too large for the environment, with a clear reason", async () => {
    await deployPipeline(
      server,
      pipelineConfig("big", [
        shTask("reader", "echo never", { variables: { DATA: "pipeline_object{{huge}}" } }),
      ]),
    );
    assert.equal((await put(server, `${P}/big/objects/huge`, "x".repeat(200 * 1024))).status, 201);
    const runId = await startRun(server, "big");
    const { tasks } = await waitForRun(server, "big", runId);
    assert.equal(tasks.reader.status_reason.reason, "failed_precondition");
    assert.match(tasks.reader.status_reason.description, /"huge".*larger than the 131072 bytes/);
  });

  it("passes a 5 MB binary run object from a parent task to its child byte-identical", async () => {
    const headers =
      '--header "gofer-api-version: v0" --header "authorization: Bearer $GOFER_API_TOKEN" ' +
      '--header "content-type: application/octet-stream"';
    const objects =
      '"$GOFER_API_BASE_URL/api/namespaces/$GOFER_NAMESPACE_ID/pipelines/$GOFER_PIPELINE_ID/runs/$GOFER_RUN_ID/objects';
    const parent = [
      "set -e",
      "head -c 5242880 /dev/urandom > /tmp/blob",
      "sha256sum /tmp/blob | cut -d ' ' -f 1 | tr -d '\\n' > /tmp/sum",
      // busybox wget sends --post-file as a C string (it stops at the first NUL), so the binary goes over nc;
      // stdin stays open a while because nc quits at its end, before the answer arrives.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      'hostport="${GOFER_API_BASE_URL#http://}"',
      'path="/api/namespaces/$GOFER_NAMESPACE_ID/pipelines/$GOFER_PIPELINE_ID/runs/$GOFER_RUN_ID/objects/blob"',
      '{ printf "POST %s HTTP/1.0\\r\\nHost: %s\\r\\ngofer-api-version: v0\\r\\nauthorization: Bearer %s\\r\\n" "$path" "$hostport" "$GOFER_API_TOKEN";',
      '  printf "content-type: application/octet-stream\\r\\ncontent-length: 5242880\\r\\n\\r\\n"; cat /tmp/blob; sleep 3; } |',
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      '  nc "${hostport%:*}" "${hostport##*:}" > /tmp/response',
      "head -n 1 /tmp/response | grep -q ' 201 ' || { wc -c /tmp/blob; cat /tmp/response; exit 1; }",
      `wget -O /dev/null ${headers} --post-file /tmp/sum ${objects}/sum"`,
    ].join("\n");
    const child = [
      "set -e",
      `wget -O /tmp/blob ${headers} ${objects}/blob"`,
      'test "$(sha256sum /tmp/blob | cut -d \' \' -f 1)" = "$EXPECTED"',
      'echo "MATCH $EXPECTED"',
    ].join("\n");
    const task = (id: string, script: string, options: Parameters<typeof shTask>[2] = {}) => ({
      ...shTask(id, script, options),
      inject_api_token: true,
    });
    await deployPipeline(
      server,
      pipelineConfig("handoff", [
        task("parent", parent),
        task("child", child, {
          depends_on: { parent: "success" },
          variables: { EXPECTED: "run_object{{sum}}" },
        }),
      ]),
    );
    const runId = await startRun(server, "handoff");
    const { tasks } = await waitForRun(server, "handoff", runId);
    const parentLog = await server.api("GET", `${P}/handoff/runs/${runId}/tasks/parent/logs`);
    assert.equal(tasks.parent.status, "successful", parentLog.text);
    const childLog = await server.api("GET", `${P}/handoff/runs/${runId}/tasks/child/logs`);
    assert.equal(tasks.child.status, "successful", childLog.text);
    const sum = (await get(server, `${P}/handoff/runs/${runId}/objects/sum`)).body.toString().trim();
    const blob = await get(server, `${P}/handoff/runs/${runId}/objects/blob`);
    assert.equal(blob.body.length, 5 * 1024 * 1024);
    assert.equal(sha(blob.body), sum);
    const log = await server.api("GET", `${P}/handoff/runs/${runId}/tasks/child/logs`);
    assert.match(log.text, new RegExp(`^MATCH ${sum}$`, "m"));
  });
});
