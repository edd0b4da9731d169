/**
 * A pipeline's subscriptions to extensions: the rules, and the one place a subscription is created or removed,
 * so every path that does either publishes its event.
 *
 * - The extension is told first and the row written after, in the same turn of the extension, so a
 *   subscription the extension refused is never stored; the row and its event commit together.
 * - Settings are checked against the parameters the extension declares, so a missing or misspelt setting is a
 *   400 naming it rather than an extension that silently never fires.
 * - Changes to one subscription run one at a time, so a delete cannot interleave with the create it follows.
 * - `pipeline_extension_subscription_unregistered` is published for every subscription that goes while its
 *   pipeline stays: deleted by its owner, or taken along by an uninstall (the pipeline owner's only sign that
 *   its trigger went). A deleted pipeline or namespace takes its subscriptions with it under `deleted_pipeline` /
 *   `deleted_namespace`, as it takes its runs and configs, without an event for each.
 *
 * Differences from v0, on purpose: disabling a subscription takes it back from the extension (v0 only changed
 * the row, and runs kept starting); deleting one emits `pipeline_extension_subscription_unregistered` (v0 never
 * did).
 */
import type { ExtensionParameter } from "@gofer/sdk/client";
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import { parseReference } from "../domain/interpolation.ts";
import type { GoferEvent, Subscription } from "../domain/models.ts";
import { UnresolvedReferenceError } from "../domain/variable-resolution.ts";
import type { EventBus } from "../events/event-bus.ts";
import { ExtensionCallError } from "../extensions/extension-client.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import type { GoferDb } from "../storage/database.ts";
import { getExtension } from "../storage/extensions-store.ts";
import {
  deleteExtensionSubscriptions,
  deleteSubscription,
  getSubscription,
  insertSubscription,
  listPipelineSubscriptions,
  type SubscriptionKey,
  updateSubscriptionStatus,
} from "../storage/subscriptions-store.ts";
import { SerialQueue } from "../support/serial-queue.ts";
import { requirePipeline } from "./lookups.ts";

export interface SubscriptionServiceOptions {
  db: GoferDb;
  bus: EventBus;
  supervisor: ExtensionSupervisor;
  log: (message: string, error?: unknown) => void;
}

export type SubscriptionStatusChange = "active" | "disabled";

const MAX_SETTINGS = 100;

/** The key alone, whatever else the caller's object holds: it becomes the event's details. */
const keyOf = (key: SubscriptionKey): SubscriptionKey => ({
  namespace_id: key.namespace_id,
  pipeline_id: key.pipeline_id,
  extension_id: key.extension_id,
  subscription_id: key.subscription_id,
});

const serialKey = (key: SubscriptionKey) =>
  `${key.namespace_id}/${key.pipeline_id}/${key.extension_id}/${key.subscription_id}`;

export class SubscriptionService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;
  readonly #supervisor: ExtensionSupervisor;
  readonly #log: (message: string, error?: unknown) => void;
  readonly #changes = new SerialQueue();

  constructor(options: SubscriptionServiceOptions) {
    this.#db = options.db;
    this.#bus = options.bus;
    this.#supervisor = options.supervisor;
    this.#log = options.log;
  }

  async list(namespaceId: string, pipelineId: string): Promise<Subscription[]> {
    await requirePipeline(this.#db, namespaceId, pipelineId);
    return listPipelineSubscriptions(this.#db, namespaceId, pipelineId);
  }

  async get(key: SubscriptionKey): Promise<Subscription> {
    await requirePipeline(this.#db, key.namespace_id, key.pipeline_id);
    const subscription = await getSubscription(this.#db, key);
    if (!subscription) {
      throw notFound(
        `Subscription "${key.subscription_id}" of pipeline "${key.pipeline_id}" to "${key.extension_id}"`,
      );
    }
    return subscription;
  }

  /** Subscribes the pipeline: the extension must be enabled, running and accept the settings. */
  async create(key: SubscriptionKey, settings: Record<string, string>): Promise<Subscription> {
    const db = this.#db;
    const { namespace_id, pipeline_id, extension_id, subscription_id } = key;
    await requirePipeline(db, namespace_id, pipeline_id);
    const subscription: Subscription = { ...keyOf(key), settings, status: "active", status_reason: null };
    return this.#changes.run(serialKey(key), async () => {
      const extension = await getExtension(db, extension_id);
      if (!extension) throw notFound(`Extension "${extension_id}"`);
      if (extension.status === "disabled") {
        throw new GoferError(
          "CONFLICT",
          `Extension "${extension_id}" is disabled; an admin can enable it (gofer extension enable ${extension_id})`,
        );
      }
      if (await getSubscription(db, key)) {
        throw new GoferError(
          "ALREADY_EXISTS",
          `Pipeline "${pipeline_id}" already has a subscription "${subscription_id}" to "${extension_id}"`,
        );
      }
      // Throws 503 naming the extension's state when it is not running.
      this.#supervisor.clientOf(extension_id);
      checkSettings(
        settings,
        this.#supervisor.view(extension_id).documentation.pipeline_subscription_params,
        extension_id,
      );
      let registered: GoferEvent | undefined;
      try {
        await this.#handOver(subscription, async () => {
          registered = await db.transaction().execute(async (tx) => {
            if (!(await insertSubscription(tx, subscription))) {
              throw new GoferError(
                "ALREADY_EXISTS",
                `Subscription "${subscription_id}" was created meanwhile`,
              );
            }
            return this.#bus.publish("pipeline_extension_subscription_registered", keyOf(key), tx);
          });
        });
      } catch (error) {
        if (error instanceof GoferError) throw error;
        // A foreign key refused the row: the pipeline or the extension went while the extension was asked.
        await requirePipeline(db, namespace_id, pipeline_id);
        if (!(await getExtension(db, extension_id))) throw notFound(`Extension "${extension_id}"`);
        throw error;
      }
      if (registered) this.#bus.deliver(registered);
      return subscription;
    });
  }

  /** Enables (hands it to the extension again) or disables (takes it back); the same status is a no-op. */
  async setStatus(key: SubscriptionKey, status: SubscriptionStatusChange): Promise<void> {
    await this.#changes.run(serialKey(key), async () => {
      const subscription = await this.get(key);
      if (subscription.status === status) return;
      if (status === "disabled") {
        await updateSubscriptionStatus(this.#db, key, "disabled", null);
        await this.#takeBack(key);
        return;
      }
      await this.#handOver(subscription, () => updateSubscriptionStatus(this.#db, key, "active", null));
    });
  }

  /** Deletes the subscription (row and event in one commit), then takes it back from the extension. */
  async delete(key: SubscriptionKey): Promise<void> {
    await this.#changes.run(serialKey(key), async () => {
      await this.get(key);
      const unregistered = await this.#db.transaction().execute(async (tx) => {
        await deleteSubscription(tx, key);
        return this.#bus.publish("pipeline_extension_subscription_unregistered", keyOf(key), tx);
      });
      await this.#takeBack(key);
      this.#bus.deliver(unregistered);
    });
  }

  /**
   * An uninstall's share: deletes every subscription to the extension and records an unregistered event for
   * each, in the caller's transaction; the caller delivers the events once it commits. The extension has
   * already let them go (the supervisor unsubscribes everything when it removes an extension).
   */
  async forgetExtension(tx: GoferDb, extensionId: string): Promise<GoferEvent[]> {
    const gone = await deleteExtensionSubscriptions(tx, extensionId);
    const events: GoferEvent[] = [];
    for (const subscription of gone) {
      events.push(
        await this.#bus.publish("pipeline_extension_subscription_unregistered", keyOf(subscription), tx),
      );
    }
    return events;
  }

  /** Takes a subscription back; a failure is logged, not fatal: the extension forgets it at its next restart. */
  async #takeBack(key: SubscriptionKey): Promise<void> {
    await this.#supervisor
      .unsubscribe(key)
      .catch((error: unknown) =>
        this.#log(`could not unsubscribe ${serialKey(key)} from extension ${key.extension_id}`, error),
      );
  }

  /**
   * Hands the subscription to its extension and, in the same turn of the extension, stores it (`commit`);
   * the extension's refusal becomes the caller's 400.
   */
  async #handOver(subscription: Subscription, commit: () => Promise<void>): Promise<void> {
    try {
      await this.#supervisor.subscribe(subscription, commit);
    } catch (error) {
      if (error instanceof UnresolvedReferenceError) throw badRequest(`Setting ${error.message}`);
      if (!(error instanceof ExtensionCallError)) throw error;
      const refused = error.status !== undefined && error.status >= 400 && error.status < 500;
      // A timeout or failure may still have left the subscription with the extension: take it back.
      if (!refused) await this.#takeBack(subscription);
      throw new GoferError(
        refused ? "EXTENSION_REFUSED" : "EXTENSION_ERROR",
        `Extension "${subscription.extension_id}" ${refused ? "refused" : "could not take"} the subscription: ${error.message}`,
      );
    }
  }
}

/** Settings against the extension's declared parameters: every required one present, no unknown ones. */
function checkSettings(
  settings: Record<string, string>,
  declared: ExtensionParameter[],
  extensionId: string,
): void {
  const entries = Object.entries(settings);
  if (entries.length > MAX_SETTINGS) throw badRequest(`At most ${MAX_SETTINGS} settings are allowed`);
  const keys = declared.map((parameter) => parameter.key);
  const listing = keys.length > 0 ? keys.join(", ") : "(none)";
  // Both kinds of mistake at once: a misspelt key is usually also a missing one.
  const problems: string[] = [];
  const missing = declared.filter((parameter) => parameter.required && !(parameter.key in settings));
  if (missing.length > 0) {
    problems.push(
      `missing required setting ${missing.map((parameter) => `"${parameter.key}" (${parameter.documentation})`).join(", ")}`,
    );
  }
  const unknown = entries.map(([key]) => key).filter((key) => !keys.includes(key));
  if (unknown.length > 0) problems.push(`it takes no setting ${unknown.map((key) => `"${key}"`).join(", ")}`);
  if (problems.length > 0) {
    throw badRequest(`Extension "${extensionId}": ${problems.join("; ")}; its settings are: ${listing}`);
  }
  for (const [key, value] of entries) {
    if (parseReference(value)?.kind === "run_object") {
      throw badRequest(`Setting "${key}" refers to a run object; a subscription belongs to no run`);
    }
  }
}
