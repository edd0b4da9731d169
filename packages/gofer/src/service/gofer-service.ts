/**
 * The composition root: builds every component from a resolved Config, in dependency order, and tears them
 * down in reverse. Nothing else in the server constructs services.
 */

import { randomUUID } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { FastifyInstance } from "fastify";
import type { GoferApp } from "../api/api-context.ts";
import { buildExternalEventsServer } from "../api/external-events.ts";
import { loggerOption } from "../api/log-format.ts";
import { buildMetricsServer } from "../api/metrics-route.ts";
import type { Config } from "../config/index.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import type { Orchestrator } from "../orchestrator/orchestrator.ts";
import type { EventRelay } from "../replicas/event-relay.ts";
import { Leadership, type ReplicaView, SINGLE_SERVER } from "../replicas/leadership.ts";
import { createScheduler } from "../scheduler/create-scheduler.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { type GoferDb, openDatabase } from "../storage/database.ts";
import { getExtension } from "../storage/extensions-store.ts";
import { updateReplicaUrls } from "../storage/replicas-store.ts";
import { getSystemState } from "../storage/system-store.ts";
import { maskDatabaseUrl } from "../support/database-url.ts";
import { VERSION } from "../version.ts";
import { assemble } from "./assemble.ts";
import { listenAt } from "./listen-address.ts";
import { WorkDuties } from "./work-duties.ts";

export interface RunningService {
  app: GoferApp;
  db: GoferDb;
  orchestrator: Orchestrator;
  /** The address actually bound (port 0 in the config becomes a real port). */
  url: string;
  /** The external events listener's address, when it is enabled. */
  externalEventsUrl: string | undefined;
  /** The metrics listener's address, when `metrics.bind_address` gives /metrics one of its own. */
  metricsUrl: string | undefined;
  /** This server's replica: its id and whether it leads (always, on SQLite). */
  replicas: ReplicaView;
  stop(): Promise<void>;
}

export interface StartOptions {
  scheduler?: Scheduler;
  /**
   * A replica that stops leading must stop its work at once; by default it ends the process (status 75, "try
   * again"), for its supervisor to start it again as a follower. Tests running replicas in-process say otherwise.
   */
  onLeadershipLost?: (reason: string) => void;
  /** The database as the server uses it; tests see it through a Kysely plugin to count the statements a change makes. */
  wrapDatabase?: (db: GoferDb) => GoferDb;
}

/** The exit status of a replica that lost its lease: EX_TEMPFAIL, "start me again". */
export const LEADERSHIP_LOST_EXIT_CODE = 75;

export async function startService(config: Config, options: StartOptions = {}): Promise<RunningService> {
  const replicated = config.server.database_url !== "";
  let leadership: Leadership | undefined;
  let control: GoferDb | undefined;
  // PostgreSQL when server.database_url is set: the start waits (bounded) for it and fails whole, saying what to
  // check, when it cannot be had. A leader whose lease may have lapsed is refused every query.
  const opened = await openDatabase(config.server, {
    fence: () => leadership?.fenced(),
    idleInTransactionTimeoutMs: config.server.lease_timeout_ms,
  });
  const db = options.wrapDatabase?.(opened) ?? opened;
  try {
    const { instance_id } = await getSystemState(db);
    const scheduler = options.scheduler ?? (await createScheduler(config));

    // The API URL tasks see depends on the bound port when the config asks for port 0.
    let apiBaseUrl = config.server.url;
    const assembled = await assemble(config, db, {
      scheduler,
      instanceId: instance_id,
      apiBaseUrl: () => apiBaseUrl,
      replicated,
      replicas: () => leadership ?? SINGLE_SERVER,
    });
    const { app, bus, orchestrator, supervisor } = assembled;
    const log = {
      info: (message: string) => app.log.info(message),
      error: (message: string, error?: unknown) => app.log.error({ err: error }, message),
    };
    const work = new WorkDuties({ config, db, ...assembled, log });
    let relay: EventRelay | undefined;
    if (replicated) {
      // Closed after the main database, in stop(): the lease is handed back last.
      // Loaded only with PostgreSQL, so a SQLite server never loads its driver.
      const { openControlConnection } = await import("../storage/postgres-database.ts");
      control = openControlConnection(
        config.server.database_url,
        Math.max(1_000, config.server.lease_timeout_ms / 3),
      );
      leadership = new Leadership({
        db,
        control,
        replicaId: randomUUID(),
        version: VERSION.semver,
        leaseTimeoutMs: config.server.lease_timeout_ms,
        takeOver: async () => {
          // Events the previous leader stored reach this replica's streams before its own do.
          await relay?.catchUp();
          await work.prepare();
          await work.begin();
        },
        onLost:
          options.onLeadershipLost ??
          ((reason) => {
            app.log.fatal(`${reason}; exiting so that a supervisor starts this replica again as a follower`);
            process.exit(LEADERSHIP_LOST_EXIT_CODE);
          }),
        log,
      });
      await leadership.register({ url: config.server.replica_url, external_events_url: null });
    }
    app.log.info(
      leadership === undefined
        ? `storing in SQLite at ${config.server.storage_path}`
        : `storing in PostgreSQL at ${maskDatabaseUrl(config.server.database_url)} as replica ${leadership.replicaId}`,
    );
    // What is running so far, stopped in reverse order by stop() or by a start that fails part-way (a port
    // already in use must not leave a half-started server serving). The lease goes back last.
    const running: Array<() => Promise<unknown>> = [
      // Last of all: the spans of what stopped are sent.
      async () => assembled.traces?.close(),
      async () => leadership?.stop(),
      () => orchestrator.close(),
      // Extensions go on running when another replica is up to adopt them; the last one stops them.
      async () =>
        supervisor.close({
          leaveRunning: leadership !== undefined && (await leadership.othersAlive().catch(() => false)),
        }),
    ];
    const stopAll = async () => {
      for (const stop of running.reverse()) await stop();
    };
    try {
      // A single server always does the work; a replica when it wins the lease, now or later.
      const leads = leadership === undefined || (await leadership.tryLead());
      // From the first claim on, so a start longer than two thirds of the lease does not lose it.
      leadership?.startHeartbeat();
      // Before serving: what the previous process left mid-flight is settled first.
      if (leads) await work.prepare();
      const { bind_address } = config.server;
      await listenAt(app, "server.bind_address", bind_address, splitHostPort(bind_address));
      running.push(() => closeWithin(app, config.server.shutdown_timeout_ms / 3));
      const url = addressUrl(app.server.address() as AddressInfo, config.server.tls !== undefined);
      let metricsUrl: string | undefined;
      if (apiBaseUrl.endsWith(":0")) apiBaseUrl = url;
      const externalEvents = config.external_events.enable
        ? await listenForExternalEvents(config, db, supervisor, leadership)
        : undefined;
      if (externalEvents)
        running.push(() => closeWithin(externalEvents.app, config.server.shutdown_timeout_ms / 3));
      if (assembled.metrics && config.metrics.bind_address !== "") {
        const metricsApp = buildMetricsServer({
          metrics: assembled.metrics,
          db,
          public: config.metrics.public,
          bypassAuth: config.development.bypass_auth,
          tls: config.server.tls,
          logger: loggerOption(config.api.log_level, config.development.pretty_logging),
        });
        const { bind_address } = config.metrics;
        await listenAt(metricsApp, "metrics.bind_address", bind_address, splitHostPort(bind_address));
        running.push(() => closeWithin(metricsApp, config.server.shutdown_timeout_ms / 3));
        metricsUrl = addressUrl(metricsApp.server.address() as AddressInfo, config.server.tls !== undefined);
      }
      if (leadership) {
        const current = leadership;
        const replicaUrl = config.server.replica_url.endsWith(":0") ? url : config.server.replica_url;
        if (/^(127\.|localhost$|\[::1\]$)/.test(new URL(replicaUrl).hostname)) {
          app.log.warn(
            `server.replica_url is ${replicaUrl}: only replicas on this host can hand this one changes when it ` +
              "leads; set server.replica_url (GOFER_WEB_SERVER__REPLICA_URL) to an address the others reach",
          );
        }
        await updateReplicaUrls(db, current.replicaId, {
          url: replicaUrl,
          // Reached at this replica's own host (a wildcard bind address names none), on the listener's port.
          external_events_url: externalEvents ? sameHostOtherPort(replicaUrl, externalEvents.url) : null,
        });
        const { EventRelay } = await import("../replicas/event-relay.ts");
        const started = new EventRelay({
          url: config.server.database_url,
          db,
          bus,
          leads: () => current.role() === "leader",
          warn: (message) => app.log.warn(message),
        });
        relay = started;
        await started.start();
        running.push(() => started.close());
      }
      if (leads) {
        await work.begin();
        await leadership?.serve();
      }
      running.push(() => work.stop());
      leadership?.acceptWork();

      return {
        app,
        db,
        orchestrator,
        url,
        externalEventsUrl: externalEvents?.url,
        metricsUrl,
        replicas: leadership ?? SINGLE_SERVER,
        async stop() {
          await stopAll();
          await db.destroy();
          await control?.destroy();
        },
      };
    } catch (error) {
      await stopAll().catch(() => undefined);
      throw error;
    }
  } catch (error) {
    await db.destroy();
    await control?.destroy();
    throw error;
  }
}

async function listenForExternalEvents(
  config: Config,
  db: GoferDb,
  supervisor: ExtensionSupervisor,
  replicas: ReplicaView | undefined,
): Promise<{ app: FastifyInstance; url: string }> {
  const app = buildExternalEventsServer({
    replicas,
    supervisor,
    isInstalled: async (id) => (await getExtension(db, id)) !== undefined,
    bodyLimit: config.external_events.body_limit,
    tls: config.external_events.tls,
    logger: loggerOption(config.api.log_level, config.development.pretty_logging),
  });
  const { bind_address } = config.external_events;
  await listenAt(app, "external_events.bind_address", bind_address, splitHostPort(bind_address));
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

/** `base`'s host with `listener`'s scheme and port. */
function sameHostOtherPort(base: string, listener: string): string {
  const target = new URL(base);
  const bound = new URL(listener);
  target.protocol = bound.protocol;
  target.port = bound.port;
  return target.origin;
}

function addressUrl(address: AddressInfo, tls: boolean): string {
  const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
  return `${tls ? "https" : "http"}://${host}:${address.port}`;
}

function splitHostPort(bindAddress: string): [string, number] {
  const index = bindAddress.lastIndexOf(":");
  const host = bindAddress.slice(0, index).replace(/^\[(.*)\]$/, "$1");
  return [host, Number(bindAddress.slice(index + 1))];
}
