import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { pipelineConfig, shTask } from "./support/pipelines.ts";
import { type ApiResponse, startTestServer, type TestServer } from "./support/test-server.ts";

/** Every error answers with the v0 envelope, a stable code and the request id also sent as a header. */
function assertEnvelope(response: ApiResponse, status: number, code: string, message?: RegExp): void {
  assert.equal(response.status, status, response.text);
  assert.equal(typeof response.json?.request_id, "string", response.text);
  assert.equal(response.headers.get("x-request-id"), response.json.request_id);
  assert.equal(response.json.error_code, code, response.text);
  assert.equal(typeof response.json.message, "string");
  if (message) assert.match(response.json.message, message);
}

describe("API input handling", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ GOFER_WEB_API__REQUEST_BODY_LIMIT: "65536" });
  });
  after(async () => {
    await server.stop();
  });

  it("requires the gofer-api-version header", async () => {
    const response = await fetch(`${server.url}/api/namespaces`, {
      headers: { authorization: `Bearer ${server.token}` },
    });
    const text = await response.text();
    assertEnvelope(
      { status: response.status, headers: response.headers, text, json: JSON.parse(text) },
      400,
      "MISSING_API_VERSION",
      /gofer-api-version: v0/,
    );
    const wrong = await server.api("GET", "/api/namespaces", undefined, { "gofer-api-version": "v1" });
    assertEnvelope(wrong, 400, "MISSING_API_VERSION");
  });

  it("refuses requests without a valid token, and serves metadata without one", async () => {
    const anonymous = await server.api("GET", "/api/namespaces", undefined, { authorization: "" });
    assertEnvelope(anonymous, 401, "UNAUTHENTICATED", /Bearer/);
    const unknown = await server.api("GET", "/api/namespaces", undefined, {
      authorization: "Bearer not-a-real-token",
    });
    assertEnvelope(unknown, 401, "UNAUTHENTICATED");
    const malformed = await server.api("GET", "/api/namespaces", undefined, { authorization: "Basic abc" });
    assertEnvelope(malformed, 401, "UNAUTHENTICATED");
    const metadata = await server.api("GET", "/api/system/metadata", undefined, { authorization: "" });
    assert.equal(metadata.status, 200);
    assert.equal(typeof metadata.json.semver, "string");
    const whoami = await server.api("GET", "/api/tokens/whoami");
    assert.equal(whoami.status, 200);
    assert.deepEqual(whoami.json.token.roles, ["bootstrap"]);
    assert.equal(whoami.json.token.hash, undefined);
  });

  it("creates the bootstrap token once", async () => {
    const again = await server.api("POST", "/api/tokens/bootstrap", undefined, { authorization: "" });
    assertEnvelope(again, 409, "ALREADY_EXISTS");
  });

  it("answers malformed bodies with 400-class envelopes, never 500", async () => {
    assertEnvelope(await server.api("POST", "/api/namespaces", "{not json"), 400, "BAD_REQUEST");
    assertEnvelope(await server.api("POST", "/api/namespaces", ""), 400, "BAD_REQUEST");
    assertEnvelope(
      await server.api("POST", "/api/namespaces", { id: 42, name: "n", description: "d" }),
      400,
      "BAD_REQUEST",
      /id/,
    );
    assertEnvelope(
      await server.api("POST", "/api/namespaces", { id: "team", name: "n", description: "d", admin: true }),
      400,
      "BAD_REQUEST",
    );
    assertEnvelope(
      await server.api("POST", "/api/namespaces", "id=team", { "content-type": "text/plain" }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    assertEnvelope(
      await server.api("POST", "/api/namespaces", { id: "team", name: "x".repeat(70_000), description: "d" }),
      413,
      "BODY_TOO_LARGE",
    );
    assertEnvelope(await server.api("POST", "/api/namespaces", [1, 2]), 400, "BAD_REQUEST");
  });

  it("validates identifiers and refuses duplicates", async () => {
    for (const id of ["ab", "has_underscore", "has space", "x".repeat(33), "../etc"]) {
      const response = await server.api("POST", "/api/namespaces", { id, name: "n", description: "d" });
      assertEnvelope(response, 400, "INVALID_IDENTIFIER");
    }
    const created = await server.api("POST", "/api/namespaces", {
      id: "team-a",
      name: "Team A",
      description: "",
    });
    assert.equal(created.status, 201, created.text);
    assertEnvelope(
      await server.api("POST", "/api/namespaces", { id: "team-a", name: "again", description: "" }),
      409,
      "ALREADY_EXISTS",
    );
    assertEnvelope(
      await server.api("PATCH", "/api/namespaces/team-a", {}),
      400,
      "BAD_REQUEST",
      /Nothing to update/,
    );
    const renamed = await server.api("PATCH", "/api/namespaces/team-a", { name: "Team Alpha" });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.json.namespace.name, "Team Alpha");
  });

  it("answers unknown resources with 404 envelopes", async () => {
    assertEnvelope(await server.api("GET", "/api/namespaces/nope"), 404, "NOT_FOUND", /nope/);
    assertEnvelope(await server.api("GET", "/api/namespaces/default/pipelines/nope"), 404, "NOT_FOUND");
    assertEnvelope(
      await server.api("POST", "/api/namespaces/default/pipelines/nope/runs", { variables: {} }),
      404,
      "NOT_FOUND",
    );
    assertEnvelope(
      await server.api("GET", "/api/namespaces/default/pipelines/nope/runs/1/tasks/x/logs"),
      404,
      "NOT_FOUND",
    );
    assertEnvelope(await server.api("GET", "/api/no-such-route"), 404, "NOT_FOUND");
    assertEnvelope(await server.api("GET", "/api/events/999999"), 404, "NOT_FOUND");
  });

  it("validates query and path parameters", async () => {
    const base = "/api/namespaces/default/pipelines/nope/runs";
    assertEnvelope(await server.api("GET", `${base}?limit=abc`), 400, "BAD_REQUEST", /limit/);
    assertEnvelope(await server.api("GET", `${base}?limit=0`), 400, "BAD_REQUEST");
    assertEnvelope(await server.api("GET", `${base}?offset=-1`), 400, "BAD_REQUEST");
    assertEnvelope(await server.api("GET", `${base}/abc`), 400, "BAD_REQUEST");
    assertEnvelope(await server.api("GET", `${base}/1/tasks/..%2F..%2Fetc/logs`), 404, "NOT_FOUND");
    assertEnvelope(await server.api("GET", "/api/events/abc"), 400, "BAD_REQUEST");
  });

  it("validates pipeline configs server-side, naming the offending task, and stores nothing on failure", async () => {
    const register = (config: unknown, pipeline = "checked") =>
      server.api("POST", `/api/namespaces/default/pipelines/${pipeline}/configs`, { config });

    const cycle = await register(
      pipelineConfig("checked", [
        shTask("a", "true", { depends_on: { c: "Success" } }),
        shTask("b", "true", { depends_on: { a: "Success" } }),
        shTask("c", "true", { depends_on: { b: "Any" } }),
      ]),
    );
    assertEnvelope(cycle, 400, "INVALID_PIPELINE_CONFIG", /cycle/);
    assert.match(cycle.json.message, /a/);

    const duplicate = await register(
      pipelineConfig("checked", [shTask("build", "true"), shTask("build", "false")]),
    );
    assertEnvelope(duplicate, 400, "INVALID_PIPELINE_CONFIG", /duplicate task id `build`/);

    const unknownParent = await register(
      pipelineConfig("checked", [shTask("deploy", "true", { depends_on: { tset: "Success" } })]),
    );
    assertEnvelope(unknownParent, 400, "INVALID_PIPELINE_CONFIG", /`deploy` depends on `tset`/);

    const badCondition = await register(
      pipelineConfig("checked", [
        shTask("a", "true"),
        shTask("b", "true", { depends_on: { a: "Sometimes" } }),
      ]),
    );
    assertEnvelope(badCondition, 400, "INVALID_PIPELINE_CONFIG");

    const extraField = await register({ ...pipelineConfig("checked", [shTask("a", "true")]), triggers: [] });
    assertEnvelope(extraField, 400, "INVALID_PIPELINE_CONFIG", /triggers/);

    const mismatch = await register(pipelineConfig("other", [shTask("a", "true")]));
    assertEnvelope(mismatch, 400, "BAD_REQUEST", /does not match/);

    const badPipelineId = await register(pipelineConfig("bad_id", [shTask("a", "true")]), "bad_id");
    assertEnvelope(badPipelineId, 400, "INVALID_PIPELINE_CONFIG");

    const missingConfig = await server.api("POST", "/api/namespaces/default/pipelines/checked/configs", {});
    assertEnvelope(missingConfig, 400, "BAD_REQUEST", /config/);

    const missingNamespace = await server.api("POST", "/api/namespaces/ghost/pipelines/checked/configs", {
      config: pipelineConfig("checked", [shTask("a", "true")]),
    });
    assertEnvelope(missingNamespace, 404, "NOT_FOUND", /ghost/);

    assertEnvelope(await server.api("GET", "/api/namespaces/default/pipelines/checked"), 404, "NOT_FOUND");
  });

  it("refuses to start runs with invalid variables", async () => {
    const config = pipelineConfig("vars", [shTask("a", "true")]);
    const registered = await server.api("POST", "/api/namespaces/default/pipelines/vars/configs", { config });
    assert.equal(registered.status, 201);
    assert.equal((await server.api("POST", "/api/namespaces/default/pipelines/vars/configs/1")).status, 201);
    const runs = "/api/namespaces/default/pipelines/vars/runs";
    assertEnvelope(await server.api("POST", runs, { variables: { "A=B": "x" } }), 400, "BAD_REQUEST", /A=B/);
    assertEnvelope(await server.api("POST", runs, { variables: { A: 1 } }), 400, "BAD_REQUEST");
    assertEnvelope(await server.api("POST", runs, { variables: {}, extra: 1 }), 400, "BAD_REQUEST");
    const listed = await server.api("GET", runs);
    assert.deepEqual(listed.json.runs, []);
  });
});
