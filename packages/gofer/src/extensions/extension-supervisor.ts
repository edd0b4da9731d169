/**
 * Keeps every installed extension running: starts its container, waits for it to answer, hands it its
 * subscriptions, watches it, and restarts it with backoff when it fails. An extension that cannot start never
 * stops the server; its failure is recorded where `extension get` shows it.
 *
 * Storage holds what was installed and subscribed; this class holds what is running. After every (re)start
 * Gofer, not the extension, replays the pipeline subscriptions, with secret references resolved, so an
 * extension needs no state of its own to survive a restart.
 *
 * Everything that changes one extension's container or token (a start, a stop, a subscription handed over)
 * runs one at a time per extension, so a start that is still pulling its image cannot race a disable or an
 * uninstall into a second container or a token nobody revokes. Every start is also a new "generation":
 * callbacks of an older one (a health check in flight, the exit of a container already replaced) find their
 * generation stale and do nothing, and a stop interrupts a start still waiting for its first health answer.
 */

import { createServer } from "node:net";
import type {
  ExtensionDocumentation,
  ExtensionState,
  ExtensionStateReasonKind,
  StatusReason,
  Subscription,
} from "@gofer/sdk/client";
import { eventOf } from "@gofer/sdk/client";
import { ensureExtensionRole, revokeExtensionToken, rotateExtensionToken } from "../auth/extension-tokens.ts";
import type { ExtensionTls } from "../config/config.ts";
import { GoferError, notFound } from "../domain/errors.ts";
import type { EventBus } from "../events/event-bus.ts";
import {
  extensionContainerName,
  extensionLabels,
  extensionOf,
  extensionSelector,
  isManaged,
} from "../scheduler/container-labels.ts";
import type { ContainerSpec, Scheduler } from "../scheduler/scheduler.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  getExtension,
  getExtensionRuntime,
  listExtensions,
  type StoredExtension,
  saveExtensionRuntime,
} from "../storage/extensions-store.ts";
import {
  listExtensionSubscriptions,
  markSubscriptionFailed,
  reviveSubscription,
  type SubscriptionKey,
} from "../storage/subscriptions-store.ts";
import { SerialQueue } from "../support/serial-queue.ts";
import {
  ExtensionCallError,
  ExtensionClient,
  type ExtensionTransport,
  extensionTransport,
  type SubscriptionMessage,
} from "./extension-client.ts";
import { KEPT_LINES, LastOutputs, quotedTail } from "./last-output.ts";

export type ExtensionReason = StatusReason<ExtensionStateReasonKind>;

export interface SupervisorTiming {
  startTimeoutMs: number;
  healthIntervalMs: number;
  unhealthyThreshold: number;
  backoffMaxMs: number;
  stopTimeoutMs: number;
}

export interface SupervisorOptions {
  db: GoferDb;
  scheduler: Scheduler;
  bus: EventBus;
  /** This server's id: its containers carry it, so two servers on one engine never touch each other's. */
  instanceId: string;
  /** Read at each start, so a port bound after assembly still reaches extensions. */
  apiBaseUrl: () => string;
  logLevel: string;
  timing: SupervisorTiming;
  /** `extensions.use_tls`: handed to every extension to serve HTTPS with, and used to call it. */
  tls: ExtensionTls | undefined;
  /** Install settings with secret references resolved, just before they become the container's environment. */
  resolveSettings(settings: Record<string, string>): Promise<Record<string, string>>;
  /** A subscription's settings with secret and object references resolved, just before they are sent. */
  resolveSubscription(subscription: Subscription): Promise<Record<string, string>>;
  log: { info(message: string): void; error(message: string, error?: unknown): void };
  /**
   * With replicas: each running container's address and secret are kept sealed in storage, so the replica that
   * takes over adopts a healthy extension instead of restarting it, and a stopping leader leaves its
   * extensions running for the next one.
   */
  /** Told of each health check an extension did not answer. */
  onHealthCheckFailed?: (extensionId: string) => void;
  handover?: {
    seal(extensionId: string, text: string): Uint8Array;
    unseal(extensionId: string, sealed: Uint8Array): string;
  };
}

/** What a new leader needs to adopt a running extension container. */
interface SealedRuntime {
  container_id: string;
  address: string;
  secret: string;
}

/** What the API shows of an extension's life, beside its stored registration. */
export interface ExtensionRuntimeView {
  state: ExtensionState;
  state_reason: ExtensionReason | null;
  url: string;
  started: number;
  restarts: number;
  documentation: ExtensionDocumentation;
}

interface Runtime {
  id: string;
  state: ExtensionState;
  reason: ExtensionReason | null;
  started: number;
  restarts: number;
  documentation: ExtensionDocumentation;
  generation: number;
  /** Failed starts and crashes in a row; the restart delay doubles with each. */
  failures: number;
  client?: ExtensionClient;
  containerId?: string;
  /** Aborts the start in progress (its wait for the first health answer) when a stop is asked for. */
  starting?: AbortController;
  retryTimer?: NodeJS.Timeout;
  healthTimer?: NodeJS.Timeout;
  /** The subscriptions the current container holds, by key, for unsubscribing when their pipeline goes. */
  held: Map<string, SubscriptionMessage>;
}

const EMPTY_DOCUMENTATION: ExtensionDocumentation = {
  body: "",
  config_params: [],
  pipeline_subscription_params: [],
};
/** A crash after this long running counts as a new failure streak, so the backoff starts small again. */
const STABLE_AFTER_MS = 60_000;
const FIRST_RETRY_MS = 1_000;
const HEALTH_POLL_MS = 100;

const keyOf = (message: SubscriptionMessage): string =>
  `${message.namespace_id}/${message.pipeline_id}/${message.pipeline_subscription_id}`;

export const messageOf = (key: { namespace_id: string; pipeline_id: string; subscription_id: string }) => ({
  namespace_id: key.namespace_id,
  pipeline_id: key.pipeline_id,
  pipeline_subscription_id: key.subscription_id,
});

/**
 * The environment variable an install setting becomes: `min_interval` → GOFER_EXTENSION_CONFIG_MIN_INTERVAL (and
 * MIN_INTERVAL too, as Gofer passed it).
 */
export const configVariable = (key: string): string => `GOFER_EXTENSION_CONFIG_${key.toUpperCase()}`;

export class ExtensionSupervisor {
  readonly #options: SupervisorOptions;
  readonly #transport: ExtensionTransport;
  readonly #runtimes = new Map<string, Runtime>();
  /** The output of each extension's last removed container: the reason it failed usually lies there. */
  readonly #lastOutputs = new LastOutputs();
  /** One lifecycle change at a time per extension id. */
  readonly #serial = new SerialQueue();
  readonly #unsubscribeBus: () => void;
  #closed = false;

  constructor(options: SupervisorOptions) {
    this.#options = options;
    this.#transport = extensionTransport(options.tls);
    this.#unsubscribeBus = options.bus.subscribe((event) => {
      const { name, details } = eventOf(event);
      if (name === "deleted_pipeline") this.#releaseDeleted(details.namespace_id, details.pipeline_id);
      if (name === "deleted_namespace") this.#releaseDeleted(details.namespace_id, undefined);
    });
  }

  /**
   * Removes extension containers left by an earlier process, then starts every enabled extension in the
   * background: the API serves while extensions come up, and one that fails is retried, never fatal.
   */
  async boot(): Promise<void> {
    const installed = await listExtensions(this.#options.db);
    for (const extension of installed) {
      const runtime = this.#runtime(extension.extension_id);
      if (extension.status === "disabled") {
        this.#markDisabled(runtime);
        void this.#serially(runtime, () => this.#removeContainers(runtime.id));
      } else {
        void this.#start(runtime, { adopt: this.#options.handover !== undefined });
      }
    }
    // Containers of extensions no longer installed; each start clears its own. Not awaited: an engine that is
    // slow or down must not hold up serving.
    const known = new Set(installed.map((extension) => extension.extension_id));
    void this.#removeContainers(undefined, 0, (id) => !known.has(id));
  }

  /**
   * Starts a newly registered extension and waits for its first attempt. Resolves with null when it runs, or
   * with why it did not (the caller decides whether to undo the install); no retry is scheduled then.
   */
  async startFirst(extensionId: string): Promise<ExtensionReason | null> {
    return this.#start(this.#runtime(extensionId), { retry: false });
  }

  /** Enables: starts it and waits for the first attempt; a failure stays visible and is retried with backoff. */
  async enable(extensionId: string): Promise<void> {
    const runtime = this.#runtime(extensionId);
    runtime.failures = 0;
    await this.#start(runtime);
  }

  /** Disables: shuts its container down and revokes its token, so it can start no run until enabled again. */
  async disable(extensionId: string): Promise<void> {
    const runtime = this.#runtime(extensionId);
    this.#interrupt(runtime);
    await this.#serially(runtime, async () => {
      // The token first: from this moment the extension can start no run, however long it takes to stop.
      const stored = await getExtension(this.#options.db, extensionId);
      if (stored) await revokeExtensionToken(this.#options.db, stored.extension_id, stored.token_id);
      await this.#halt(runtime);
      this.#markDisabled(runtime);
    });
  }

  /** Uninstall's running half: unsubscribes everything, stops and removes the container, forgets it. */
  async remove(extensionId: string): Promise<void> {
    const runtime = this.#runtimes.get(extensionId);
    if (!runtime) return;
    this.#interrupt(runtime);
    await this.#serially(runtime, async () => {
      const client = runtime.client;
      for (const message of client ? runtime.held.values() : []) {
        await client
          ?.unsubscribe(message)
          .catch((error: unknown) =>
            this.#options.log.error(
              `extension ${extensionId}: could not unsubscribe ${keyOf(message)}`,
              error,
            ),
          );
      }
      await this.#halt(runtime);
      this.#runtimes.delete(extensionId);
    });
  }

  /** Every supervised extension's state and restarts, for the metrics. */
  states(): Array<{ id: string; state: ExtensionState; restarts: number }> {
    return [...this.#runtimes.values()].map(({ id, state, restarts }) => ({ id, state, restarts }));
  }

  view(extensionId: string): ExtensionRuntimeView {
    const runtime = this.#runtimes.get(extensionId);
    if (!runtime) {
      return {
        state: "unknown",
        state_reason: null,
        url: "",
        started: 0,
        restarts: 0,
        documentation: EMPTY_DOCUMENTATION,
      };
    }
    const running = runtime.state === "running";
    return {
      state: runtime.state,
      state_reason: runtime.reason,
      url: running ? (runtime.client?.url ?? "") : "",
      started: running ? runtime.started : 0,
      restarts: runtime.restarts,
      documentation: runtime.documentation,
    };
  }

  /** The container of an extension, for its logs; undefined when it has none. */
  containerOf(extensionId: string): string | undefined {
    return this.#runtimes.get(extensionId)?.containerId;
  }

  /**
   * What the extension's last container printed before it was removed (its last lines, up to a bound), or
   * undefined when none was kept. It outlives a failed install, whose output says why it failed.
   */
  lastOutputOf(extensionId: string): string | undefined {
    return this.#lastOutputs.get(extensionId);
  }

  /** An uninstall on purpose leaves nothing behind, the last container's output included. */
  forgetOutput(extensionId: string): void {
    this.#lastOutputs.forget(extensionId);
  }

  /** The client of a running extension; 503 naming its state and reason otherwise. */
  clientOf(extensionId: string): ExtensionClient {
    const runtime = this.#runtimes.get(extensionId);
    if (!runtime) throw notFound(`Extension "${extensionId}"`);
    if (runtime.state !== "running" || !runtime.client) {
      const why = runtime.reason ? ` (${runtime.reason.reason}: ${runtime.reason.description})` : "";
      throw new GoferError(
        "EXTENSION_UNAVAILABLE",
        `Extension "${extensionId}" is ${runtime.state === "processing" ? "starting" : "not running"}${why}; ` +
          `see \`gofer extension get ${extensionId}\``,
      );
    }
    return runtime.client;
  }

  /** Hands one subscription to the running extension (idempotent on its side). */
  async subscribe(
    subscription: Subscription,
    commit: () => Promise<void> = async () => undefined,
  ): Promise<void> {
    const runtime = this.#runtimes.get(subscription.extension_id);
    if (!runtime) throw notFound(`Extension "${subscription.extension_id}"`);
    // `commit` stores the change in the same turn: a restart between hand-over and storage would replay
    // without it. If storing fails, the extension is told to forget the subscription again.
    await this.#serially(runtime, async () => {
      await this.#subscribeNow(subscription);
      try {
        await commit();
      } catch (error) {
        const message = messageOf(subscription);
        runtime.held.delete(keyOf(message));
        await runtime.client?.unsubscribe(message).catch(() => undefined);
        throw error;
      }
    });
  }

  /** Takes a subscription back from the extension; a stopped extension has nothing to take back. */
  async unsubscribe(key: SubscriptionKey): Promise<void> {
    const runtime = this.#runtimes.get(key.extension_id);
    if (!runtime) return;
    await this.#serially(runtime, async () => {
      const message = messageOf(key);
      runtime.held.delete(keyOf(message));
      if (runtime.state === "running" && runtime.client) await runtime.client.unsubscribe(message);
    });
  }

  /**
   * The first step of stopping the server: no new start begins and starts in progress give up, so requests
   * waiting on a start (an install) end before the API closes. `close` then stops the containers.
   */
  stopStarting(): void {
    this.#closed = true;
    for (const runtime of this.#runtimes.values()) this.#interrupt(runtime);
  }

  /**
   * Tells every extension to shut down and stops its container; called when the server stops. With
   * `leaveRunning` (another replica is up to lead next) the containers are left running for it to adopt.
   */
  async close(options: { leaveRunning?: boolean } = {}): Promise<void> {
    this.#closed = true;
    this.#unsubscribeBus();
    if (options.leaveRunning && this.#options.handover) {
      for (const runtime of this.#runtimes.values()) this.#interrupt(runtime);
      await this.#serial.drain();
      return;
    }
    await Promise.all(
      [...this.#runtimes.values()].map((runtime) => {
        this.#interrupt(runtime);
        return this.#serially(runtime, () => this.#halt(runtime));
      }),
    );
  }

  #serially<T>(runtime: Runtime, work: () => Promise<T>): Promise<T> {
    return this.#serial.run(runtime.id, work);
  }

  /** Queues a start attempt behind whatever this extension is doing. */
  #start(
    runtime: Runtime,
    options: { retry?: boolean; adopt?: boolean } = {},
  ): Promise<ExtensionReason | null> {
    // A stop (or another start) that comes between queuing and running makes this start moot.
    const queuedAt = runtime.generation;
    return this.#serially(runtime, async () =>
      runtime.generation === queuedAt ? this.#launch(runtime, options) : null,
    );
  }

  /** Makes the current start and every callback of it stale at once, before the stop that follows is queued. */
  #interrupt(runtime: Runtime): void {
    this.#clearTimers(runtime);
    runtime.generation += 1;
    runtime.starting?.abort();
  }

  /** Hands one subscription to the running extension; the caller holds the extension's turn. */
  async #subscribeNow(subscription: Subscription): Promise<void> {
    const client = this.clientOf(subscription.extension_id);
    const message = messageOf(subscription);
    await client.subscribe(message, await this.#options.resolveSubscription(subscription));
    this.#runtimes.get(subscription.extension_id)?.held.set(keyOf(message), message);
  }

  #runtime(extensionId: string): Runtime {
    let runtime = this.#runtimes.get(extensionId);
    if (!runtime) {
      runtime = {
        id: extensionId,
        state: "processing",
        reason: null,
        started: 0,
        restarts: 0,
        documentation: EMPTY_DOCUMENTATION,
        generation: 0,
        failures: 0,
        held: new Map(),
      };
      this.#runtimes.set(extensionId, runtime);
    }
    return runtime;
  }

  /**
   * One start attempt: fresh token, container, first health answer, documentation, subscriptions. The
   * previous failure stays in `state_reason` while the attempt runs, so a user sees why it is restarting.
   */
  async #launch(runtime: Runtime, { retry = true, adopt = false } = {}): Promise<ExtensionReason | null> {
    const { db, scheduler, timing } = this.#options;
    this.#clearTimers(runtime);
    const generation = ++runtime.generation;
    if (this.#closed) return null;
    runtime.state = "processing";
    runtime.client = undefined;
    runtime.held.clear();
    const starting = new AbortController();
    runtime.starting = starting;
    let containerId: string | undefined;
    try {
      const stored = await getExtension(db, runtime.id);
      if (!stored) throw new Error("it is no longer installed");
      // Belt and braces for callbacks that outlived a disable or an uninstall: never start those.
      if (stored.status === "disabled" || this.#runtimes.get(runtime.id) !== runtime) return null;
      if (adopt && (await this.#adopt(runtime, generation, stored))) return null;
      await this.#removeContainers(runtime.id);
      await ensureExtensionRole(db, runtime.id);
      const secret = await rotateExtensionToken(db, stored);
      const port = await freePort();
      const started = await scheduler.start(await this.#containerSpec(stored, secret, port));
      containerId = started.id;
      runtime.containerId = containerId;
      const exit = scheduler.wait(containerId).then(
        (result) => result.exitCode,
        () => undefined,
      );
      const { scheme, agent } = this.#transport;
      const client = new ExtensionClient(`${scheme}://${started.serviceAddress}`, secret, { agent });
      await waitUntilHealthy(client, exit, timing.startTimeoutMs, starting.signal);
      await this.#sealRuntime(runtime.id, {
        container_id: containerId,
        address: started.serviceAddress ?? "",
        secret,
      });
      const info = await client.info();
      // Interrupted: the stop queued behind this start removes the container and revokes the token.
      if (generation !== runtime.generation || this.#closed) return null;
      runtime.state = "running";
      runtime.reason = null;
      runtime.client = client;
      runtime.started = Date.now();
      runtime.documentation = info.documentation;
      this.#watch(runtime, generation, containerId, exit);
      this.#options.log.info(`extension ${runtime.id} is running at ${client.url}`);
      await this.#replay(runtime, generation, stored);
      return null;
    } catch (error) {
      if (generation !== runtime.generation || this.#closed) return null;
      const description = await this.#describeFailure(runtime.id, error, containerId);
      const reason: ExtensionReason = { reason: "start_failed", description };
      this.#fail(runtime, reason, retry);
      return reason;
    } finally {
      if (runtime.starting === starting) runtime.starting = undefined;
    }
  }

  async #containerSpec(stored: StoredExtension, secret: string, port: number): Promise<ContainerSpec> {
    const apiUrl = this.#options.apiBaseUrl();
    const tls = this.#options.tls;
    const settings = await this.#options.resolveSettings(stored.settings);
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(settings)) {
      // Gofer passed settings under their own names, which extensions built on its Go SDK read (upper-cased).
      if (!key.toUpperCase().startsWith("GOFER_EXTENSION_")) env[key.toUpperCase()] = value;
      env[configVariable(key)] = value;
    }
    // Last, so that no setting can stand in for what Gofer itself tells the extension.
    Object.assign(env, {
      GOFER_EXTENSION_SYSTEM_ID: stored.extension_id,
      GOFER_EXTENSION_SYSTEM_SECRET: secret,
      GOFER_EXTENSION_SYSTEM_GOFER_URL: apiUrl,
      // v0's name for the same address, without a scheme, for extensions written against v0's SDKs.
      GOFER_EXTENSION_SYSTEM_GOFER_HOST: new URL(apiUrl).host,
      GOFER_EXTENSION_SYSTEM_BIND_ADDRESS: `${this.#options.scheduler.serviceBindHost()}:${port}`,
      GOFER_EXTENSION_SYSTEM_LOG_LEVEL: this.#options.logLevel,
      // PEM text rather than paths, as Gofer passed them: the files are on Gofer's machine, not in the container.
      GOFER_EXTENSION_SYSTEM_USE_TLS: tls ? "true" : "false",
      GOFER_EXTENSION_SYSTEM_TLS_CERT: tls?.cert ?? "",
      GOFER_EXTENSION_SYSTEM_TLS_KEY: tls?.key ?? "",
    });
    return {
      name: extensionContainerName(this.#options.instanceId, stored.extension_id),
      image: stored.image,
      env,
      labels: extensionLabels(this.#options.instanceId, stored.extension_id),
      registryAuth: stored.registry_auth,
      alwaysPull: false,
      servicePort: port,
    };
  }

  async #sealRuntime(extensionId: string, runtime: SealedRuntime): Promise<void> {
    const { handover, db } = this.#options;
    if (!handover) return;
    await saveExtensionRuntime(db, extensionId, handover.seal(extensionId, JSON.stringify(runtime)));
  }

  /**
   * Takes on the extension's container as the previous leader left it, when it still runs and answers its
   * health check with the sealed secret: no restart, and no replay (it holds its subscriptions, which only the
   * leader changes). False when there is nothing to adopt: the caller starts it afresh.
   */
  async #adopt(runtime: Runtime, generation: number, stored: StoredExtension): Promise<boolean> {
    const { handover, db, scheduler, log } = this.#options;
    if (!handover) return false;
    let sealed: SealedRuntime;
    try {
      const data = await getExtensionRuntime(db, runtime.id);
      if (data === null) return false;
      sealed = JSON.parse(handover.unseal(runtime.id, data)) as SealedRuntime;
    } catch (error) {
      log.error(
        `extension ${runtime.id}: its running container cannot be adopted; starting it afresh`,
        error,
      );
      return false;
    }
    const found = await scheduler.listManaged(extensionSelector(this.#options.instanceId, runtime.id));
    const container = found.find((candidate) => candidate.id === sealed.container_id);
    if (container?.state !== "running" || !sealed.address) return false;
    const { scheme, agent } = this.#transport;
    const client = new ExtensionClient(`${scheme}://${sealed.address}`, sealed.secret, { agent });
    if (!(await client.healthy(Math.min(5_000, this.#options.timing.healthIntervalMs)))) return false;
    const info = await client.info().catch(() => undefined);
    if (info === undefined || generation !== runtime.generation || this.#closed) return false;
    runtime.state = "running";
    runtime.reason = null;
    runtime.client = client;
    runtime.containerId = container.id;
    runtime.started = Date.now();
    runtime.documentation = info.documentation;
    for (const subscription of await listExtensionSubscriptions(db, stored.extension_id)) {
      // Those that failed before are not held; the replay below sends them.
      if (subscription.status === "disabled" || subscription.status === "error") continue;
      const message = messageOf(subscription);
      runtime.held.set(keyOf(message), message);
    }
    const exit = scheduler.wait(container.id).then(
      (result) => result.exitCode,
      () => undefined,
    );
    this.#watch(runtime, generation, container.id, exit);
    log.info(`extension ${runtime.id}: adopted its running container at ${client.url}`);
    await this.#replay(runtime, generation, stored, (subscription) => subscription.status === "error");
    return true;
  }

  /**
   * Sends every active subscription (and any that failed before) to the freshly started extension; or, for an
   * adopted one, which holds its active subscriptions already, only those that failed before.
   */
  async #replay(
    runtime: Runtime,
    generation: number,
    stored: StoredExtension,
    which: (subscription: Subscription) => boolean = () => true,
  ): Promise<void> {
    const { db, log } = this.#options;
    // Read inside this extension's turn: a subscription disabled or deleted meanwhile waits for the replay and
    // is then taken back, never re-sent after it.
    const subscriptions = await listExtensionSubscriptions(db, stored.extension_id);
    for (const subscription of subscriptions) {
      if (subscription.status === "disabled" || !which(subscription)) continue;
      if (generation !== runtime.generation) return;
      try {
        await this.#subscribeNow(subscription);
        if (subscription.status === "error") await reviveSubscription(db, subscription);
      } catch (error) {
        const description = error instanceof Error ? error.message : String(error);
        log.error(
          `extension ${runtime.id}: could not restore subscription ${keyOf(messageOf(subscription))}`,
          error,
        );
        await markSubscriptionFailed(db, subscription, description);
      }
    }
  }

  /** Restarts on exit and on repeated failed health checks. */
  #watch(runtime: Runtime, generation: number, containerId: string, exit: Promise<number | undefined>): void {
    void exit.then(async (code) => {
      if (generation !== runtime.generation || this.#closed) return;
      const output = await this.#keepOutput(runtime.id, containerId);
      // Reading the output took time: a stop or a newer start may have come meanwhile.
      if (generation !== runtime.generation || this.#closed) return;
      const how = code === undefined ? "stopped" : `exited with code ${code}`;
      this.#fail(runtime, { reason: "crashed", description: `The container ${how}${quoted(output)}` });
    });
    let misses = 0;
    const { healthIntervalMs, unhealthyThreshold } = this.#options.timing;
    runtime.healthTimer = setInterval(async () => {
      const client = runtime.client;
      if (generation !== runtime.generation || !client) return;
      if (await client.healthy(Math.min(5_000, healthIntervalMs))) {
        misses = 0;
        return;
      }
      misses += 1;
      this.#options.onHealthCheckFailed?.(runtime.id);
      if (misses < unhealthyThreshold || generation !== runtime.generation) return;
      this.#fail(runtime, {
        reason: "unhealthy",
        description: `It did not answer ${misses} health checks in a row (every ${healthIntervalMs} ms)`,
      });
    }, healthIntervalMs);
  }

  /** Marks the failure, removes the container, and (unless told not to) schedules the next attempt. */
  #fail(runtime: Runtime, reason: ExtensionReason, retry = true): void {
    this.#clearTimers(runtime);
    if (runtime.state === "running" && Date.now() - runtime.started > STABLE_AFTER_MS) runtime.failures = 0;
    runtime.generation += 1;
    runtime.state = "exited";
    runtime.reason = reason;
    runtime.client = undefined;
    runtime.held.clear();
    const containerId = runtime.containerId;
    runtime.containerId = undefined;
    this.#options.log.error(`extension ${runtime.id}: ${reason.reason}: ${reason.description}`);
    // In the extension's turn, so the removal cannot meet the container of a start queued after it. A container
    // that exited had its output kept already; one that stopped answering keeps it now, before it goes.
    void this.#serially(runtime, async () => {
      if (containerId !== undefined && reason.reason === "unhealthy") {
        await this.#keepOutput(runtime.id, containerId);
      }
      await this.#removeContainers(runtime.id);
    });
    if (!retry || this.#closed) return;
    const delay = Math.min(this.#options.timing.backoffMaxMs, FIRST_RETRY_MS * 2 ** runtime.failures);
    runtime.failures += 1;
    runtime.retryTimer = setTimeout(() => {
      runtime.restarts += 1;
      void this.#start(runtime);
    }, delay);
  }

  /** Stops whatever runs now: asks the extension to shut down, then stops and removes its container. */
  async #halt(runtime: Runtime): Promise<void> {
    this.#clearTimers(runtime);
    runtime.generation += 1;
    const client = runtime.client;
    runtime.client = undefined;
    runtime.held.clear();
    runtime.state = "exited";
    // The extension's own shutdown lets it finish what it is doing; the stop timeout bounds it.
    if (client) await client.shutdown().catch(() => undefined);
    await this.#removeContainers(runtime.id, this.#options.timing.stopTimeoutMs);
    runtime.containerId = undefined;
  }

  #markDisabled(runtime: Runtime): void {
    this.#clearTimers(runtime);
    runtime.state = "exited";
    runtime.reason = { reason: "disabled", description: "Disabled by an admin; enable it to start it again" };
  }

  #clearTimers(runtime: Runtime): void {
    clearTimeout(runtime.retryTimer);
    clearInterval(runtime.healthTimer);
    runtime.retryTimer = undefined;
    runtime.healthTimer = undefined;
  }

  /** Stops (gracefully, within `stopTimeoutMs`) and removes the extension's containers, or every extension's. */
  async #removeContainers(
    extensionId?: string,
    stopTimeoutMs = 0,
    include: (extensionId: string) => boolean = () => true,
  ): Promise<void> {
    const { scheduler, log } = this.#options;
    try {
      const found = await scheduler.listManaged(extensionSelector(this.#options.instanceId, extensionId));
      for (const container of found) {
        const owner = extensionOf(container.labels);
        if (!owner || !isManaged(container.labels) || !include(owner)) continue;
        if (stopTimeoutMs > 0 && container.state === "running") {
          await scheduler.stop(container.id, Math.ceil(stopTimeoutMs / 1000));
        }
        await scheduler.remove(container.id);
      }
    } catch (error) {
      log.error(`could not remove the containers of extension ${extensionId ?? "(all)"}`, error);
    }
  }

  /** The failure's message, with the container's last lines when it printed any: they usually say why. */
  async #describeFailure(
    extensionId: string,
    error: unknown,
    containerId: string | undefined,
  ): Promise<string> {
    const message = error instanceof Error ? error.message : String(error);
    if (containerId === undefined) return message;
    return `${message}${quoted(await this.#keepOutput(extensionId, containerId))}`;
  }

  /**
   * Reads the end of the container's output and keeps it as the extension's last output, for after the
   * container is gone; "" when there is none or the engine cannot give it.
   */
  async #keepOutput(extensionId: string, containerId: string): Promise<string> {
    // An uninstall while the output is read must not find it kept again afterwards.
    const readSince = this.#lastOutputs.forgets;
    let text = "";
    try {
      const last = this.#options.scheduler.logs(containerId, { follow: false, tailLines: KEPT_LINES });
      for await (const chunk of last) text += chunk.data.toString("utf8");
    } catch {
      // What was read before the engine failed still helps; an older container's output would mislead.
    }
    return this.#lastOutputs.keep(extensionId, text, readSince);
  }

  /** A deleted pipeline's (or namespace's) subscriptions went with it: the extensions must let them go too. */
  #releaseDeleted(namespaceId: string, pipelineId: string | undefined): void {
    for (const runtime of this.#runtimes.values()) {
      // In the extension's turn, so a replay running now cannot re-send what is being let go.
      void this.#serially(runtime, async () => {
        for (const [key, message] of runtime.held) {
          if (message.namespace_id !== namespaceId) continue;
          if (pipelineId !== undefined && message.pipeline_id !== pipelineId) continue;
          runtime.held.delete(key);
          await runtime.client
            ?.unsubscribe(message)
            .catch((error: unknown) =>
              this.#options.log.error(`extension ${runtime.id}: could not unsubscribe ${key}`, error),
            );
        }
      });
    }
  }
}

/** The container's last lines as a failure reason ends with them, or "" when it printed nothing to show. */
function quoted(output: string): string {
  const tail = quotedTail(output);
  return tail === "" ? "" : `; its last output:\n${tail}`;
}

/** Polls `/api/health` until it answers; fails at once if the container exits, or after `timeoutMs`. */
async function waitUntilHealthy(
  client: ExtensionClient,
  exit: Promise<number | undefined>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  let exitCode: number | undefined | null = null;
  void exit.then((code) => {
    exitCode = code;
  });
  const deadline = Date.now() + timeoutMs;
  let problem: string | undefined;
  while (Date.now() < deadline) {
    if (signal.aborted) throw new ExtensionCallError("The start was interrupted by a stop");
    if (exitCode !== null) {
      throw new ExtensionCallError(
        `The container exited with code ${exitCode ?? "unknown"} before answering its health check`,
      );
    }
    problem = await client.checkHealth(1_000);
    if (problem === undefined) return;
    await new Promise((resolve) => setTimeout(resolve, HEALTH_POLL_MS));
  }
  // The last attempt's failure: a certificate Gofer refuses looks like silence without it.
  const last = problem === undefined ? "" : ` (last attempt: ${problem})`;
  throw new ExtensionCallError(`It did not answer GET /api/health within ${timeoutMs} ms${last}`);
}

/** A port the OS considers free now; the extension binds it a moment later (host networking). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("could not find a free port");
  return address.port;
}
