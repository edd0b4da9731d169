/**
 * The typed client for Gofer's v0 API: one method per endpoint, grouped by resource. Methods unwrap the
 * response envelope (`{run: {…}}` → the run) and fail with `GoferApiError` (the server refused) or
 * `GoferConnectionError` (no usable answer). Only platform APIs are used, so it runs in Node, Deno, Bun and containers.
 */

import type { PipelineConfig } from "../pipeline-config.ts";
import { type AuditApi, auditApi } from "./audit-api.ts";
import { type EventStreamWindow, eventStreamQuery, streamEvents } from "./event-stream.ts";
import { type ExtensionsApi, extensionsApi } from "./extensions-api.ts";
import { HttpClient, apiPath as path } from "./http.ts";
import { splitLineObjects, splitLines, type TaskLogLine } from "./line-stream.ts";
import { type NotificationsApi, notificationsApi } from "./notifications-api.ts";
import { type ObjectsApi, objectsApi } from "./objects-api.ts";
import { type RolesApi, rolesApi } from "./roles-api.ts";
import { type SecretsApi, secretsApi } from "./secrets-api.ts";
import { type SubscriptionsApi, subscriptionsApi } from "./subscriptions-api.ts";
import { type AttachOptions, openTaskTerminal, type TaskTerminal } from "./task-terminal.ts";
import type {
  CreateNamespaceInput,
  CreateTokenInput,
  Deployment,
  GoferEvent,
  Namespace,
  PipelineConfigVersion,
  PipelineMetadata,
  RegisteredPipeline,
  ReplicaListing,
  Run,
  RunListStatus,
  SystemMetadata,
  SystemPreferences,
  TaskAttempt,
  TaskExecution,
  Token,
  TokenWithSecret,
  UpdateNamespaceInput,
} from "./wire-types.ts";

export interface GoferClientOptions {
  /** Where the server listens, e.g. `http://127.0.0.1:8080`. A path prefix (`https://ci.example/gofer`) is kept. */
  baseUrl: string;
  /** The API token's secret, sent as `Authorization: Bearer <token>`. Omit it for unauthenticated calls. */
  token?: string;
  /**
   * How long one request may take before it fails with a timed-out `GoferConnectionError`, in milliseconds.
   * Streams are bounded only while connecting. Default 30 000.
   */
  timeoutMs?: number;
  /** A `fetch` to use instead of the global one, e.g. to add a proxy or tracing. */
  fetch?: typeof fetch;
  /** Sent as `User-Agent` where the runtime allows it (not in browsers). */
  userAgent?: string;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export interface SystemApi {
  /** The server's version. Needs no token. */
  metadata(): Promise<SystemMetadata>;
  /** Admin only: whether new runs are paused, and whether the bootstrap token was given out. */
  preferences(): Promise<SystemPreferences>;
  /** Admin only: pauses (`true`) or resumes new runs server-wide; runs already started go on. */
  setRunsPaused(paused: boolean): Promise<SystemPreferences>;
  /** Admin only: the servers sharing the database (replicas), which one leads and what it has in hand. */
  replicas(): Promise<ReplicaListing>;
}

export interface TokensApi {
  /** Creates the one-time root token; every later call fails with 409. */
  bootstrap(): Promise<TokenWithSecret>;
  /** The token the client is using. */
  whoami(): Promise<Token>;
  /** Admin only. The secret is in this answer only. */
  create(input: CreateTokenInput): Promise<TokenWithSecret>;
  /** Admin only. */
  list(): Promise<Token[]>;
  get(id: string): Promise<Token>;
  /** Admin only; a token cannot disable itself (409). */
  setDisabled(id: string, disabled: boolean): Promise<void>;
  /** Admin only; requests with the token are refused from then on. */
  delete(id: string): Promise<void>;
}

export interface NamespacesApi {
  list(): Promise<Namespace[]>;
  get(id: string): Promise<Namespace>;
  create(input: CreateNamespaceInput): Promise<Namespace>;
  /** Changes only the fields given. */
  update(id: string, input: UpdateNamespaceInput): Promise<Namespace>;
  /** Deletes the namespace with its pipelines and runs; refused while any of its runs is unfinished. */
  delete(id: string): Promise<void>;
}

export interface PipelinesApi {
  list(namespace: string): Promise<PipelineMetadata[]>;
  get(namespace: string, pipelineId: string): Promise<PipelineMetadata>;
  /** Enables or disables the pipeline. The server answers 204 without a body; fetch the pipeline to see it. */
  setState(namespace: string, pipelineId: string, state: "active" | "disabled"): Promise<void>;
  /** Deletes the pipeline with its configs and runs; refused while any of its runs is unfinished. */
  delete(namespace: string, pipelineId: string): Promise<void>;
}

export interface ConfigsApi {
  /** Every version, newest first. */
  list(namespace: string, pipelineId: string): Promise<PipelineConfigVersion[]>;
  /** One version; `"latest"` is the highest registered, whatever its state. */
  get(namespace: string, pipelineId: string, version: number | "latest"): Promise<PipelineConfigVersion>;
  /**
   * Registers `config` as the next version (state `unreleased`), creating the pipeline on first use. It runs
   * only once deployed. Returns the new version as stored.
   */
  register(namespace: string, pipelineId: string, config: PipelineConfig): Promise<PipelineConfigVersion>;
  /** Makes the version `live` (new runs execute it) and deprecates the one that was. */
  deploy(namespace: string, pipelineId: string, version: number | "latest"): Promise<Deployment>;
  /** Refused for the latest version, the live one and one with unfinished runs. */
  delete(namespace: string, pipelineId: string, version: number): Promise<void>;
}

export interface DeploymentsApi {
  /** Newest first. */
  list(namespace: string, pipelineId: string): Promise<Deployment[]>;
  get(namespace: string, pipelineId: string, deploymentId: number): Promise<Deployment>;
}

export interface ListRunsOptions {
  /** At most this many runs, 1–1000; the server's default is 50. */
  limit?: number;
  /** Skip this many first. */
  offset?: number;
  /** Newest first instead of oldest first. */
  reverse?: boolean;
  /** Only the runs in this state or with this status (an extension of v0). */
  status?: RunListStatus;
}

export interface RunsApi {
  /** One page of runs, oldest first unless `reverse`. */
  list(namespace: string, pipelineId: string, options?: ListRunsOptions): Promise<Run[]>;
  /**
   * Starts a run of the live config and returns at once; over the parallelism limit the run waits `pending`.
   * `variables` override the tasks' own.
   */
  start(namespace: string, pipelineId: string, variables?: Record<string, string>): Promise<Run>;
  get(namespace: string, pipelineId: string, runId: number): Promise<Run>;
  /** Stops running tasks gracefully and ends the others `cancelled`. Returns once the request is accepted. */
  cancel(namespace: string, pipelineId: string, runId: number): Promise<void>;
  /**
   * Runs a failed or cancelled run again, in place (an extension of v0): its tasks that did not succeed start
   * over as a new attempt each, successful ones are kept. Returns the run, queued again, at once; refused with
   * 409 while the run is unfinished or when it was successful.
   */
  retry(namespace: string, pipelineId: string, runId: number): Promise<Run>;
}

export interface CancelTaskOptions {
  /** Seconds between SIGTERM and SIGKILL, 0–86400; `0` kills at once. Default: the server's stop timeout. */
  waitForSeconds?: number;
}

export interface TaskLogOptions {
  /** Keep the stream open and yield new lines until the task ends. */
  follow?: boolean;
  /**
   * Read this attempt's log (from 1; an extension of v0) instead of the latest attempt's. An attempt the task
   * never reached fails with 404.
   */
  attempt?: number;
  /** Stops the stream; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
  /**
   * `"lines"`: yield each line as an object with the stream it came from and when it arrived (an extension of
   * v0; see {@link TaskLogLine}). `"text"`, the default, yields the lines as strings.
   */
  format?: "text" | "lines";
}

export interface TasksApi {
  list(namespace: string, pipelineId: string, runId: number): Promise<TaskExecution[]>;
  get(namespace: string, pipelineId: string, runId: number, taskId: string): Promise<TaskExecution>;
  /**
   * Every attempt of the task (an extension of v0), oldest first; the last is the current one. A task that was
   * never tried again has one.
   */
  attempts(namespace: string, pipelineId: string, runId: number, taskId: string): Promise<TaskAttempt[]>;
  /** Stops the task's container; dependents that have not started end `cancelled`. */
  cancel(
    namespace: string,
    pipelineId: string,
    runId: number,
    taskId: string,
    options?: CancelTaskOptions,
  ): Promise<void>;
  /**
   * The task's log (its latest attempt's unless `attempt` says which), one item per line without its newline,
   * read as it streams in. Nothing is requested until
   * the iteration starts; leaving the loop early ends the request. A removed log fails with status 410,
   * `LOGS_REMOVED`.
   */
  logs(
    namespace: string,
    pipelineId: string,
    runId: number,
    taskId: string,
    options: TaskLogOptions & { format: "lines" },
  ): AsyncIterable<TaskLogLine>;
  logs(
    namespace: string,
    pipelineId: string,
    runId: number,
    taskId: string,
    options?: TaskLogOptions & { format?: "text" },
  ): AsyncIterable<string>;
  /** Deletes a completed task's log. */
  deleteLogs(namespace: string, pipelineId: string, runId: number, taskId: string): Promise<void>;
  /**
   * Runs a command in a running task's container (default `/bin/sh` with a terminal) and connects to it. Needs
   * write access to the run; refused with 409 once the task is no longer running, 403 when the server has
   * attaching turned off.
   */
  attach(
    namespace: string,
    pipelineId: string,
    runId: number,
    taskId: string,
    options?: AttachOptions,
  ): Promise<TaskTerminal>;
}

export interface EventStreamOptions extends EventStreamWindow {
  /** Stops the stream; the iteration then throws the signal's reason. */
  signal?: AbortSignal;
}

export interface EventsApi {
  get(id: string): Promise<GoferEvent>;
  delete(id: string): Promise<void>;
  /**
   * Events as they happen, over a WebSocket opened when the iteration starts. It ends when the server closes
   * the stream normally; leaving the loop early or aborting `signal` closes the socket. Needs a runtime whose
   * WebSocket can send headers (Node ≥ 22, Deno, Bun): browsers cannot.
   */
  stream(options?: EventStreamOptions): AsyncIterable<GoferEvent>;
}

export class GoferClient {
  readonly system: SystemApi;
  readonly tokens: TokensApi;
  readonly roles: RolesApi;
  readonly secrets: SecretsApi;
  readonly objects: ObjectsApi;
  readonly namespaces: NamespacesApi;
  readonly pipelines: PipelinesApi;
  readonly configs: ConfigsApi;
  readonly deployments: DeploymentsApi;
  readonly runs: RunsApi;
  readonly tasks: TasksApi;
  readonly events: EventsApi;
  readonly extensions: ExtensionsApi;
  readonly subscriptions: SubscriptionsApi;
  /** The audit trail (an extension of v0): who changed what through the API, and how it went. Admin only. */
  readonly audit: AuditApi;
  /** Run notifications (an extension of v0): where a namespace or pipeline is told of runs that end. */
  readonly notifications: NotificationsApi;

  constructor(options: GoferClientOptions) {
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const http = new HttpClient({
      baseUrl: options.baseUrl,
      token: options.token,
      timeoutMs,
      fetch: options.fetch,
      userAgent: options.userAgent,
    });

    this.system = {
      metadata: async () => http.json("GET", "/api/system/metadata", undefined),
      preferences: async () => http.json("GET", "/api/system", undefined),
      setRunsPaused: async (paused) =>
        http.json("PATCH", "/api/system", undefined, { body: { ignore_pipeline_run_events: paused } }),
      replicas: async () => http.json("GET", "/api/system/replicas", undefined),
    };

    this.tokens = {
      bootstrap: async () => http.json("POST", "/api/tokens/bootstrap", undefined),
      whoami: async () => http.json("GET", "/api/tokens/whoami", "token"),
      create: async (input) =>
        http.json("POST", "/api/tokens", undefined, {
          body: {
            user: input.user,
            roles: input.roles,
            expires: input.expires ?? 0,
            metadata: input.metadata,
          },
        }),
      list: async () => http.json("GET", "/api/tokens", "tokens"),
      get: async (id) => http.json("GET", path`/api/tokens/${id}`, "token"),
      setDisabled: async (id, disabled) =>
        http.empty("PATCH", path`/api/tokens/${id}`, { body: { disabled } }),
      delete: async (id) => http.empty("DELETE", path`/api/tokens/${id}`),
    };
    this.roles = rolesApi(http);
    this.secrets = secretsApi(http);
    this.objects = objectsApi(http);
    this.extensions = extensionsApi(http);
    this.subscriptions = subscriptionsApi(http);
    this.audit = auditApi(http);
    this.notifications = notificationsApi(http);

    this.namespaces = {
      list: async () => http.json("GET", "/api/namespaces", "namespaces"),
      get: async (id) => http.json("GET", path`/api/namespaces/${id}`, "namespace"),
      create: async (input) =>
        http.json("POST", "/api/namespaces", "namespace", {
          body: { id: input.id, name: input.name, description: input.description },
        }),
      update: async (id, input) =>
        http.json("PATCH", path`/api/namespaces/${id}`, "namespace", {
          body: { name: input.name, description: input.description },
        }),
      delete: async (id) => http.empty("DELETE", path`/api/namespaces/${id}`),
    };

    const pipeline = (namespace: string, pipelineId: string) =>
      path`/api/namespaces/${namespace}/pipelines/${pipelineId}`;
    this.pipelines = {
      list: async (namespace) => http.json("GET", path`/api/namespaces/${namespace}/pipelines`, "pipelines"),
      get: async (namespace, pipelineId) => http.json("GET", pipeline(namespace, pipelineId), "pipeline"),
      setState: async (namespace, pipelineId, state) =>
        http.empty("PATCH", pipeline(namespace, pipelineId), { body: { state } }),
      delete: async (namespace, pipelineId) => http.empty("DELETE", pipeline(namespace, pipelineId)),
    };

    // The server reads version 0 as "the latest registered".
    const version = (value: number | "latest") => (value === "latest" ? 0 : value);
    this.configs = {
      list: async (namespace, pipelineId) =>
        http.json("GET", `${pipeline(namespace, pipelineId)}/configs`, "configs"),
      get: async (namespace, pipelineId, v) =>
        http.json("GET", pipeline(namespace, pipelineId) + path`/configs/${version(v)}`, "config"),
      register: async (namespace, pipelineId, config) => {
        const registered = await http.json<RegisteredPipeline>(
          "POST",
          `${pipeline(namespace, pipelineId)}/configs`,
          "pipeline",
          { body: { config } },
        );
        return registered.config;
      },
      deploy: async (namespace, pipelineId, v) =>
        http.json("POST", pipeline(namespace, pipelineId) + path`/configs/${version(v)}`, "deployment"),
      delete: async (namespace, pipelineId, v) =>
        http.empty("DELETE", pipeline(namespace, pipelineId) + path`/configs/${v}`),
    };

    this.deployments = {
      list: async (namespace, pipelineId) =>
        http.json("GET", `${pipeline(namespace, pipelineId)}/deployments`, "deployments"),
      get: async (namespace, pipelineId, deploymentId) =>
        http.json("GET", pipeline(namespace, pipelineId) + path`/deployments/${deploymentId}`, "deployment"),
    };

    const run = (namespace: string, pipelineId: string, runId: number) =>
      pipeline(namespace, pipelineId) + path`/runs/${runId}`;
    this.runs = {
      list: async (namespace, pipelineId, options = {}) =>
        http.json("GET", `${pipeline(namespace, pipelineId)}/runs`, "runs", {
          query: {
            limit: options.limit,
            offset: options.offset,
            reverse: options.reverse,
            status: options.status,
          },
        }),
      // The body is always sent: the route validates it as an object even when no variables are given.
      start: async (namespace, pipelineId, variables) =>
        http.json("POST", `${pipeline(namespace, pipelineId)}/runs`, "run", {
          body: variables === undefined ? {} : { variables },
        }),
      get: async (namespace, pipelineId, runId) => http.json("GET", run(namespace, pipelineId, runId), "run"),
      cancel: async (namespace, pipelineId, runId) => http.empty("DELETE", run(namespace, pipelineId, runId)),
      retry: async (namespace, pipelineId, runId) =>
        http.json("POST", `${run(namespace, pipelineId, runId)}/retry`, "run"),
    };

    const task = (namespace: string, pipelineId: string, runId: number, taskId: string) =>
      run(namespace, pipelineId, runId) + path`/tasks/${taskId}`;
    this.tasks = {
      list: async (namespace, pipelineId, runId) =>
        http.json("GET", `${run(namespace, pipelineId, runId)}/tasks`, "task_executions"),
      get: async (namespace, pipelineId, runId, taskId) =>
        http.json("GET", task(namespace, pipelineId, runId, taskId), "task_execution"),
      attempts: async (namespace, pipelineId, runId, taskId) =>
        http.json("GET", `${task(namespace, pipelineId, runId, taskId)}/attempts`, "attempts"),
      cancel: async (namespace, pipelineId, runId, taskId, options = {}) =>
        http.empty("DELETE", task(namespace, pipelineId, runId, taskId), {
          query: { wait_for: options.waitForSeconds },
        }),
      logs: ((
        namespace: string,
        pipelineId: string,
        runId: number,
        taskId: string,
        options: TaskLogOptions = {},
      ) => {
        const { signal, follow, attempt, format } = options;
        return {
          async *[Symbol.asyncIterator]() {
            // Built here, not at the call: a bad id then fails the iteration, like every other failure.
            const taskPath = task(namespace, pipelineId, runId, taskId);
            const logsPath =
              attempt === undefined ? `${taskPath}/logs` : `${taskPath + path`/attempts/${attempt}`}/logs`;
            const response = await http.stream(logsPath, {
              query: { follow: follow ? true : undefined, format: format === "lines" ? "lines" : undefined },
              signal,
            });
            const body = http.body(response, logsPath, signal);
            if (format !== "lines") return yield* splitLines(body);
            // A server without line objects (Gofer's own v0) answers the plain log: its lines, without streams.
            const ndjson = response.headers.get("content-type")?.startsWith("application/x-ndjson") === true;
            if (ndjson) return yield* splitLineObjects(body);
            for await (const line of splitLines(body)) yield { line };
          },
        };
      }) as TasksApi["logs"],
      deleteLogs: async (namespace, pipelineId, runId, taskId) =>
        http.empty("DELETE", `${task(namespace, pipelineId, runId, taskId)}/logs`),
      attach: (namespace, pipelineId, runId, taskId, options = {}) => {
        const attachPath = `${task(namespace, pipelineId, runId, taskId)}/attach`;
        const query = {
          command: options.command,
          tty: options.tty,
          columns: options.columns,
          rows: options.rows,
        };
        return openTaskTerminal({ ...http.socketTarget(attachPath, query), handshakeTimeoutMs: timeoutMs });
      },
    };

    this.events = {
      get: async (id) => http.json("GET", path`/api/events/${id}`, "event"),
      delete: async (id) => http.empty("DELETE", path`/api/events/${id}`),
      stream: (options = {}) => {
        const query = eventStreamQuery(options);
        return {
          [Symbol.asyncIterator]: () =>
            streamEvents({
              ...http.socketTarget("/api/events", query),
              handshakeTimeoutMs: timeoutMs,
              signal: options.signal,
            }),
        };
      },
    };
  }
}
