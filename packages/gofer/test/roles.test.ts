import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { deleteExpiredTokens } from "../src/storage/tokens-store.ts";
import { pipelineConfig, shTask } from "./support/pipelines.ts";
import { type ApiResponse, startTestServer, type TestServer } from "./support/test-server.ts";

describe("roles and tokens", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  const as = (secret: string | undefined) => (method: string, path: string, body?: unknown) =>
    server.api(method, path, body, { authorization: secret === undefined ? "" : `Bearer ${secret}` });

  const expectStatus = (response: ApiResponse, status: number, code?: string): void => {
    assert.equal(response.status, status, response.text);
    if (code) assert.equal(response.json.error_code, code, response.text);
  };

  async function createRole(id: string, permissions: { resources: string[]; actions: string[] }[]) {
    expectStatus(await server.api("POST", "/api/roles", { id, description: `${id} role`, permissions }), 201);
  }

  async function tokenFor(roles: string[], expires = 0): Promise<{ id: string; secret: string }> {
    const created = await server.api("POST", "/api/tokens", { user: "someone", roles, expires });
    expectStatus(created, 201);
    return { id: created.json.token_details.id, secret: created.json.secret };
  }

  async function register(namespace: string, pipeline: string): Promise<void> {
    const response = await server.api("POST", `/api/namespaces/${namespace}/pipelines/${pipeline}/configs`, {
      config: pipelineConfig(pipeline, [shTask("t", "true")]),
    });
    expectStatus(response, 201);
  }

  it("limits a devops role to the namespaces its regex matches", async () => {
    expectStatus(
      await server.api("POST", "/api/namespaces", { id: "devops-a", name: "A", description: "" }),
      201,
    );
    await register("devops-a", "build");
    await register("default", "secret-sauce");
    await createRole("devops", [
      { resources: ["namespaces:^devops.*", "pipelines:.*", "configs", "runs"], actions: ["read", "write"] },
    ]);
    const devops = as((await tokenFor(["devops"])).secret);

    const listed = await devops("GET", "/api/namespaces/devops-a/pipelines");
    expectStatus(listed, 200);
    assert.deepEqual(
      listed.json.pipelines.map((pipeline: { pipeline_id: string }) => pipeline.pipeline_id),
      ["build"],
    );
    const refused = await devops("GET", "/api/namespaces/default/pipelines");
    expectStatus(refused, 403, "FORBIDDEN");
    assert.match(refused.json.message, /read namespaces:default, pipelines/);
    // Denied the same way whether the pipeline exists or not.
    const existing = await devops("GET", "/api/namespaces/default/pipelines/secret-sauce");
    const missing = await devops("GET", "/api/namespaces/default/pipelines/no-such-thing");
    expectStatus(existing, 403);
    expectStatus(missing, 403);
    assert.equal(missing.json.message.replace("no-such-thing", "secret-sauce"), existing.json.message);
    // Write was granted, delete was not.
    expectStatus(await devops("PATCH", "/api/namespaces/devops-a/pipelines/build", { state: "active" }), 204);
    expectStatus(await devops("DELETE", "/api/namespaces/devops-a/pipelines/build"), 403);
    // Admin-only routes stay closed to it.
    expectStatus(
      await devops("POST", "/api/namespaces", { id: "devops-b", name: "B", description: "" }),
      403,
    );
  });

  it("matches targets against the whole id", async () => {
    await register("default", "web");
    await register("default", "web-internal");
    await createRole("web-reader", [
      { resources: ["namespaces:default", "pipelines:web"], actions: ["read"] },
    ]);
    const reader = as((await tokenFor(["web-reader"])).secret);
    expectStatus(await reader("GET", "/api/namespaces/default/pipelines/web"), 200);
    expectStatus(await reader("GET", "/api/namespaces/default/pipelines/web-internal"), 403);
    expectStatus(await reader("GET", "/api/namespaces/default-2/pipelines/web"), 403);
  });

  it("needs one role covering every resource, and the right action", async () => {
    await createRole("ns-only", [{ resources: ["namespaces:.*"], actions: ["read", "write"] }]);
    await createRole("runs-only", [{ resources: ["pipelines:.*", "runs"], actions: ["read", "write"] }]);
    const split = as((await tokenFor(["ns-only", "runs-only"])).secret);
    expectStatus(await split("GET", "/api/namespaces/default/pipelines/web/runs"), 403);

    await createRole("run-reader", [
      { resources: ["namespaces:.*", "pipelines:.*", "runs"], actions: ["read"] },
    ]);
    const reader = as((await tokenFor(["run-reader"])).secret);
    expectStatus(await reader("GET", "/api/namespaces/default/pipelines/web/runs"), 200);
    // Cancelling is a write (v0 asked only for read).
    const cancel = await reader("DELETE", "/api/namespaces/default/pipelines/web/runs/1");
    expectStatus(cancel, 403);
    assert.match(cancel.json.message, /may not write/);
  });

  it("gives the system `user` role task executions, so a user can read logs", async () => {
    const user = as((await tokenFor(["user"])).secret);
    expectStatus(await user("GET", "/api/namespaces/default/pipelines/web/runs/1/tasks"), 404);
    expectStatus(await user("GET", "/api/namespaces/devops-a/pipelines/build/runs/1/tasks"), 403);
    expectStatus(await user("GET", "/api/tokens"), 403);
  });

  it("refuses bad roles with 400, duplicates with 409, and changes to system roles with 403", async () => {
    const unknown = await server.api("POST", "/api/roles", {
      id: "bad",
      description: "",
      permissions: [{ resources: ["namespaces:.*", "pipelinez:.*"], actions: ["read"] }],
    });
    expectStatus(unknown, 400, "INVALID_PERMISSION");
    assert.match(unknown.json.message, /pipelinez:\.\*/);
    const badRegex = await server.api("POST", "/api/roles", {
      id: "bad",
      description: "",
      permissions: [{ resources: ["pipelines:(unclosed"], actions: ["read"] }],
    });
    expectStatus(badRegex, 400, "INVALID_PERMISSION");
    const noTarget = await server.api("POST", "/api/roles", {
      id: "bad",
      description: "",
      permissions: [{ resources: ["namespaces"], actions: ["read"] }],
    });
    expectStatus(noTarget, 400, "INVALID_PERMISSION");
    const badAction = await server.api("POST", "/api/roles", {
      id: "bad",
      description: "",
      permissions: [{ resources: ["runs"], actions: ["execute"] }],
    });
    expectStatus(badAction, 400);
    expectStatus(
      await server.api("POST", "/api/roles", { id: "bad id", description: "", permissions: [] }),
      400,
    );
    expectStatus(await server.api("GET", "/api/roles/bad"), 404, "NOT_FOUND");

    await createRole("auditor", [{ resources: ["events"], actions: ["read"] }]);
    expectStatus(
      await server.api("POST", "/api/roles", { id: "auditor", description: "", permissions: [] }),
      409,
      "ALREADY_EXISTS",
    );
    const updated = await server.api("PATCH", "/api/roles/auditor", {
      permissions: [{ resources: ["events", "runs"], actions: ["read"] }],
    });
    expectStatus(updated, 200);
    assert.deepEqual(updated.json.role.permissions[0].resources, ["events", "runs"]);
    assert.equal(updated.json.role.description, "auditor role");
    expectStatus(await server.api("PATCH", "/api/roles/auditor", {}), 400);

    for (const system of ["admin", "user", "anonymous", "bootstrap"]) {
      const role = await server.api("GET", `/api/roles/${system}`);
      expectStatus(role, 200);
      assert.equal(role.json.role.system_role, true);
      expectStatus(await server.api("PATCH", `/api/roles/${system}`, { description: "x" }), 403, "FORBIDDEN");
      expectStatus(await server.api("DELETE", `/api/roles/${system}`), 403, "FORBIDDEN");
    }
    const listed = await server.api("GET", "/api/roles");
    assert.ok(listed.json.roles.some((role: { id: string }) => role.id === "auditor"));
    expectStatus(await server.api("DELETE", "/api/roles/auditor"), 204);
    expectStatus(await server.api("GET", "/api/roles/auditor"), 404);
  });

  it("creates, disables, expires and deletes tokens", async () => {
    const created = await server.api("POST", "/api/tokens", {
      user: "ci-bot",
      roles: ["user"],
      expires: 0,
      metadata: { team: "ci" },
    });
    expectStatus(created, 201);
    const { token_details: details, secret } = created.json;
    assert.ok(secret.length >= 32);
    assert.deepEqual(
      { user: details.user, roles: details.roles, expires: details.expires, metadata: details.metadata },
      { user: "ci-bot", roles: ["user"], expires: 0, metadata: { team: "ci" } },
    );
    assert.equal(details.hash, undefined);
    const bot = as(secret);
    expectStatus(await bot("GET", "/api/tokens/whoami"), 200);
    expectStatus(await server.api("GET", `/api/tokens/${details.id}`), 200);
    const listed = await server.api("GET", "/api/tokens");
    assert.ok(listed.json.tokens.some((token: { id: string }) => token.id === details.id));
    assert.ok(!listed.text.includes(secret));

    expectStatus(await server.api("PATCH", `/api/tokens/${details.id}`, { disabled: true }), 204);
    const disabled = await bot("GET", "/api/tokens/whoami");
    expectStatus(disabled, 401, "TOKEN_DISABLED");
    assert.match(disabled.json.message, /^Token disabled/);
    expectStatus(await server.api("PATCH", `/api/tokens/${details.id}`, { disabled: false }), 204);
    expectStatus(await bot("GET", "/api/tokens/whoami"), 200);
    expectStatus(await server.api("PATCH", `/api/tokens/${details.id}`, {}), 400);
    expectStatus(await server.api("PATCH", "/api/tokens/no-such-token", { disabled: true }), 404);

    expectStatus(await server.api("DELETE", `/api/tokens/${details.id}`), 204);
    expectStatus(await bot("GET", "/api/tokens/whoami"), 401, "UNAUTHENTICATED");
    expectStatus(await server.api("DELETE", `/api/tokens/${details.id}`), 404);

    const shortLived = await tokenFor(["user"], 1);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const expired = await as(shortLived.secret)("GET", "/api/tokens/whoami");
    expectStatus(expired, 401, "TOKEN_EXPIRED");
    assert.match(expired.json.message, /^Token expired/);
    // The sweep the server runs at boot and hourly deletes the row.
    assert.ok((await deleteExpiredTokens(server.service.db, Date.now())) >= 1);
    expectStatus(await server.api("GET", `/api/tokens/${shortLived.id}`), 404);
  });

  it("refuses the bootstrap role, unknown roles, and disabling one's own token", async () => {
    const bootstrap = await server.api("POST", "/api/tokens", {
      user: "x",
      roles: ["bootstrap"],
      expires: 0,
    });
    expectStatus(bootstrap, 403, "FORBIDDEN");
    const unknown = await server.api("POST", "/api/tokens", {
      user: "x",
      roles: ["no-such-role"],
      expires: 0,
    });
    expectStatus(unknown, 400);
    assert.match(unknown.json.message, /no-such-role/);

    const me = await server.api("GET", "/api/tokens/whoami");
    expectStatus(
      await server.api("PATCH", `/api/tokens/${me.json.token.id}`, { disabled: true }),
      409,
      "CONFLICT",
    );
    const admin = await tokenFor(["admin"]);
    const own = await as(admin.secret)("PATCH", `/api/tokens/${admin.id}`, { disabled: true });
    expectStatus(own, 409, "CONFLICT");
  });

  it("lets requests without a token read pipelines and runs of the default namespace only", async () => {
    const anonymous = as(undefined);
    expectStatus(await anonymous("GET", "/api/namespaces/default/pipelines"), 200);
    expectStatus(await anonymous("GET", "/api/namespaces/default/pipelines/web"), 200);
    expectStatus(await anonymous("GET", "/api/namespaces/default/pipelines/web/runs"), 200);
    expectStatus(await anonymous("GET", "/api/namespaces/default/pipelines/web/runs/1"), 404);
    expectStatus(await anonymous("GET", "/api/namespaces/devops-a/pipelines"), 401, "UNAUTHENTICATED");
    expectStatus(await anonymous("GET", "/api/namespaces/default/pipelines/web/configs"), 401);
    expectStatus(await anonymous("POST", "/api/namespaces/default/pipelines/web/runs", {}), 401);
    expectStatus(await anonymous("GET", "/api/namespaces"), 401);
    // A wrong token is not treated as no token (v0 fell back to anonymous).
    expectStatus(await as("wrong-token")("GET", "/api/namespaces/default/pipelines"), 401, "UNAUTHENTICATED");
  });
});
