/**
 * Walks every operation of the served OpenAPI document with six callers — no token, an unknown token, an expired
 * one, a disabled one, a token whose role covers only another namespace, and a sufficient one — and checks each
 * answer. Refusals must not depend on whether the named pipeline exists.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import { ROUTE_ACCESS, type RouteAccess } from "../src/auth/route-access.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

type Identity = "none" | "unknown" | "expired" | "disabled" | "other-namespace" | "sufficient";

interface Operation {
  operationId: string;
  method: string;
  path: string;
}

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
}

/** Operations whose GET is (also) a WebSocket upgrade. */
const WEBSOCKETS = new Set(["stream_events", "get_logs"]);
const ANONYMOUS_OPERATIONS = ["list_pipelines", "get_pipeline", "list_runs", "get_run"];

/** Every plain resource (not `all`): a role with these plus targets covers everything but what targets exclude. */
const PLAIN_RESOURCES = [
  "configs",
  "deployments",
  "events",
  "objects",
  "permissions",
  "runs",
  "secrets",
  "subscriptions",
  "system",
  "task_executions",
  "tokens",
];
const fullRole = (id: string, namespaceRegex: string) => ({
  id,
  description: `everything in namespaces matching ${namespaceRegex}`,
  permissions: [
    {
      resources: [`namespaces:${namespaceRegex}`, "pipelines:.*", "extensions:.*", ...PLAIN_RESOURCES],
      actions: ["read", "write", "delete"],
    },
  ],
});

const needsNamespaceTarget = (access: RouteAccess): boolean =>
  access.kind === "resources" && access.resources.some((resource) => resource.startsWith("namespaces:{"));

describe("authorization matrix over every served operation", () => {
  let server: TestServer;
  let operations: Operation[];
  const secrets: Partial<Record<Identity, string>> = {};
  let adminSecret: string;
  let runId: number;
  /** A second run, for the operations that cancel a task or delete its logs. */
  let spareRunId: number;
  let throwawayTokenId: string;

  const request = async (
    identity: Identity,
    method: string,
    path: string,
    body?: unknown,
    secretOverride?: string,
  ): Promise<Answer> => {
    const headers: Record<string, string> = { "gofer-api-version": "v0" };
    const secret = secretOverride ?? secrets[identity];
    if (secret) headers.authorization = `Bearer ${secret}`;
    const init: RequestInit = { method, headers };
    if (body !== undefined) {
      init.body = JSON.stringify(body);
      headers["content-type"] = "application/json";
    }
    const response = await fetch(`${server.url}${path}`, init);
    const text = await response.text();
    let json: { error_code?: string; message?: string } | undefined;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, code: json?.error_code, message: json?.message };
  };

  const createToken = async (roles: string[], expires = 0): Promise<{ id: string; secret: string }> => {
    const created = await server.api("POST", "/api/tokens", { user: "matrix", roles, expires });
    assert.equal(created.status, 201, created.text);
    return { id: created.json.token_details.id, secret: created.json.secret };
  };

  before(async () => {
    server = await startTestServer();
    adminSecret = server.token;
    for (const role of [fullRole("default-only", "^default$"), fullRole("elsewhere-only", "^elsewhere$")]) {
      const created = await server.api("POST", "/api/roles", role);
      assert.equal(created.status, 201, created.text);
    }
    for (const id of ["elsewhere", "disposable"]) {
      const created = await server.api("POST", "/api/namespaces", { id, name: id, description: "" });
      assert.equal(created.status, 201, created.text);
    }
    await deployPipeline(server, pipelineConfig("matrix", [shTask("hello", "echo hello")]));
    runId = await startRun(server, "matrix");
    await waitForRun(server, "matrix", runId);
    spareRunId = await startRun(server, "matrix");
    await waitForRun(server, "matrix", spareRunId);

    secrets.unknown = "not-a-token-this-server-ever-issued-0123456789";
    secrets.expired = (await createToken(["default-only"], 1)).secret;
    const disabled = await createToken(["default-only"]);
    const disabling = await server.api("PATCH", `/api/tokens/${disabled.id}`, { disabled: true });
    assert.equal(disabling.status, 204, disabling.text);
    secrets.disabled = disabled.secret;
    secrets["other-namespace"] = (await createToken(["elsewhere-only"])).secret;
    secrets.sufficient = (await createToken(["default-only"])).secret;
    throwawayTokenId = (await createToken([])).id;
    const throwawayRole = await server.api("POST", "/api/roles", fullRole("throwaway", "^x$"));
    assert.equal(throwawayRole.status, 201, throwawayRole.text);
    // Let the expired token's second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const document = (await fetch(`${server.url}/api/openapi.json`).then((response) => response.json())) as {
      paths: Record<string, Record<string, unknown>>;
    };
    operations = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const operationId = (operation as { operationId?: string }).operationId;
        if (operationId) operations.push({ operationId, method: method.toUpperCase(), path });
      }
    }
  });

  after(async () => {
    // Runs started by the walk must end before the server checks for leftover containers.
    const runs = await server.api("GET", "/api/namespaces/default/pipelines/matrix/runs");
    for (const run of runs.json?.runs ?? []) await waitForRun(server, "matrix", run.run_id);
    await server.stop();
  });

  /** Real ids for path parameters; destructive operations get ids whose loss costs nothing. */
  const fillPath = (operation: Operation, overrides: Record<string, string> = {}): string => {
    const destructive: Record<string, Record<string, string>> = {
      delete_namespace: { namespace_id: "disposable" },
      update_namespace: { namespace_id: "disposable" },
      delete_pipeline: { pipeline_id: "never-registered" },
      delete_logs: { run_id: String(spareRunId) },
      cancel_task_execution: { run_id: String(spareRunId) },
      update_token: { id: throwawayTokenId },
      delete_token: { id: throwawayTokenId },
      update_role: { role_id: "throwaway" },
      delete_role: { role_id: "throwaway" },
    };
    const values: Record<string, string> = {
      namespace_id: "default",
      pipeline_id: "matrix",
      run_id: String(runId),
      task_id: "hello",
      version: "1",
      deployment_id: "1",
      event_id: "1",
      id: throwawayTokenId,
      role_id: "default-only",
      key: "matrix-key",
      extension_id: "matrix-extension",
      ...destructive[operation.operationId],
      ...overrides,
    };
    return operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = values[name];
      assert.ok(value, `no value for path parameter {${name}} of ${operation.operationId}`);
      return encodeURIComponent(value);
    });
  };

  const bodyFor = (operationId: string): unknown => {
    const bodies: Record<string, unknown> = {
      create_token: { user: "someone", roles: [], expires: 0 },
      update_token: { disabled: true },
      create_role: { id: "made-by-matrix", description: "", permissions: [] },
      update_role: { description: "changed" },
      create_namespace: { id: "made-by-matrix", name: "m", description: "" },
      update_namespace: { name: "renamed" },
      update_pipeline: { state: "active" },
      register_config: { config: pipelineConfig("matrix", [shTask("hello", "echo hello")]) },
      start_run: { variables: {} },
    };
    return bodies[operationId];
  };

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

  it("has an access entry for every served operation", () => {
    assert.ok(operations.length >= 40, `only ${operations.length} operations served`);
    for (const { operationId } of operations)
      assert.ok(ROUTE_ACCESS[operationId], `${operationId} has no entry`);
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
        const path = fillPath(operation);
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
          assert.ok(answer.status < 500 && answer.status !== 401 && answer.status !== 403, where);
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
