/**
 * The composition root: builds every component from a resolved Config, in dependency order, and tears them
 * down in reverse. Nothing else in the server constructs services.
 */
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { GoferApp } from "../api/api-context.ts";
import { buildExternalEventsServer } from "../api/external-events.ts";
import { deleteRetiredRunTokens } from "../auth/run-tokens.ts";
import type { Config } from "../config/index.ts";
import { SYSTEM_ROLES } from "../domain/permissions.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import type { Orchestrator } from "../orchestrator/orchestrator.ts";
import { startRetention } from "../retention/retention.ts";
import { createScheduler } from "../scheduler/create-scheduler.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { type GoferDb, openDatabase } from "../storage/database.ts";
import { getExtension } from "../storage/extensions-store.ts";
import { getNamespace, insertNamespace } from "../storage/namespaces-store.ts";
import { upsertSystemRoles } from "../storage/roles-store.ts";
import { getSystemState } from "../storage/system-store.ts";
import { deleteExpiredTokens } from "../storage/tokens-store.ts";
import { maskDatabaseUrl } from "../support/database-url.ts";
import { assemble } from "./assemble.ts";

export interface RunningService {
  app: GoferApp;
  db: GoferDb;
  orchestrator: Orchestrator;
  /** The address actually bound (port 0 in the config becomes a real port). */
  url: string;
  /** The external events listener's address, when it is enabled. */
  externalEventsUrl: string | undefined;
  stop(): Promise<void>;
}

/**
 * Expired tokens are refused on use ("Token expired") and their rows deleted at boot and on this interval,
 * so a client still sees why its token stopped working for a while before the row goes.
 */
const EXPIRED_TOKEN_SWEEP_MS = 60 * 60 * 1000;

const DEFAULT_NAMESPACE = {
  id: "default",
  name: "Default",
  description: "The original namespace created automatically by the Gofer system.",
};

export async function startService(
  config: Config,
  options: { scheduler?: Scheduler } = {},
): Promise<RunningService> {
  // PostgreSQL when server.database_url is set: the start waits (bounded) for it and fails whole, saying what to
  // check, when it cannot be had or another server holds it.
  const db = await openDatabase(config.server);
  try {
    await ensureDefaultNamespace(db);
    await upsertSystemRoles(db, SYSTEM_ROLES);
    await deleteExpiredTokens(db, Date.now());
    await deleteRetiredRunTokens(db);
    const { instance_id } = await getSystemState(db);
    const scheduler = options.scheduler ?? (await createScheduler(config));

    const [host, port] = splitHostPort(config.server.bind_address);
    // The API URL tasks see depends on the bound port when the config asks for port 0.
    let apiBaseUrl = config.server.url;
    const { app, bus, logs, objects, orchestrator, supervisor, extensions } = await assemble(config, db, {
      scheduler,
      instanceId: instance_id,
      apiBaseUrl: () => apiBaseUrl,
    });
    // What is running so far, stopped in reverse order by stop() or by a start that fails part-way (a port
    // already in use must not leave a half-started server serving).
    app.log.info(
      config.server.database_url === ""
        ? `storing in SQLite at ${config.server.storage_path}`
        : `storing in PostgreSQL at ${maskDatabaseUrl(config.server.database_url)}`,
    );
    const running: Array<() => Promise<unknown>> = [() => orchestrator.close(), () => supervisor.close()];
    const stopAll = async () => {
      for (const stop of running.reverse()) await stop();
    };
    try {
      // Before serving: what the previous process left mid-flight is settled first (see recovery.ts).
      const recovered = await orchestrator.recover();
      if (Object.values(recovered).some((count) => count > 0)) {
        app.log.info(
          `recovered from the previous run of the server: ${recovered.adopted} task container(s) adopted, ` +
            `${recovered.orphaned} orphaned, ${recovered.requeued} task(s) to start again, ` +
            `${recovered.reaped} stray container(s) removed`,
        );
      }
      await app.listen({ host, port });
      running.push(() => closeWithin(app, config.server.shutdown_timeout_ms / 3));
      const url = addressUrl(app.server.address() as AddressInfo, config.server.tls !== undefined);
      if (apiBaseUrl.endsWith(":0")) apiBaseUrl = url;
      const externalEvents = config.external_events.enable
        ? await listenForExternalEvents(config, db, supervisor)
        : undefined;
      if (externalEvents)
        running.push(() => closeWithin(externalEvents.app, config.server.shutdown_timeout_ms / 3));
      orchestrator.resume();
      const retention = startRetention({
        db,
        bus,
        logs,
        objects,
        limits: {
          taskLogs: config.api.task_execution_log_retention,
          runs: config.api.run_retention,
          configVersions: config.api.pipeline_version_retention,
          eventsMs: config.api.event_log_retention_ms,
        },
        intervalMs: config.api.event_prune_interval_ms,
        onRunsDeleted: () => deleteRetiredRunTokens(db),
        log: (message, error) => app.log.error({ err: error }, message),
      });
      running.push(() => retention.close());
      if (config.extensions.install_std_extensions) {
        await extensions.installStandard(config.extensions.std_image_prefix);
      }
      // Extensions start in the background: one that cannot start is retried, never a reason not to serve.
      await supervisor.boot();
      const sweep = setInterval(() => {
        Promise.all([deleteExpiredTokens(db, Date.now()), deleteRetiredRunTokens(db)]).catch(
          (error: unknown) => app.log.error({ err: error }, "could not delete expired tokens"),
        );
      }, EXPIRED_TOKEN_SWEEP_MS);
      sweep.unref();
      running.push(async () => clearInterval(sweep));
      // Runs first when stopping: starts in progress give up before the API waits for requests to end.
      running.push(async () => supervisor.stopStarting());

      return {
        app,
        db,
        orchestrator,
        url,
        externalEventsUrl: externalEvents?.url,
        async stop() {
          await stopAll();
          await db.destroy();
        },
      };
    } catch (error) {
      await stopAll().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    await db.destroy();
    throw error;
  }
}

async function listenForExternalEvents(
  config: Config,
  db: GoferDb,
  supervisor: ExtensionSupervisor,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildExternalEventsServer({
    supervisor,
    isInstalled: async (id) => (await getExtension(db, id)) !== undefined,
    bodyLimit: config.external_events.body_limit,
    tls: config.external_events.tls,
    logger: config.api.log_level === "silent" ? false : { level: config.api.log_level },
  });
  const [host, port] = splitHostPort(config.external_events.bind_address);
  await app.listen({ host, port });
  return {
    app,
    url: addressUrl(app.server.address() as AddressInfo, config.external_events.tls !== undefined),
  };
}

/**
 * Stops listening and lets requests in flight finish, but cuts the connections still open after `graceMs`:
 * a client following a running task's log would otherwise hold shutdown until the deadline kills the process.
 */
async function closeWithin(app: FastifyInstance, graceMs: number): Promise<void> {
  const cut = setTimeout(() => app.server.closeAllConnections(), graceMs);
  try {
    await app.close();
  } finally {
    clearTimeout(cut);
  }
}

function addressUrl(address: AddressInfo, tls: boolean): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${tls ? "https" : "http"}://${host}:${address.port}`;
}

async function ensureDefaultNamespace(db: GoferDb): Promise<void> {
  if (await getNamespace(db, DEFAULT_NAMESPACE.id)) return;
  const now = Date.now();
  await insertNamespace(db, { ...DEFAULT_NAMESPACE, created: now, modified: now });
}

function splitHostPort(bindAddress: string): [string, number] {
  const index = bindAddress.lastIndexOf(":");
  const host = bindAddress.slice(0, index).replace(/^\[(.*)\]$/, "$1");
  return [host, Number(bindAddress.slice(index + 1))];
}
