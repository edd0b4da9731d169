/**
 * A pipeline's subscriptions to extensions: the rules, and the one place a subscription is created or removed,
 * so every path that does either publishes its event.
 *
 * - The extension is told first and the row written after, in the same turn of the extension, so a
 *   subscription the extension refused is never stored; the row and its event commit together.
 * - Settings are checked against the parameters the extension declares, so a missing or misspelt setting is a
 *   400 naming it rather than an extension that silently never fires.
 * - Changes to one pipeline's subscriptions run one at a time, so a delete cannot interleave with the create it
 *   follows, nor an API change with a deploy reconciling the declared ones.
 * - `pipeline_extension_subscription_unregistered` is published for every subscription that goes while its
 *   pipeline stays: deleted by its owner, or taken along by an uninstall (the pipeline owner's only sign that
 *   its trigger went). A deleted pipeline or namespace takes its subscriptions with it under `deleted_pipeline` /
 *   `deleted_namespace`, as it takes its runs and configs, without an event for each.
 *
 * Declared subscriptions (an extension of v0: a config's `subscriptions`) are reconciled by a deploy through
 * `reconcileDeclared`, on the same rules: every new or changed one is checked and handed to its extension
 * before anything is stored, then the deploy and every row change commit in one transaction with their events;
 * a failure at any step takes back what was handed over (or hands the previous settings over again), so the
 * deploy fails leaving the previous version live and every subscription as it was.
 *
 * Differences from v0, on purpose: disabling a subscription takes it back from the extension (v0 only changed
 * the row, and runs kept starting); deleting one emits `pipeline_extension_subscription_unregistered` (v0 never
 * did).
 */
import type { DeclaredSubscription } from "@gofer/sdk";
import type { ExtensionParameter } from "@gofer/sdk/client";
import { badRequest, GoferError, notFound } from "../domain/errors.ts";
import { parseReference } from "../domain/interpolation.ts";
import type { GoferEvent, Subscription } from "../domain/models.ts";
import { UnresolvedReferenceError } from "../domain/variable-resolution.ts";
import type { EventBus, PublishInTransaction } from "../events/event-bus.ts";
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
  updateDeclaredSubscription,
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

/** What a deploy asks of a pipeline's subscriptions: the version going live and the ones it declares. */
export interface DeclaredSubscriptions {
  namespace_id: string;
  pipeline_id: string;
  version: number;
  declared: DeclaredSubscription[];
}

/** One subscription a deploy creates (`before` undefined) or rewrites, worked out before anything changes. */
interface DeclaredChange {
  before: Subscription | undefined;
  after: Subscription;
  /** New or changed settings of a subscription that is not disabled: the extension must take them first. */
  handOver: boolean;
}

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

/** Changes queue per pipeline: a deploy touches several of its subscriptions at once. */
const pipelineKey = (key: { namespace_id: string; pipeline_id: string }) =>
  `${key.namespace_id}/${key.pipeline_id}`;

const sameSettings = (a: Record<string, string>, b: Record<string, string>): boolean => {
  const keys = Object.keys(a);
  return (
    keys.length === Object.keys(b).length && keys.every((key) => Object.hasOwn(b, key) && a[key] === b[key])
  );
};

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
    return this.#changes.run(pipelineKey(key), async () => {
      const existing = await getSubscription(db, key);
      if (existing) {
        const declared = existing.declared_by_version;
        throw new GoferError(
          "ALREADY_EXISTS",
          `Pipeline "${pipeline_id}" already has a subscription "${subscription_id}" to "${extension_id}"` +
            (declared === undefined ? "" : `, declared by its config version ${declared}`),
        );
      }
      await this.#checkTaker(subscription, notFound(`Extension "${extension_id}"`));
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
    await this.#changes.run(pipelineKey(key), async () => {
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
    await this.#changes.run(pipelineKey(key), async () => {
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
   * A deploy's share: makes the subscriptions `declared` names exist with its settings, marked as declared by
   * its version, and removes those an earlier version declared that it does not; API-made ones are left alone,
   * unless `declared` names one, which it takes over. `commit` (the deploy itself) runs in the transaction that
   * writes the rows and their events, so the deploy and its subscriptions are one change.
   *
   * Order, so that a failure anywhere leaves everything as it was: (1) check every new or changed subscription
   * (extension installed, enabled and running, settings it declares) with no side effect; (2) hand each to its
   * extension; (3) commit. When (2) or (3) fails, what (2) handed over is taken back, and a changed one is
   * handed its previous settings again; removed ones are taken back only after the commit. A changed
   * subscription's extension is told, and `pipeline_extension_subscription_registered` published, as for a new
   * one; an unchanged one is not handed over again (a deploy is not blocked by an extension that is down).
   */
  async reconcileDeclared<T>(
    target: DeclaredSubscriptions,
    commit: (tx: GoferDb, publish: PublishInTransaction) => Promise<T>,
  ): Promise<T> {
    return this.#changes.run(pipelineKey(target), async () => {
      const { changes, removed } = await this.#planDeclared(target);
      const handed: Array<{ change: DeclaredChange; started: number }> = [];
      let result: T;
      try {
        for (const change of changes) {
          if (change.handOver)
            await this.#declaredStep(target, change.after, () => this.#checkTaker(change.after));
        }
        for (const change of changes) {
          if (!change.handOver) continue;
          // Listed before it is tried: a refusal may have cost the extension the previous settings too.
          const entry = { change, started: this.#supervisor.view(change.after.extension_id).started };
          handed.push(entry);
          await this.#declaredStep(target, change.after, () =>
            this.#handOver(change.after, async () => undefined),
          );
          entry.started = this.#supervisor.view(change.after.extension_id).started;
        }
        result = await this.#bus.transaction(async (tx, publish) => {
          const result = await commit(tx, publish);
          for (const { before, after, handOver } of changes) {
            if (before) await updateDeclaredSubscription(tx, after);
            else if (!(await insertSubscription(tx, after))) {
              throw new GoferError(
                "CONFLICT",
                `Cannot deploy version ${target.version}: subscription "${after.subscription_id}" to ` +
                  `"${after.extension_id}" was created meanwhile; deploy again`,
              );
            }
            if (handOver) await publish("pipeline_extension_subscription_registered", keyOf(after));
          }
          for (const subscription of removed) {
            await deleteSubscription(tx, subscription);
            await publish("pipeline_extension_subscription_unregistered", keyOf(subscription));
          }
          return result;
        });
      } catch (error) {
        for (const { change } of handed.reverse()) await this.#undoHandOver(change);
        throw error;
      }
      for (const subscription of removed) await this.#takeBack(subscription);
      // An extension restarted between hand-over and commit was replayed what storage held before: hand over again.
      for (const { change, started } of handed) {
        if (this.#supervisor.view(change.after.extension_id).started === started) continue;
        await this.#supervisor
          .subscribe(change.after)
          .catch((error: unknown) =>
            this.#log(`could not hand ${serialKey(change.after)} over again`, error),
          );
      }
      return result;
    });
  }

  /** The changes a deploy of `target` makes, from the subscriptions stored now. */
  async #planDeclared(
    target: DeclaredSubscriptions,
  ): Promise<{ changes: DeclaredChange[]; removed: Subscription[] }> {
    const current = await listPipelineSubscriptions(this.#db, target.namespace_id, target.pipeline_id);
    const stored = new Map(current.map((subscription) => [serialKey(subscription), subscription]));
    const wanted = new Set<string>();
    const changes: DeclaredChange[] = [];
    for (const item of target.declared) {
      const key = keyOf({
        ...target,
        extension_id: item.extension_id,
        subscription_id: item.subscription_id,
      });
      wanted.add(serialKey(key));
      const before = stored.get(serialKey(key));
      // The owner's disable (and an extension's failure, retried at its next start) outlives a deploy.
      const after: Subscription = {
        ...key,
        settings: item.settings,
        status: before?.status ?? "active",
        status_reason: before?.status_reason ?? null,
        declared_by_version: target.version,
      };
      const changed = before === undefined || !sameSettings(before.settings, after.settings);
      if (!changed && before?.declared_by_version === target.version) continue;
      if (changed && after.status !== "disabled") {
        after.status = "active";
        after.status_reason = null;
      }
      changes.push({ before, after, handOver: changed && after.status === "active" });
    }
    const removed = current.filter(
      (subscription) =>
        subscription.declared_by_version !== undefined && !wanted.has(serialKey(subscription)),
    );
    return { changes, removed };
  }

  /** Runs one step of a deploy's reconciliation; its failure names the version and the subscription. */
  async #declaredStep(target: DeclaredSubscriptions, subscription: Subscription, step: () => Promise<void>) {
    try {
      await step();
    } catch (error) {
      if (!(error instanceof GoferError)) throw error;
      // The deploy's target exists; an extension gone meanwhile is a state to change, not a missing route.
      const code = error.code === "NOT_FOUND" ? "CONFLICT" : error.code;
      throw new GoferError(
        code,
        `Cannot deploy version ${target.version}: subscription "${subscription.subscription_id}" to ` +
          `"${subscription.extension_id}": ${error.message}`,
        { cause: error },
      );
    }
  }

  /** Puts back what a failed deploy handed over: the previous settings, or nothing. */
  async #undoHandOver({ before, after }: DeclaredChange): Promise<void> {
    if (before?.status !== "active") {
      await this.#takeBack(after);
      return;
    }
    await this.#supervisor
      .subscribe(before)
      .catch((error: unknown) =>
        this.#log(`could not hand ${serialKey(before)} its previous settings again`, error),
      );
  }

  /**
   * What a hand-over needs, checked with no side effect: the extension installed (else `missing`, by default a
   * 409 naming it), enabled, running (a 503 naming its state otherwise) and declaring every setting given.
   */
  async #checkTaker(
    subscription: Subscription,
    missing = new GoferError(
      "CONFLICT",
      `Extension "${subscription.extension_id}" is not installed; an admin can install it ` +
        `(gofer extension install ${subscription.extension_id} <image>)`,
    ),
  ): Promise<void> {
    const { extension_id } = subscription;
    const extension = await getExtension(this.#db, extension_id);
    if (!extension) throw missing;
    if (extension.status === "disabled") {
      throw new GoferError(
        "CONFLICT",
        `Extension "${extension_id}" is disabled; an admin can enable it (gofer extension enable ${extension_id})`,
      );
    }
    this.#supervisor.clientOf(extension_id);
    checkSettings(
      subscription.settings,
      this.#supervisor.view(extension_id).documentation.pipeline_subscription_params,
      extension_id,
    );
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
