/**
 * Starts a real Gofer server for a test: its own temp data dir and SQLite file (or a PostgreSQL database, with
 * `databaseUrl`), a loopback port chosen by the OS, the real Docker engine with host networking. `stop()` removes everything it made, and fails the test
 * if any container this server created is left behind.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/index.ts";
import { createScheduler } from "../../src/scheduler/create-scheduler.ts";
import { EngineClient } from "../../src/scheduler/docker/engine-client.ts";
import type { Scheduler } from "../../src/scheduler/scheduler.ts";
import { type RunningService, startService } from "../../src/service/gofer-service.ts";
import type { GoferDb } from "../../src/storage/database.ts";
import { getSystemState } from "../../src/storage/system-store.ts";

export const BUSYBOX = process.env.GOFER_BUSYBOX_IMAGE ?? "gofer/busybox:latest";

export interface TestServer {
  /** The current address: a restart binds a new port. */
  readonly url: string;
  token: string;
  readonly service: RunningService;
  dataDir: string;
  /** The server's instance id, which every container it creates carries as `gofer.instance`. */
  instanceId: string;
  /** A fetch against the API with the version header and the bootstrap token. */
  api(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse>;
  stop(): Promise<void>;
  /**
   * Stops the service the way SIGTERM does (task containers keep running), optionally does something while it
   * is down, and starts it again on the same data folder, with `settings` added to the first start's.
   */
  restart(whileDown?: () => Promise<void>, settings?: Record<string, string>): Promise<void>;
  /** Containers of this server still present on the engine. */
  leftoverContainers(): Promise<string[]>;
}

export interface ApiResponse {
  status: number;
  headers: Headers;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON shapes
  json: any;
}

export interface TestServerOptions {
  /** Wraps the real Docker scheduler, e.g. to slow a call down and widen a race window. */
  wrapScheduler?: (docker: Scheduler) => Scheduler;
  /** Sees the server's database through a Kysely plugin, e.g. to count the statements a run makes. */
  wrapDatabase?: (db: GoferDb) => GoferDb;
  /**
   * Store in this PostgreSQL database (`server.database_url`) instead of a SQLite file in the data folder;
   * see support/private-postgres.ts. Logs and objects stay in the data folder.
   */
  databaseUrl?: string;
}

export async function startTestServer(
  settings: Record<string, string> = {},
  options: TestServerOptions = {},
): Promise<TestServer> {
  const dataDir = await mkdtemp(join(tmpdir(), "gofer-test-"));
  const configFor = (extra: Record<string, string>) =>
    loadConfig({
      systemConfigPath: join(dataDir, "absent.toml"),
      env: {
        HOME: dataDir,
        GOFER_WEB_SERVER__DATA_DIR: dataDir,
        GOFER_WEB_SERVER__BIND_ADDRESS: "127.0.0.1:0",
        GOFER_WEB_SCHEDULER__DOCKER__NETWORK_MODE: "host",
        GOFER_WEB_API__LOG_LEVEL: "silent",
        GOFER_WEB_API__TASK_EXECUTION_STOP_TIMEOUT: "2",
        // Tests install the extensions they use; parallel servers must not share the webhook port.
        GOFER_WEB_EXTENSIONS__INSTALL_STD_EXTENSIONS: "false",
        GOFER_WEB_EXTERNAL_EVENTS__BIND_ADDRESS: "127.0.0.1:0",
        GOFER_WEB_EXTENSIONS__STOP_TIMEOUT: "5",
        ...(process.env.DOCKER_HOST && { DOCKER_HOST: process.env.DOCKER_HOST }),
        ...(options.databaseUrl !== undefined && { GOFER_WEB_SERVER__DATABASE_URL: options.databaseUrl }),
        ...settings,
        ...extra,
      },
    });
  const boot = async (extra: Record<string, string>) => {
    const config = configFor(extra);
    const scheduler = await createScheduler(config);
    return startService(config, {
      scheduler: options.wrapScheduler?.(scheduler) ?? scheduler,
      ...(options.wrapDatabase && { wrapDatabase: options.wrapDatabase }),
    });
  };
  let service: RunningService;
  try {
    service = await boot({});
  } catch (error) {
    // A server that fails to start (as some tests want) leaves no data folder behind either.
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
  const { instance_id } = await getSystemState(service.db);

  const call = async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ApiResponse> => {
    const init: RequestInit = { method, headers: { "gofer-api-version": "v0", ...headers } };
    if (body !== undefined) {
      init.body = typeof body === "string" ? body : JSON.stringify(body);
      (init.headers as Record<string, string>)["content-type"] ??= "application/json";
    }
    const response = await fetch(`${service.url}${path}`, init);
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: response.status, headers: response.headers, text, json };
  };

  const bootstrap = await call("POST", "/api/tokens/bootstrap");
  const token: string = bootstrap.json.secret;
  const engine = new EngineClient({ host: process.env.DOCKER_HOST || undefined });

  const leftoverContainers = async () => {
    const containers = await engine.listContainers({ all: true, labels: { "gofer.instance": instance_id } });
    return containers.map((container) => container.Id);
  };

  return {
    get url() {
      return service.url;
    },
    token,
    get service() {
      return service;
    },
    dataDir,
    instanceId: instance_id,
    api: (method, path, body, headers = {}) =>
      call(method, path, body, { authorization: `Bearer ${token}`, ...headers }),
    leftoverContainers,
    async stop() {
      await service.stop();
      // Task containers still running are left for the next boot by design; anything else left is a leak.
      const containers = await engine.listContainers({
        all: true,
        labels: { "gofer.instance": instance_id },
      });
      for (const container of containers)
        await engine.removeContainer(container.Id, { force: true, volumes: true }).catch(() => undefined);
      await rm(dataDir, { recursive: true, force: true });
      const leaked = containers.filter(
        (container) => container.State !== "running" || container.Labels?.["gofer.task"] === undefined,
      );
      if (leaked.length > 0)
        throw new Error(
          `${leaked.length} gofer.managed container(s) were left behind: ${leaked.map((c) => `${c.Names[0]} (${c.State})`).join(", ")}`,
        );
    },
    async restart(whileDown, extra = {}) {
      await service.stop();
      await whileDown?.();
      service = await boot(extra);
    },
  };
}
