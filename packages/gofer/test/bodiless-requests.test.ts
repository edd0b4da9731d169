/**
 * Requests shaped as Gofer's own clients send them: `Content-Type: application/json` on every request, with or
 * without a body. An empty body is no body: every route that takes none, or only optional fields, accepts it
 * whatever the Content-Type; a route that needs a field answers 400 with the v0 envelope naming it. Every write
 * route of the server's own OpenAPI document is tried both ways (with and without the header).
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { after, before, describe, it } from "node:test";
import { pipelineConfig, shTask } from "./support/pipelines.ts";
import { type ApiResponse, startTestServer, type TestServer } from "./support/test-server.ts";

interface Operation {
  requestBody?: { content?: Record<string, { schema?: { required?: string[] } }> };
}

const OPENAPI = new URL("../openapi.json", import.meta.url);
const WRITES = ["post", "put", "patch", "delete"];
const JSON_TYPE = { "content-type": "application/json" };

/** Path parameters that name nothing, so no request changes anything it should not. */
const fill = (path: string) =>
  path.replace(/\{(\w+)\}/g, (_, name: string) =>
    /run_id|version|event_id/.test(name) ? "987654" : "nothing-here",
  );

/** A request with an empty body, with the JSON Content-Type or with none. */
async function bodiless(
  server: TestServer,
  method: string,
  path: string,
  typed: boolean,
): Promise<ApiResponse> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: {
      "gofer-api-version": "v0",
      authorization: `Bearer ${server.token}`,
      ...(typed ? JSON_TYPE : {}),
    },
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    text,
    json: text ? JSON.parse(text) : undefined,
  };
}

describe("bodiless requests", { timeout: 120_000 }, () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server?.stop();
  });

  it("every write route answers an empty body the same with or without Content-Type: application/json", async () => {
    const document = JSON.parse(await readFile(OPENAPI, "utf8")) as {
      paths: Record<string, Record<string, Operation>>;
    };
    let tried = 0;
    for (const [template, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        if (!WRITES.includes(method)) continue;
        const path = fill(template);
        const required = operation.requestBody?.content?.["application/json"]?.schema?.required ?? [];
        const label = `${method.toUpperCase()} ${path}`;
        const typed = await bodiless(server, method.toUpperCase(), path, true);
        const untyped = await bodiless(server, method.toUpperCase(), path, false);
        tried++;
        assert.equal(typed.status, untyped.status, `${label}: ${typed.text} / ${untyped.text}`);
        assert.doesNotMatch(typed.text, /empty|must be object|Content-Type/i, label);
        if (required.length > 0) {
          assert.equal(typed.status, 400, `${label} needs ${required.join(", ")}: ${typed.text}`);
          assert.equal(typed.json.error_code, "BAD_REQUEST", label);
          assert.match(typed.json.message, new RegExp(required.join("|")), `${label} names a missing field`);
        } else {
          assert.notEqual(typed.json?.error_code, "UNSUPPORTED_MEDIA_TYPE", label);
        }
      }
    }
    assert.ok(tried >= 35, `only ${tried} write routes were found`);
  });

  it("deletes, deploys and starts runs sent the way Gofer's clients send them", async () => {
    const send = (method: string, path: string) => bodiless(server, method, path, true);
    const namespace = await server.api("POST", "/api/namespaces", {
      id: "hurl",
      name: "Hurl",
      description: "",
    });
    assert.equal(namespace.status, 201, namespace.text);
    const role = await server.api("POST", "/api/roles", {
      id: "hurl-role",
      description: "",
      permissions: [{ resources: ["runs"], actions: ["read"] }],
    });
    assert.equal(role.status, 201, role.text);
    assert.equal((await send("DELETE", "/api/roles/hurl-role")).status, 204);
    assert.equal((await send("DELETE", "/api/namespaces/hurl")).status, 204);

    await server.api("POST", "/api/namespaces/default/pipelines/bodiless/configs", {
      config: pipelineConfig("bodiless", [shTask("hello", "echo hello")]),
    });
    const deployed = await send("POST", "/api/namespaces/default/pipelines/bodiless/configs/1");
    assert.ok(deployed.status < 300, deployed.text);
    const started = await send("POST", "/api/namespaces/default/pipelines/bodiless/runs");
    assert.equal(started.status, 201, started.text);
    assert.deepEqual(started.json.run.variables, []);
  });

  it("still refuses a body that is not JSON, and JSON that is not an object", async () => {
    const text = await server.api("POST", "/api/namespaces", "id=x", { "content-type": "text/plain" });
    assert.equal(text.status, 415, text.text);
    assert.equal(text.json.error_code, "UNSUPPORTED_MEDIA_TYPE");
    const poisoned = await server.api("POST", "/api/namespaces", '{"__proto__": {"admin": true}}');
    assert.equal(poisoned.status, 400, poisoned.text);
    const array = await server.api("POST", "/api/namespaces/default/pipelines/x/runs", [1]);
    assert.equal(array.status, 400, array.text);
  });
});
