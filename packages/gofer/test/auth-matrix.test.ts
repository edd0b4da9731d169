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
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./support/pipelines.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

type Identity = "none" | "unknown" | "expired" | "disabled" | "other-namespace" | "sufficient";

interface Operation {
  operationId: string;
  method: string;
  path: string;
  /** The 2xx status the served document declares for the operation, if it declares one. */
  success: number | undefined;
}

interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
}

/** Operations whose GET is (also) a WebSocket upgrade. */
const WEBSOCKETS = new Set(["stream_events", "get_logs", "get_attempt_logs", "get_extension_logs"]);
const ANONYMOUS_OPERATIONS = ["list_pipelines", "get_pipeline", "list_runs", "get_run"];

/**
 * Success statuses the served document leaves undeclared: a plain GET of the log route answers 200 with the log
 * as text (v0 documents only its WebSocket upgrade, checked in the WebSocket test). An entry must go once the
 * document declares the status; the first test checks that.
 */
const UNDECLARED_SUCCESS: Record<string, number> = {
  get_logs: 200,
  get_attempt_logs: 200,
  get_extension_logs: 200,
};

/**
 * The allowlist: allowed calls that cannot get their success status in this walk, and what they must get
 * instead. Keep it short; everything else must succeed.
 */
const INSTEAD_OF_SUCCESS: Record<string, { status: number; code: string }> = {
  // A server hands out one bootstrap token, and startTestServer already took it.
  create_bootstrap_token: { status: 409, code: "ALREADY_EXISTS" },
  // WebSocket only: a plain GET is refused; its success, the upgrade, is checked in the WebSocket test.
  stream_events: { status: 400, code: "BAD_REQUEST" },
  // The walk's tasks have finished, and only a running task can be attached to (task-attach.test.ts).
  attach_task_execution: { status: 409, code: "CONFLICT" },
};

/** Query strings the operations need to succeed: secrets only answer with `include_secret`, objects overwrite. */
const QUERIES: Record<string, string> = {
  get_pipeline_secret: "include_secret=true",
  get_global_secret: "include_secret=true",
  put_pipeline_object: "force=true",
  put_run_object: "force=true",
  put_extension_object: "force=true",
};

/** The key every secret and object made in setup is stored under. */
const KEY = "matrix-key";
/** A real extension (the interval image from `npm run images`) that extension and subscription routes act on. */
const EXTENSION = "matrix-extension";
const EXTENSION_IMAGE = "gofer/extension-interval:latest";
const SUBSCRIPTION = "matrix-sub";
const OBJECT_BYTES = new TextEncoder().encode("matrix object bytes");

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
  /** A second run, for the operation that cancels a task (a no-op on a complete task). */
  let spareRunId: number;
  let throwawayTokenId: string;
  /** Numbers the throwaway resources made for destructive operations. */
  let made = 0;
  /** The next event id `delete_event` may take (event 1 stays for `get_event`). */
  let nextEventId = 2;

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
    if (body instanceof Uint8Array) {
      init.body = body;
      headers["content-type"] = "application/octet-stream";
    } else if (body !== undefined) {
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

  const pipelineBase = (pipelineId = "matrix") => `/api/namespaces/default/pipelines/${pipelineId}`;

  /** Registers (does not deploy) a config of `matrix`'s shape for the pipeline; returns its version. */
  const registerConfig = async (pipelineId: string): Promise<number> => {
    const config = pipelineConfig(pipelineId, [shTask("hello", "echo hello")]);
    const registered = await server.api("POST", `${pipelineBase(pipelineId)}/configs`, { config });
    assert.equal(registered.status, 201, registered.text);
    return registered.json.pipeline.config.version;
  };

  /** Stores an object under `objectsPath` (a list path) with the admin token. */
  const putObject = async (objectsPath: string, key: string): Promise<void> => {
    const stored = await server.api("POST", `${objectsPath}/${key}`, "bytes", {
      "content-type": "application/octet-stream",
    });
    assert.equal(stored.status, 201, stored.text);
  };

  const putPipelineSecret = async (key: string): Promise<void> => {
    const stored = await server.api("POST", `${pipelineBase()}/secrets`, {
      key,
      content: "s3cret",
      force: true,
    });
    assert.equal(stored.status, 201, stored.text);
  };

  const putGlobalSecret = async (key: string): Promise<void> => {
    const stored = await server.api("POST", "/api/secrets/global", {
      key,
      content: "s3cret",
      namespaces: ["default"],
      force: true,
    });
    assert.equal(stored.status, 201, stored.text);
  };

  const installExtension = async (id: string): Promise<void> => {
    const installed = await server.api("POST", "/api/extensions", {
      id,
      image: EXTENSION_IMAGE,
      settings: {},
    });
    assert.equal(installed.status, 201, installed.text);
  };
  const createSubscription = async (subscriptionId: string): Promise<void> => {
    const created = await server.api("POST", `${pipelineBase()}/subscriptions`, {
      extension_id: EXTENSION,
      subscription_id: subscriptionId,
      settings: { every: "1h" },
    });
    assert.equal(created.status, 201, created.text);
  };

  /**
   * Path values for one allowed call of a destructive operation: a resource made just for it, so every allowed
   * caller finds one to destroy and the walk's later operations still find theirs. Refused calls never get
   * here: they name the long-lived resources (a refusal mutates nothing).
   */
  const throwaway: Record<string, () => Promise<Record<string, string>>> = {
    delete_token: async () => ({ id: (await createToken([])).id }),
    delete_role: async () => {
      const role_id = `doomed-role-${++made}`;
      const created = await server.api("POST", "/api/roles", {
        id: role_id,
        description: "",
        permissions: [],
      });
      assert.equal(created.status, 201, created.text);
      return { role_id };
    },
    delete_namespace: async () => {
      const namespace_id = `doomed-namespace-${++made}`;
      const created = await server.api("POST", "/api/namespaces", {
        id: namespace_id,
        name: "d",
        description: "",
      });
      assert.equal(created.status, 201, created.text);
      return { namespace_id };
    },
    delete_pipeline: async () => {
      const pipeline_id = `doomed-pipeline-${++made}`;
      await registerConfig(pipeline_id);
      return { pipeline_id };
    },
    // A newly registered version: deploying it leaves `matrix` running the same tasks.
    deploy_config: async () => ({ version: String(await registerConfig("matrix")) }),
    // Neither live nor the latest: a newer version is registered after it.
    delete_config: async () => {
      const version = await registerConfig("matrix");
      await registerConfig("matrix");
      return { version: String(version) };
    },
    cancel_run: async () => ({ run_id: String(await startRun(server, "matrix")) }),
    // Only a failed or cancelled run can be retried: a fresh run is cancelled and retried.
    retry_run: async () => {
      // The cancel nearly always lands before the short task ends; a run that won the race is tried again.
      for (let tries = 0; tries < 5; tries++) {
        const run_id = await startRun(server, "matrix");
        await server.api("DELETE", `${pipelineBase()}/runs/${run_id}`);
        const { run } = await waitForRun(server, "matrix", run_id);
        if (run.status === "cancelled") return { run_id: String(run_id) };
      }
      throw new Error("no run of matrix could be cancelled before it ended");
    },
    delete_logs: async () => {
      const run_id = await startRun(server, "matrix");
      await waitForRun(server, "matrix", run_id);
      return { run_id: String(run_id) };
    },
    delete_event: async () => {
      for (; nextEventId < 10_000; nextEventId++) {
        const found = await server.api("GET", `/api/events/${nextEventId}`);
        if (found.status === 200) return { event_id: String(nextEventId++) };
      }
      throw new Error("no event left to delete");
    },
    delete_pipeline_object: async () => {
      const key = `doomed-object-${++made}`;
      await putObject(`${pipelineBase()}/objects`, key);
      return { key };
    },
    delete_run_object: async () => {
      const key = `doomed-object-${++made}`;
      await putObject(`${pipelineBase()}/runs/${runId}/objects`, key);
      return { key };
    },
    delete_extension_object: async () => {
      const key = `doomed-object-${++made}`;
      await putObject(`/api/extensions/${EXTENSION}/objects`, key);
      return { key };
    },
    uninstall_extension: async () => {
      const extension_id = `doomed-extension-${++made}`;
      await installExtension(extension_id);
      return { extension_id };
    },
    delete_subscription: async () => {
      const subscription_id = `doomed-sub-${++made}`;
      await createSubscription(subscription_id);
      return { subscription_id };
    },
    delete_pipeline_secret: async () => {
      const key = `doomed-secret-${++made}`;
      await putPipelineSecret(key);
      return { key };
    },
    delete_global_secret: async () => {
      const key = `doomed-secret-${++made}`;
      await putGlobalSecret(key);
      return { key };
    },
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
    // What the secret and object operations read, replace and (as refused callers) try to delete.
    await putPipelineSecret(KEY);
    await putGlobalSecret(KEY);
    await putObject(`${pipelineBase()}/objects`, KEY);
    await putObject(`${pipelineBase()}/runs/${runId}/objects`, KEY);
    await installExtension(EXTENSION);
    await createSubscription(SUBSCRIPTION);
    await putObject(`/api/extensions/${EXTENSION}/objects`, KEY);
    // Let the expired token's second pass.
    await new Promise((resolve) => setTimeout(resolve, 1100));

    const document = (await fetch(`${server.url}/api/openapi.json`).then((response) => response.json())) as {
      paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
    };
    operations = [];
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, { operationId, responses = {} }] of Object.entries(methods)) {
        if (!operationId) continue;
        const successes = Object.keys(responses).filter((status) => /^2\d\d$/.test(status));
        assert.ok(successes.length <= 1, `${operationId} declares ${successes.join(", ")}`);
        const success = successes[0] === undefined ? undefined : Number(successes[0]);
        operations.push({ operationId, method: method.toUpperCase(), path, success });
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
      attempt: "1",
      version: "1",
      deployment_id: "1",
      event_id: "1",
      id: throwawayTokenId,
      role_id: "default-only",
      key: KEY,
      extension_id: EXTENSION,
      subscription_id: SUBSCRIPTION,
      ...destructive[operation.operationId],
      ...overrides,
    };
    const path = operation.path.replace(/\{(\w+)\}/g, (_match, name: string) => {
      const value = values[name];
      assert.ok(value, `no value for path parameter {${name}} of ${operation.operationId}`);
      return encodeURIComponent(value);
    });
    const query = QUERIES[operation.operationId];
    return query ? `${path}?${query}` : path;
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
      put_pipeline_secret: { key: KEY, content: "replaced", force: true },
      put_global_secret: { key: KEY, content: "replaced", namespaces: ["default"], force: true },
      put_pipeline_object: OBJECT_BYTES,
      put_run_object: OBJECT_BYTES,
      put_extension_object: OBJECT_BYTES,
      install_extension: { id: "made-by-matrix", image: EXTENSION_IMAGE, settings: {} },
      update_extension: { enable: true },
      create_subscription: {
        extension_id: EXTENSION,
        subscription_id: "made-by-matrix",
        settings: { every: "1h" },
      },
      update_subscription: { status: "active" },
      // false: a paused server would refuse the start_run calls that follow.
      update_system_preferences: { ignore_pipeline_run_events: false },
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

  /** What an allowed call must answer. */
  const success = (operation: Operation): { status: number; code?: string } => {
    const instead = INSTEAD_OF_SUCCESS[operation.operationId];
    if (instead) return instead;
    const status = operation.success ?? UNDECLARED_SUCCESS[operation.operationId];
    assert.ok(status, `${operation.operationId} declares no success status`);
    return { status };
  };

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
        const overrides = want.status === undefined ? await throwaway[operation.operationId]?.() : undefined;
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
          const must = success(operation);
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
