import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { GoferApiError, GoferClient } from "../src/client/index.ts";
import { FakeServer } from "./support/fake-server.ts";

const token = {
  id: "t1",
  created: 1,
  metadata: {},
  expires: 0,
  disabled: false,
  user: "ci",
  roles: ["user"],
};
const role = {
  id: "devops",
  description: "DevOps",
  permissions: [{ resources: ["namespaces:^devops.*", "pipelines:.*"], actions: ["read" as const] }],
  system_role: false,
};

describe("client: tokens and roles", () => {
  const server = new FakeServer();
  let client: GoferClient;
  before(async () => {
    client = new GoferClient({ baseUrl: await server.start(), token: "secret" });
  });
  after(async () => {
    await server.stop();
  });

  test("tokens.create sends v0's body (expiry in seconds, 0 by default) and returns the secret", async () => {
    server.next = { status: 201, body: { token_details: token, secret: "s".repeat(40) } };
    const created = await client.tokens.create({ user: "ci", roles: ["user"], metadata: { team: "a" } });
    assert.equal(created.secret.length, 40);
    assert.deepEqual(created.token_details, token);
    assert.equal(server.last.method, "POST");
    assert.equal(server.last.url, "/api/tokens");
    assert.deepEqual(JSON.parse(server.last.body), {
      user: "ci",
      roles: ["user"],
      expires: 0,
      metadata: { team: "a" },
    });
  });

  test("tokens.list, get, setDisabled and delete use the v0 paths", async () => {
    server.next = { status: 200, body: { tokens: [token] } };
    assert.deepEqual(await client.tokens.list(), [token]);
    assert.equal(server.last.url, "/api/tokens");

    server.next = { status: 200, body: { token } };
    assert.deepEqual(await client.tokens.get("t/1"), token);
    assert.equal(server.last.url, "/api/tokens/t%2F1");

    server.next = { status: 204 };
    await client.tokens.setDisabled("t1", true);
    assert.equal(`${server.last.method} ${server.last.url}`, "PATCH /api/tokens/t1");
    assert.deepEqual(JSON.parse(server.last.body), { disabled: true });

    await client.tokens.delete("t1");
    assert.equal(`${server.last.method} ${server.last.url}`, "DELETE /api/tokens/t1");
  });

  test("roles: list, get, create, update, delete", async () => {
    server.next = { status: 200, body: { roles: [role] } };
    assert.deepEqual(await client.roles.list(), [role]);
    assert.equal(server.last.url, "/api/roles");

    server.next = { status: 200, body: { role } };
    assert.deepEqual(await client.roles.get("devops"), role);
    assert.equal(server.last.url, "/api/roles/devops");

    server.next = { status: 201, body: { role } };
    await client.roles.create({ id: "devops", permissions: role.permissions });
    assert.equal(`${server.last.method} ${server.last.url}`, "POST /api/roles");
    assert.deepEqual(JSON.parse(server.last.body), {
      id: "devops",
      description: "",
      permissions: role.permissions,
    });

    server.next = { status: 200, body: { role } };
    await client.roles.update("devops", { description: "new" });
    assert.equal(`${server.last.method} ${server.last.url}`, "PATCH /api/roles/devops");
    assert.deepEqual(JSON.parse(server.last.body), { description: "new" });

    server.next = { status: 204 };
    await client.roles.delete("devops");
    assert.equal(`${server.last.method} ${server.last.url}`, "DELETE /api/roles/devops");
  });

  test("a refused role surfaces as GoferApiError with the server's code", async () => {
    server.next = {
      status: 400,
      body: { request_id: "r", message: 'Unknown resource "pipelinez"', error_code: "INVALID_PERMISSION" },
    };
    await assert.rejects(
      client.roles.create({ id: "x", permissions: [{ resources: ["pipelinez"], actions: ["read"] }] }),
      (error: unknown) =>
        error instanceof GoferApiError && error.status === 400 && error.errorCode === "INVALID_PERMISSION",
    );
  });
});
