/**
 * The work one server (or the leading replica) does besides answering the API: settling what a previous process
 * left mid-flight, the run loop, the extensions, retention and the token sweeps. A single server takes it up
 * at start; a replica when it takes the lease (replicas/leadership.ts), which is then exactly a restart of the
 * work: what the previous leader left running is adopted by recovery, as after a crash.
 */
import { deleteRetiredRunTokens } from "../auth/run-tokens.ts";
import type { Config } from "../config/index.ts";
import { SYSTEM_ROLES } from "../domain/permissions.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import type { LogStore } from "../logs/log-store.ts";
import type { NotificationDispatcher } from "../notifications/notification-dispatcher.ts";
import type { ObjectStore } from "../objects/object-store.ts";
import type { Orchestrator } from "../orchestrator/orchestrator.ts";
import { startRetention } from "../retention/retention.ts";
import type { ExtensionService } from "../services/extension-service.ts";
import type { GoferDb } from "../storage/database.ts";
import { getNamespace, insertNamespace } from "../storage/namespaces-store.ts";
import { upsertSystemRoles } from "../storage/roles-store.ts";
import { deleteExpiredTokens } from "../storage/tokens-store.ts";
import { sweepDeletedOwners } from "./deleted-owner-sweep.ts";

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

export interface WorkParts {
  config: Config;
  db: GoferDb;
  bus: EventBus;
  logs: LogStore;
  objects: ObjectStore;
  orchestrator: Orchestrator;
  supervisor: ExtensionSupervisor;
  extensions: ExtensionService;
  notifications: NotificationDispatcher;
  log: { info: (message: string) => void; error: (message: string, error?: unknown) => void };
}

export class WorkDuties {
  readonly #parts: WorkParts;
  readonly #running: Array<() => Promise<unknown>> = [];

  constructor(parts: WorkParts) {
    this.#parts = parts;
  }

  /** What must be settled before the work is served: storage's defaults, files left by a crash, recovery. */
  async prepare(): Promise<void> {
    const { config, db, objects, orchestrator, log } = this.#parts;
    await ensureDefaultNamespace(db);
    await upsertSystemRoles(db, SYSTEM_ROLES);
    await deleteExpiredTokens(db, Date.now());
    await deleteRetiredRunTokens(db);
    // Before any upload: files left by a crash mid-write (or mid-delete) belong to no object.
    await objects.sweep();
    // A delete commits before its files go: a stop in between leaves folders of pipelines that no longer exist.
    await sweepDeletedOwners(db, {
      logsDir: config.api.task_execution_logs_dir,
      objectsDir: config.object_store.filesystem.path,
    });
    // What the previous process left mid-flight is settled first (see recovery.ts).
    const recovered = await orchestrator.recover();
    if (Object.values(recovered).some((count) => count > 0)) {
      log.info(
        `recovered from the previous run of the server: ${recovered.adopted} task container(s) adopted, ` +
          `${recovered.orphaned} orphaned, ${recovered.requeued} task(s) to start again, ` +
          `${recovered.reaped} stray container(s) removed`,
      );
    }
  }

  /** Starts the run loop, retention, the extensions and the sweeps. */
  async begin(): Promise<void> {
    const { config, db, bus, logs, objects, orchestrator, supervisor, extensions, notifications, log } =
      this.#parts;
    // Before the run loop, so the runs it ends are heard; what ended before (a crash between an event and its
    // deliveries, the previous leader's last events) is caught up on, and pending deliveries are resumed.
    await notifications.start();
    this.#running.push(() => notifications.stop());
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
      log: log.error,
    });
    this.#running.push(() => retention.close());
    if (config.extensions.install_std_extensions) {
      await extensions.installStandard(config.extensions.std_image_prefix);
    }
    // Extensions start in the background: one that cannot start is retried, never a reason not to serve.
    await supervisor.boot();
    const sweep = setInterval(() => {
      Promise.all([deleteExpiredTokens(db, Date.now()), deleteRetiredRunTokens(db)]).catch((error: unknown) =>
        log.error("could not delete expired tokens", error),
      );
    }, EXPIRED_TOKEN_SWEEP_MS);
    sweep.unref();
    this.#running.push(async () => clearInterval(sweep));
    // Runs first when stopping: starts in progress give up before the API waits for requests to end.
    this.#running.push(async () => supervisor.stopStarting());
  }

  /** Stops what {@link begin} started, newest first. */
  async stop(): Promise<void> {
    for (const stop of this.#running.splice(0).reverse()) await stop();
  }
}

async function ensureDefaultNamespace(db: GoferDb): Promise<void> {
  if (await getNamespace(db, DEFAULT_NAMESPACE.id)) return;
  const now = Date.now();
  await insertNamespace(db, { ...DEFAULT_NAMESPACE, created: now, modified: now });
}
