/**
 * Wires the server's components from a resolved Config: the one place that decides which component gets which
 * setting, shared by the running service and the OpenAPI generator so the document describes the real server.
 */

import type { GoferApp } from "../api/api-context.ts";
import { loggerOption } from "../api/log-format.ts";
import { extensionRoutes } from "../api/routes/extensions.ts";
import { notificationRoutes } from "../api/routes/notifications.ts";
import { secretRoutes } from "../api/routes/secrets.ts";
import { subscriptionRoutes } from "../api/routes/subscriptions.ts";
import { buildServer } from "../api/server.ts";
import { deleteRetiredRunTokens, RunTokens } from "../auth/run-tokens.ts";
import type { Config } from "../config/index.ts";
import { runTraceId, taskAttemptSpanId, traceparent } from "../domain/trace-ids.ts";
import { EventBus } from "../events/event-bus.ts";
import { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import { installSettingsResolver, subscriptionSettingsResolver } from "../extensions/settings-resolution.ts";
import { watchLogLifecycle } from "../logs/log-lifecycle.ts";
import { LogStore } from "../logs/log-store.ts";
import { maskSecrets } from "../logs/secret-masker.ts";
import { GoferMetrics } from "../metrics/gofer-metrics.ts";
import { instrumentScheduler } from "../metrics/instrumented-scheduler.ts";
import { watchRunMetrics } from "../metrics/run-metrics.ts";
import { NotificationDispatcher } from "../notifications/notification-dispatcher.ts";
import { watchObjectLifecycle } from "../objects/object-lifecycle.ts";
import { objectResolvers } from "../objects/object-resolvers.ts";
import { ObjectStore } from "../objects/object-store.ts";
import { Orchestrator } from "../orchestrator/orchestrator.ts";
import { announceEvent } from "../replicas/event-announce.ts";
import { type ReplicaView, SINGLE_SERVER } from "../replicas/leadership.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { secretResolvers } from "../secrets/secret-resolvers.ts";
import { openSecretStore } from "../secrets/secret-store.ts";
import { AuditService } from "../services/audit-service.ts";
import { ConfigService } from "../services/config-service.ts";
import { DeploymentService } from "../services/deployment-service.ts";
import { EventService } from "../services/event-service.ts";
import { ExtensionService } from "../services/extension-service.ts";
import { NamespaceService } from "../services/namespace-service.ts";
import { NotificationService } from "../services/notification-service.ts";
import { ObjectService } from "../services/object-service.ts";
import { PipelineService } from "../services/pipeline-service.ts";
import { ReplicaService } from "../services/replica-service.ts";
import { RoleService } from "../services/role-service.ts";
import { RunService } from "../services/run-service.ts";
import { SecretService } from "../services/secret-service.ts";
import { SubscriptionService } from "../services/subscription-service.ts";
import { SystemService } from "../services/system-service.ts";
import { TaskExecutionService } from "../services/task-execution-service.ts";
import { TokenService } from "../services/token-service.ts";
import type { GoferDb } from "../storage/database.ts";
import type { RunKey } from "../storage/runs-store.ts";
import { countQueuedRuns } from "../storage/runs-store.ts";
import { countRunningTaskExecutions } from "../storage/task-executions-store.ts";
import { OtlpExporter } from "../tracing/otlp-exporter.ts";
import { watchRunTraces } from "../tracing/run-traces.ts";
import { traceScheduler } from "../tracing/traced-scheduler.ts";
import { VERSION } from "../version.ts";

export interface Wiring {
  scheduler: Scheduler;
  instanceId: string;
  /** Read when a task starts, so a port bound after assembly still reaches tasks. */
  apiBaseUrl: () => string;
  /** Whether other replicas share the database (PostgreSQL): events are announced, logs followed by polling. */
  replicated?: boolean;
  /** Which replica leads; read per request, as the replica is registered after assembly. */
  replicas?: () => ReplicaView;
}

/** How often a follower of a log written by another replica looks at its file. */
const SHARED_LOG_POLL_MS = 250;

export interface Assembled {
  app: GoferApp;
  bus: EventBus;
  logs: LogStore;
  objects: ObjectStore;
  orchestrator: Orchestrator;
  supervisor: ExtensionSupervisor;
  /** Registers the standard extensions at boot, through the same rules and events as an API install. */
  extensions: ExtensionService;
  /** Sends run notifications; started with the rest of the work (work-duties.ts). */
  notifications: NotificationDispatcher;
  /** Prometheus metrics, unless `metrics.enable` is off. */
  metrics: GoferMetrics | undefined;
  /** The span exporter, when OpenTelemetry tracing is configured; closed last, to send what is left. */
  traces: OtlpExporter | undefined;
}

export async function assemble(config: Config, db: GoferDb, wiring: Wiring): Promise<Assembled> {
  // Read at scrape time only, by when everything below exists.
  const metrics = config.metrics.enable
    ? new GoferMetrics({
        queuedRuns: async () =>
          (await countQueuedRuns(db)).map((row) => ({
            namespace: row.namespace_id,
            pipeline: row.pipeline_id,
            count: row.count,
          })),
        runningTasks: () => countRunningTaskExecutions(db),
        eventStreams: () => bus.streamCount(),
        logFollowers: () => logs.allFollowersCount(),
        extensions: () =>
          supervisor.states().map((runtime) => ({
            extension: runtime.id,
            state: runtime.state,
            restarts: runtime.restarts,
          })),
        leads: () => (wiring.replicas?.() ?? SINGLE_SERVER).role() === "leader",
      })
    : undefined;
  // Nothing of tracing exists unless it is on: no cost when off.
  const traces = config.tracing
    ? new OtlpExporter(config.tracing, VERSION.semver, (message) => app.log.warn(message))
    : undefined;
  const measured = metrics ? instrumentScheduler(wiring.scheduler, metrics) : wiring.scheduler;
  const scheduler = traces ? traceScheduler(measured, traces) : measured;
  const runIdentity = (run: RunKey) => ({ instance_id: wiring.instanceId, ...run });
  const bus = new EventBus(db, {
    ...(traces && {
      // A run's events carry its trace id, to find the trace from the event stream.
      decorate: (_kind: string, details: object) =>
        isRunKey(details) ? { ...details, trace_id: runTraceId(runIdentity(details)) } : details,
    }),
    ...(wiring.replicated && { announce: announceEvent }),
    ...(metrics && {
      observeTransaction: (seconds: number, committed: boolean) =>
        metrics.transaction.observe({ outcome: committed ? "committed" : "rolled_back" }, seconds),
    }),
  });
  const logs = new LogStore(config.api.task_execution_logs_dir, {
    ...(wiring.replicated && { pollMs: SHARED_LOG_POLL_MS }),
    ...(metrics && {
      onWritten: (bytes: number, lines: number) => {
        metrics.logBytes.inc(bytes);
        metrics.logLines.inc(lines);
      },
    }),
  });
  if (metrics) watchRunMetrics(bus, db, metrics, (message, error) => app.log.error({ err: error }, message));
  if (traces) {
    watchRunTraces(bus, db, traces, wiring.instanceId, (message, error) =>
      app.log.error({ err: error }, message),
    );
  }
  const objects = new ObjectStore({
    dir: config.object_store.filesystem.path,
    db,
    pipelineObjectLimit: config.object_store.pipeline_object_limit,
    runObjectExpiry: config.object_store.run_object_expiry,
    maxObjectSize: config.object_store.max_object_size,
    log: (message, error) => app.log.error({ err: error }, message),
  });
  const runTokens = new RunTokens(db);
  // Opened before anything listens: a wrong or corrupt key stops the server here, with a message saying why.
  const secrets = await openSecretStore(db, config.secret_store.sqlite);
  const resolvers = { ...objectResolvers(objects), ...secretResolvers(secrets) };
  const orchestrator = new Orchestrator({
    db,
    scheduler,
    logs,
    bus,
    limits: {
      perPipelineDefault: config.api.pipeline_run_concurrency_limit,
      global: config.api.global_run_concurrency_limit,
    },
    stopTimeoutMs: config.api.task_execution_stop_timeout_ms,
    timeouts: { defaultMs: config.api.task_timeout_default_ms, maxMs: config.api.task_timeout_max_ms },
    apiBaseUrl: wiring.apiBaseUrl,
    instanceId: wiring.instanceId,
    runToken: (run) => runTokens.forRun(run),
    resolvers,
    maskSecrets,
    ...(traces && {
      traceparent: (run: RunKey, taskId: string, attempt: number) =>
        traceparent(runTraceId(runIdentity(run)), taskAttemptSpanId(runIdentity(run), taskId, attempt)),
    }),
    retryLimitMs: config.scheduler.retry_limit_ms,
    // `run` on each line about a run or task, so `grep` follows one.
    log: (message, error, subject) =>
      app.log.error({ err: error, ...(subject && { run: subject }) }, message),
    info: (message) => app.log.info(message),
  });
  // A run's token lives as long as its objects: retired the moment they expire or their pipeline goes.
  watchObjectLifecycle(
    bus,
    objects,
    (message, error) => app.log.error({ err: error }, message),
    () => deleteRetiredRunTokens(db),
  );
  runTokens.forgetCompletedRuns(bus);
  watchLogLifecycle(bus, logs, (message, error) => app.log.error({ err: error }, message));
  const app = await buildServer({
    db,
    version: VERSION,
    audit: new AuditService({ db }),
    objects: new ObjectService({ db, objects }),
    // Assigned below, before the server listens: deploys reconcile declared subscriptions through it.
    configs: new ConfigService({ db, bus, subscriptions: () => subscriptionService }),
    deployments: new DeploymentService({ db }),
    events: new EventService({ db, bus }),
    namespaces: new NamespaceService({ db, bus }),
    pipelines: new PipelineService({ db, bus }),
    roles: new RoleService({ db, bus }),
    runs: new RunService({ db, orchestrator }),
    system: new SystemService({ db, version: VERSION }),
    replicas: new ReplicaService({
      db,
      replicated: wiring.replicated ?? false,
      replicas: wiring.replicas ?? (() => SINGLE_SERVER),
      leaseTimeoutMs: config.server.lease_timeout_ms,
      version: VERSION.semver,
      url: wiring.apiBaseUrl,
      started: Date.now(),
    }),
    taskExecutions: new TaskExecutionService({
      db,
      orchestrator,
      logs,
      stopTimeoutMs: config.api.task_execution_stop_timeout_ms,
      taskAttach: config.api.task_attach,
    }),
    tokens: new TokenService({ db }),
    web: config.web,
    bypassAuth: config.development.bypass_auth,
    bodyLimit: config.api.request_body_limit,
    tls: config.server.tls,
    ...(traces && { traces }),
    ...(metrics && {
      metrics: {
        registry: metrics,
        public: config.metrics.public,
        elsewhere: config.metrics.bind_address !== "",
      },
    }),
    ...(wiring.replicated && wiring.replicas && { replicaView: replicaViewOf(wiring.replicas) }),
    logger: loggerOption(config.api.log_level, config.development.pretty_logging),
  });
  secretRoutes(app, { secrets: new SecretService({ db, secrets }) });
  const { extensions } = config;
  const supervisor = new ExtensionSupervisor({
    db,
    scheduler,
    bus,
    instanceId: wiring.instanceId,
    // Gofer's server.extension_address: where extensions dial the API when it is not at server.url for them.
    apiBaseUrl:
      config.server.extension_url === config.server.url
        ? wiring.apiBaseUrl
        : () => config.server.extension_url,
    // "silent" quiets the server's own output; an extension's output is its own diagnostics, kept with it.
    logLevel: config.api.log_level === "silent" ? "info" : config.api.log_level,
    timing: {
      startTimeoutMs: extensions.start_timeout_ms,
      healthIntervalMs: extensions.health_check_interval_ms,
      unhealthyThreshold: extensions.unhealthy_threshold,
      backoffMaxMs: extensions.restart_backoff_max_ms,
      stopTimeoutMs: extensions.stop_timeout_ms,
    },
    tls: extensions.tls,
    resolveSettings: installSettingsResolver(secrets),
    resolveSubscription: subscriptionSettingsResolver(resolvers),
    ...(metrics && {
      onHealthCheckFailed: (id: string) => metrics.extensionHealthFailures.inc({ extension: id }),
    }),
    ...(wiring.replicated && {
      handover: {
        seal: (id: string, text: string) => secrets.seal(`extension-runtime/${id}`, text),
        unseal: (id: string, sealed: Uint8Array) => secrets.unseal(`extension-runtime/${id}`, sealed),
      },
    }),
    log: {
      info: (message) => app.log.info(message),
      error: (message, error) => app.log.error({ err: error }, message),
    },
  });
  const subscriptionService = new SubscriptionService({
    db,
    bus,
    supervisor,
    log: (message, error) => app.log.error({ err: error }, message),
  });
  const extensionService = new ExtensionService({
    db,
    bus,
    scheduler,
    supervisor,
    subscriptions: subscriptionService,
  });
  extensionRoutes(app, { extensions: extensionService });
  subscriptionRoutes(app, { subscriptions: subscriptionService });
  const userAgent = `gofer/${VERSION.semver}`;
  notificationRoutes(app, {
    notifications: new NotificationService({
      db,
      secrets,
      timeoutMs: config.notifications.timeout_ms,
      userAgent,
    }),
  });
  const notifications = new NotificationDispatcher({
    db,
    bus,
    secrets,
    settings: {
      timeoutMs: config.notifications.timeout_ms,
      maxAttempts: config.notifications.max_attempts,
      firstBackoffMs: config.notifications.retry_backoff_ms,
      disableAfter: config.notifications.disable_after,
    },
    // Links go to the address users reach the server at (the load balancer's, with replicas).
    webUrl: () => (config.web.enable ? wiring.apiBaseUrl() : undefined),
    userAgent,
    log: {
      info: (message) => app.log.info(message),
      error: (message, error) => app.log.error({ err: error }, message),
    },
  });
  if (extensions.tls && !extensions.tls.verify_certs) {
    // Gofer's default, kept so its configurations behave the same; said once, since it is a choice to revisit.
    app.log.warn(
      "extensions.verify_certs is false: Gofer calls extensions over HTTPS without checking their certificate; " +
        "set it to true to accept only the certificate Gofer hands them (extensions.tls_cert_path)",
    );
  }
  if (config.secret_store.sqlite.encryption_key === "") {
    // Convenient for a first start, but whoever copies the data folder gets the key with it.
    app.log.warn(
      `secrets are encrypted with the generated key in ${config.secret_store.sqlite.key_file}, inside the data ` +
        "folder; for production set secret_store.sqlite.encryption_key (32 bytes) and keep it elsewhere",
    );
  }
  return {
    app,
    bus,
    logs,
    objects,
    orchestrator,
    supervisor,
    extensions: extensionService,
    notifications,
    metrics,
    traces,
  };
}

/** A view that asks `current` each time: the replica is registered once the server is assembled. */
function replicaViewOf(current: () => ReplicaView): ReplicaView {
  return {
    get replicaId() {
      return current().replicaId;
    },
    role: () => current().role(),
    leader: () => current().leader(),
    forgetLeader: () => current().forgetLeader(),
  };
}

/** Whether an event's details name a run (run events, and task events, which belong to its trace). */
function isRunKey(details: object): details is RunKey {
  const candidate = details as Partial<RunKey>;
  return (
    typeof candidate.namespace_id === "string" &&
    typeof candidate.pipeline_id === "string" &&
    typeof candidate.run_id === "number"
  );
}
