/**
 * Walks every operation of the served OpenAPI document with six callers — no token, an unknown token, an expired
 * one, a disabled one, a token whose role covers only another namespace, and a sufficient one — and checks each
 * answer. Refusals must not depend on whether the named pipeline exists; every caller the access table lets
 * through must get the operation's success status (the 2xx the served document declares; for WebSocket
 * routes, an opened socket), so a wrong 400 or 404 to an allowed caller fails here.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { ROUTE_ACCESS, type RouteAccess } from "../src/auth/route-access.ts";
import {
  type Answer,
  INSTEAD_OF_SUCCESS,
  type Operation,
  type OperationWalk,
  prepareOperationWalk,
  UNDECLARED_SUCCESS,
  WEBSOCKETS,
} from "./support/operation-walk.ts";
import type { TestServer } from "./support/test-server.ts";

type Identity = "none" | "unknown" | "expired" | "disabled" | "other-namespace" | "sufficient";

const ANONYMOUS_OPERATIONS = ["list_pipelines", "get_pipeline", "list_runs", "get_run"];

const needsNamespaceTarget = (access: RouteAccess): boolean =>
  access.kind === "resources" && access.resources.some((resource) => resource.startsWith("namespaces:{"));

describe("authorization matrix over every served operation", () => {
  let server: TestServer;
  let operations: Operation[];
  const secrets: Partial<Record<Identity, string>> = {};
  let adminSecret: string;
  let walk: OperationWalk;

  const request = (
    identity: Identity,
    method: string,
    path: string,
    body?: unknown,
    secretOverride?: string,
  ): Promise<Answer> => walk.call(method, path, body, secretOverride ?? secrets[identity]);

  before(async () => {
    walk = await prepareOperationWalk();
    server = walk.server;
    operations = walk.operations;
    adminSecret = server.token;
    secrets.unknown = "not-a-token-this-server-ever-issued-0123456789";
    secrets.expired = (await walk.createToken(["default-only"], { expires: 1 })).secret;
    const disabled = await walk.createToken(["default-only"]);
    const disabling = await server.api("PATCH", `/api/tokens/${disabled.id}`, { disabled: true });
    assert.equal(disabling.status, 204, disabling.text);
    secrets.disabled = disabled.secret;
    secrets["other-namespace"] = (await walk.createToken(["elsewhere-only"])).secret;
    secrets.sufficient = (await walk.createToken(["default-only"])).secret;
    // Let the expired token's second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });

  after(async () => {
    await walk.stop();
  });

  const fillPath = (operation: Operation, overrides?: Record<string, string>): string =>
    walk.fillPath(operation, overrides);
  const bodyFor = (operationId: string): unknown => walk.bodyFor(operationId);

  const expected = (identity: Identity, operation: Operation): { status?: number; code?: string } => {
    const access = ROUTE_ACCESS[operation.operationId] as RouteAccess;
    if (access.kind === "public") return {};
    switch (identity) {
      case "none":
        return ANONYMOUS_OPERATIONS.includes(operation.operationId)
          ? {}
          : { status: 401, code: "UNAUTHENTICATED" };
      case "unknown":
        return { status: 401, code: "UNAUTHENTICATED" };
      case "expired":
        return { status: 401, code: "TOKEN_EXPIRED" };
      case "disabled":
        return { status: 401, code: "TOKEN_DISABLED" };
      case "other-namespace":
        return access.kind === "admin" || needsNamespaceTarget(access)
          ? { status: 403, code: "FORBIDDEN" }
          : {};
      case "sufficient":
        return {};
    }
  };

  const identities: Identity[] = ["none", "unknown", "expired", "disabled", "other-namespace", "sufficient"];

  it("has an access entry and a success status for every served operation", () => {
    assert.ok(operations.length >= 40, `only ${operations.length} operations served`);
    for (const operation of operations) {
      assert.ok(ROUTE_ACCESS[operation.operationId], `${operation.operationId} has no entry`);
      const undeclared = UNDECLARED_SUCCESS[operation.operationId];
      if (undeclared !== undefined)
        assert.equal(
          operation.success,
          undefined,
          `${operation.operationId} now declares its success status`,
        );
      else if (!INSTEAD_OF_SUCCESS[operation.operationId] && !WEBSOCKETS.has(operation.operationId))
        assert.ok(operation.success, `${operation.operationId} declares no 2xx status`);
    }
    const served = new Set(operations.map((operation) => operation.operationId));
    for (const operationId of [...Object.keys(UNDECLARED_SUCCESS), ...Object.keys(INSTEAD_OF_SUCCESS)])
      assert.ok(served.has(operationId), `${operationId} is listed but not served`);
  });

  it("answers each caller as the access table says, and refusals do not reveal existence", async () => {
    for (const operation of operations) {
      for (const identity of identities) {
        const want = expected(identity, operation);
        // Admin routes are exercised with an admin token; every other route with the scoped role.
        const secret =
          identity === "sufficient" && ROUTE_ACCESS[operation.operationId]?.kind === "admin"
            ? adminSecret
            : undefined;
        const overrides = want.status === undefined ? await walk.throwaway(operation.operationId) : undefined;
        const path = fillPath(operation, overrides);
        const answer = await request(
          identity,
          operation.method,
          path,
          bodyFor(operation.operationId),
          secret,
        );
        const where = `${identity} ${operation.method} ${path} (${operation.operationId}): ${answer.status} ${answer.message}`;
        if (want.status !== undefined) {
          assert.equal(answer.status, want.status, where);
          assert.equal(answer.code, want.code, where);
          if (operation.path.includes("{pipeline_id}")) {
            // Refusals are not mutations, so even destructive operations can name the real pipeline here.
            const [existing, ghost] = await Promise.all(
              ["matrix", "ghost-pipeline"].map((pipeline_id) =>
                request(
                  identity,
                  operation.method,
                  fillPath(operation, { pipeline_id }),
                  bodyFor(operation.operationId),
                ),
              ),
            );
            assert.ok(existing && ghost);
            assert.equal(ghost.status, existing.status, `${where} vs a missing pipeline`);
            // The message may echo the ids the caller sent, and nothing else.
            assert.equal(ghost.message?.replaceAll("ghost-pipeline", "matrix"), existing.message, where);
            assert.doesNotMatch(existing.message ?? "", /not found|exist/i, where);
          }
        } else {
          const must = walk.success(operation);
          assert.equal(answer.status, must.status, where);
          if (must.code !== undefined) assert.equal(answer.code, must.code, where);
        }
      }
    }
  });

  it("refuses WebSocket upgrades the same way", async () => {
    for (const operation of operations.filter((item) => WEBSOCKETS.has(item.operationId))) {
      for (const identity of identities) {
        const want = expected(identity, operation);
        const outcome = await upgrade(fillPath(operation), secrets[identity]);
        const where = `${identity} WS ${operation.path}`;
        if (want.status !== undefined) assert.equal(outcome, want.status, where);
        else assert.equal(outcome, "open", where);
      }
    }
    assert.equal(operations.filter((item) => WEBSOCKETS.has(item.operationId)).length, WEBSOCKETS.size);
  });

  it("lets the anonymous role read only the default namespace", async () => {
    const listed = await request("none", "GET", "/api/namespaces/elsewhere/pipelines");
    assert.equal(listed.status, 401);
    const own = await request("none", "GET", "/api/namespaces/default/pipelines");
    assert.equal(own.status, 200);
  });

  /** Opens a WebSocket with the given secret; returns "open" or the HTTP status that refused the upgrade. */
  function upgrade(path: string, secret: string | undefined): Promise<number | "open"> {
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = { "gofer-api-version": "v0" };
      if (secret) headers.authorization = `Bearer ${secret}`;
      const socket = new WebSocket(server.url.replace(/^http/, "ws") + path, { headers });
      const timer = setTimeout(() => {
        socket.terminate();
        reject(new Error(`no answer to the upgrade of ${path}`));
      }, 10_000);
      socket.on("open", () => {
        clearTimeout(timer);
        socket.terminate();
        resolve("open");
      });
      socket.on("error", () => undefined);
      socket.on("unexpected-response", (_request, response) => {
        clearTimeout(timer);
        response.resume();
        socket.terminate();
        resolve(response.statusCode ?? 0);
      });
    });
  }
});
