/**
 * A test server on which every operation of the served OpenAPI document can be called and succeed: a deployed
 * pipeline `matrix` with finished runs, secrets, objects, an installed extension with a subscription, spare
 * namespaces, roles and tokens, plus for each operation real path values, a body, the query it needs, and for
 * destructive operations a resource made just for the one call. Shared by the authorization matrix (every
 * operation with six callers) and the audit test (every change's audit row).
 */

import assert from "node:assert/strict";
import { PLAIN_RESOURCE_NAMES } from "../../src/domain/permissions.ts";
import { freePort } from "./free-port.ts";
import { deployPipeline, pipelineConfig, shTask, startRun, waitForRun } from "./pipelines.ts";
import { startTestServer, type TestServer } from "./test-server.ts";

export interface Operation {
  operationId: string;
  method: string;
  /** As the document writes it: `/api/namespaces/{namespace_id}`. */
  path: string;
  /** The 2xx status the served document declares for the operation, if it declares one. */
  success: number | undefined;
}

export interface Answer {
  status: number;
  code: string | undefined;
  message: string | undefined;
  /** The server's `x-request-id` for the call. */
  requestId: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  json: any;
}

/** Operations whose GET is (also) a WebSocket upgrade. */
export const WEBSOCKETS = new Set(["stream_events", "get_logs", "get_attempt_logs", "get_extension_logs"]);

/**
 * Success statuses the served document leaves undeclared: a plain GET of the log route answers 200 with the log
 * as text (v0 documents only its WebSocket upgrade, checked in the WebSocket test). An entry must go once the
 * document declares the status; the matrix's first test checks that.
 */
export const UNDECLARED_SUCCESS: Record<string, number> = {
  get_logs: 200,
  get_attempt_logs: 200,
  get_extension_logs: 200,
};

/**
 * The allowlist: allowed calls that cannot get their success status in this walk, and what they must get
 * instead. Keep it short; everything else must succeed.
 */
export const INSTEAD_OF_SUCCESS: Record<string, { status: number; code: string }> = {
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
/** What the walk stores and sends as secret contents and object bytes: none of it may show up in a record. */
export const SECRET_CONTENT = "walk-secret-content-7Qx2";
export const REPLACED_SECRET_CONTENT = "walk-replaced-secret-9Zk4";
export const OBJECT_TEXT = "walk object bytes 3Hn8";
const OBJECT_BYTES = new TextEncoder().encode(OBJECT_TEXT);

/** Every plain resource (not `all`): a role with these plus targets covers everything but what targets exclude. */
const PLAIN_RESOURCES = PLAIN_RESOURCE_NAMES.filter((name) => name !== "all");
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

export interface OperationWalk {
  readonly server: TestServer;
  /** Every operation of the served document. */
  readonly operations: Operation[];
  /**
   * Roles it made: `default-only` and `elsewhere-only` grant everything in the namespaces `default` and
   * `elsewhere`; `throwaway` is what the role operations change.
   */
  createToken(
    roles: string[],
    options?: { expires?: number; user?: string },
  ): Promise<{ id: string; secret: string }>;
  /**
   * Path values for one allowed call of a destructive operation: a resource made just for it, so every allowed
   * caller finds one to destroy and the walk's later operations still find theirs. Refused calls should not ask
   * for one: they name the long-lived resources (a refusal mutates nothing).
   */
  throwaway(operationId: string): Promise<Record<string, string> | undefined>;
  /** Real ids for path parameters (and the query the operation needs); destructive operations get spare ones. */
  fillPath(operation: Operation, overrides?: Record<string, string>): string;
  bodyFor(operationId: string): unknown;
  /** What an allowed call must answer. */
  success(operation: Operation): { status: number; code?: string };
  /** One call with `secret` as its bearer token (none when undefined). */
  call(method: string, path: string, body?: unknown, secret?: string): Promise<Answer>;
  /** Waits for the runs the walk started, then stops the server. */
  stop(): Promise<void>;
}

export async function prepareOperationWalk(): Promise<OperationWalk> {
  const server = await startTestServer();
  /** Numbers the throwaway resources made for destructive operations. */
  let made = 0;
  /** The next event id `delete_event` may take (event 1 stays for `get_event`). */
  let nextEventId = 2;

  const createToken = async (
    roles: string[],
    { expires = 0, user = "matrix" }: { expires?: number; user?: string } = {},
  ): Promise<{ id: string; secret: string }> => {
    const created = await server.api("POST", "/api/tokens", { user, roles, expires });
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
    const stored = await server.api("POST", `${objectsPath}/${key}`, OBJECT_TEXT, {
      "content-type": "application/octet-stream",
    });
    assert.equal(stored.status, 201, stored.text);
  };

  const putPipelineSecret = async (key: string): Promise<void> => {
    const stored = await server.api("POST", `${pipelineBase()}/secrets`, {
      key,
      content: SECRET_CONTENT,
      force: true,
    });
    assert.equal(stored.status, 201, stored.text);
  };

  const putGlobalSecret = async (key: string): Promise<void> => {
    const stored = await server.api("POST", "/api/secrets/global", {
      key,
      content: SECRET_CONTENT,
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
  /** A notification target of the namespace or of `matrix`, whose receiver refuses connections (for `test`). */
  const notificationUrl = `http://127.0.0.1:${await freePort()}/hook`;
  const createNotification = async (owner: string): Promise<string> => {
    const created = await server.api("POST", `${owner}/notifications`, {
      url: notificationUrl,
      events: ["task_failed"],
    });
    assert.equal(created.status, 201, created.text);
    return created.json.notification.notification_id;
  };
  const createSubscription = async (subscriptionId: string): Promise<void> => {
    const created = await server.api("POST", `${pipelineBase()}/subscriptions`, {
      extension_id: EXTENSION,
      subscription_id: subscriptionId,
      settings: { every: "1h" },
    });
    assert.equal(created.status, 201, created.text);
  };

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
    delete_namespace_notification: async () => ({
      notification_id: await createNotification("/api/namespaces/default"),
    }),
    delete_pipeline_notification: async () => ({ notification_id: await createNotification(pipelineBase()) }),
  };

  for (const role of [
    fullRole("default-only", "^default$"),
    fullRole("elsewhere-only", "^elsewhere$"),
    fullRole("throwaway", "^x$"),
  ]) {
    const created = await server.api("POST", "/api/roles", role);
    assert.equal(created.status, 201, created.text);
  }
  for (const id of ["elsewhere", "disposable"]) {
    const created = await server.api("POST", "/api/namespaces", { id, name: id, description: "" });
    assert.equal(created.status, 201, created.text);
  }
  await deployPipeline(server, pipelineConfig("matrix", [shTask("hello", "echo hello")]));
  const runId = await startRun(server, "matrix");
  await waitForRun(server, "matrix", runId);
  /** A second run, for the operation that cancels a task (a no-op on a complete task). */
  const spareRunId = await startRun(server, "matrix");
  await waitForRun(server, "matrix", spareRunId);
  const throwawayTokenId = (await createToken([])).id;
  // What the secret and object operations read, replace and (as refused callers) try to delete.
  await putPipelineSecret(KEY);
  await putGlobalSecret(KEY);
  await putObject(`${pipelineBase()}/objects`, KEY);
  await putObject(`${pipelineBase()}/runs/${runId}/objects`, KEY);
  await installExtension(EXTENSION);
  await createSubscription(SUBSCRIPTION);
  await putObject(`/api/extensions/${EXTENSION}/objects`, KEY);
  const namespaceNotification = await createNotification("/api/namespaces/default");
  const pipelineNotification = await createNotification(pipelineBase());

  const document = (await fetch(`${server.url}/api/openapi.json`).then((response) => response.json())) as {
    paths: Record<string, Record<string, { operationId?: string; responses?: Record<string, unknown> }>>;
  };
  const operations: Operation[] = [];
  for (const [path, methods] of Object.entries(document.paths)) {
    for (const [method, { operationId, responses = {} }] of Object.entries(methods)) {
      if (!operationId) continue;
      const successes = Object.keys(responses).filter((status) => /^2\d\d$/.test(status));
      assert.ok(successes.length <= 1, `${operationId} declares ${successes.join(", ")}`);
      const success = successes[0] === undefined ? undefined : Number(successes[0]);
      operations.push({ operationId, method: method.toUpperCase(), path, success });
    }
  }

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
      notification_id: operation.path.includes("{pipeline_id}")
        ? pipelineNotification
        : namespaceNotification,
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
      put_pipeline_secret: { key: KEY, content: REPLACED_SECRET_CONTENT, force: true },
      put_global_secret: { key: KEY, content: REPLACED_SECRET_CONTENT, namespaces: ["default"], force: true },
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
      create_namespace_notification: { url: notificationUrl, events: ["run_failed"] },
      create_pipeline_notification: { url: notificationUrl, events: ["run_failed"] },
      update_namespace_notification: { state: "enabled" },
      update_pipeline_notification: { state: "enabled" },
      // false: a paused server would refuse the start_run calls that follow.
      update_system_preferences: { ignore_pipeline_run_events: false },
    };
    return bodies[operationId];
  };

  const success = (operation: Operation): { status: number; code?: string } => {
    const instead = INSTEAD_OF_SUCCESS[operation.operationId];
    if (instead) return instead;
    const status = operation.success ?? UNDECLARED_SUCCESS[operation.operationId];
    assert.ok(status, `${operation.operationId} declares no success status`);
    return { status };
  };

  const call = async (method: string, path: string, body?: unknown, secret?: string): Promise<Answer> => {
    const headers: Record<string, string> = { "gofer-api-version": "v0" };
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
    return {
      status: response.status,
      code: json?.error_code,
      message: json?.message,
      requestId: response.headers.get("x-request-id"),
      json,
    };
  };

  return {
    server,
    operations,
    createToken,
    throwaway: async (operationId) => throwaway[operationId]?.(),
    fillPath,
    bodyFor,
    success,
    call,
    async stop() {
      // Runs started by the walk must end before the server checks for leftover containers.
      const runs = await server.api("GET", "/api/namespaces/default/pipelines/matrix/runs");
      for (const run of runs.json?.runs ?? []) await waitForRun(server, "matrix", run.run_id);
      await server.stop();
    },
  };
}
