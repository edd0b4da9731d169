/**
 * Pipeline subscriptions to extensions, as the pipeline owner created them through the API or declared them in
 * the live config version (`declared_by_version`, served only when set, so an API-made one keeps v0's shape).
 */
import type {
  StatusReason,
  Subscription,
  SubscriptionStatus,
  SubscriptionStatusReasonKind,
} from "@gofer/sdk/client";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
import type { SubscriptionsTable } from "./schema.ts";

export interface SubscriptionKey {
  namespace_id: string;
  pipeline_id: string;
  extension_id: string;
  subscription_id: string;
}

export type SubscriptionReason = StatusReason<SubscriptionStatusReasonKind>;

const toSubscription = (row: SubscriptionsTable): Subscription => ({
  namespace_id: row.namespace_id,
  pipeline_id: row.pipeline_id,
  extension_id: row.extension_id,
  subscription_id: row.subscription_id,
  settings: parseJson<Record<string, string>>(row.settings_json),
  status: row.status as SubscriptionStatus,
  status_reason: parseNullableJson<SubscriptionReason>(row.status_reason_json),
  ...(row.declared_by_version !== null && { declared_by_version: row.declared_by_version }),
});

/** The key's four columns as one condition. */
const matches = (key: SubscriptionKey) => ({
  namespace_id: key.namespace_id,
  pipeline_id: key.pipeline_id,
  extension_id: key.extension_id,
  subscription_id: key.subscription_id,
});

export async function listPipelineSubscriptions(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<Subscription[]> {
  const rows = await db
    .selectFrom("subscriptions")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .orderBy("extension_id")
    .orderBy("subscription_id")
    .execute();
  return rows.map(toSubscription);
}

export async function listExtensionSubscriptions(db: GoferDb, extensionId: string): Promise<Subscription[]> {
  const rows = await db
    .selectFrom("subscriptions")
    .selectAll()
    .where("extension_id", "=", extensionId)
    .orderBy("namespace_id")
    .orderBy("pipeline_id")
    .orderBy("subscription_id")
    .execute();
  return rows.map(toSubscription);
}

export async function getSubscription(db: GoferDb, key: SubscriptionKey): Promise<Subscription | undefined> {
  const row = await db
    .selectFrom("subscriptions")
    .selectAll()
    .where((eb) => eb.and(matches(key)))
    .executeTakeFirst();
  return row && toSubscription(row);
}

/** False when the pipeline already has a subscription with this id to this extension. */
export async function insertSubscription(db: GoferDb, subscription: Subscription): Promise<boolean> {
  const result = await db
    .insertInto("subscriptions")
    .values({
      namespace_id: subscription.namespace_id,
      pipeline_id: subscription.pipeline_id,
      extension_id: subscription.extension_id,
      subscription_id: subscription.subscription_id,
      settings_json: toJson(subscription.settings),
      status: subscription.status,
      status_reason_json: toNullableJson(subscription.status_reason),
      created: Date.now(),
      declared_by_version: subscription.declared_by_version ?? null,
    })
    .onConflict((conflict) =>
      conflict.columns(["namespace_id", "pipeline_id", "extension_id", "subscription_id"]).doNothing(),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function updateSubscriptionStatus(
  db: GoferDb,
  key: SubscriptionKey,
  status: SubscriptionStatus,
  reason: SubscriptionReason | null,
): Promise<void> {
  await db
    .updateTable("subscriptions")
    .set({ status, status_reason_json: toNullableJson(reason) })
    .where((eb) => eb.and(matches(key)))
    .execute();
}

/**
 * Rewrites what a deploy decides about a subscription that already exists: its settings, status and the version
 * declaring it (a declared subscription taking over an API-made one of the same key gets its version here).
 */
export async function updateDeclaredSubscription(db: GoferDb, subscription: Subscription): Promise<void> {
  await db
    .updateTable("subscriptions")
    .set({
      settings_json: toJson(subscription.settings),
      status: subscription.status,
      status_reason_json: toNullableJson(subscription.status_reason),
      declared_by_version: subscription.declared_by_version ?? null,
    })
    .where((eb) => eb.and(matches(subscription)))
    .execute();
}

/** Back to `active` after a failed hand-over, unless the owner changed the status meanwhile. */
export async function reviveSubscription(db: GoferDb, key: SubscriptionKey): Promise<void> {
  await db
    .updateTable("subscriptions")
    .set({ status: "active", status_reason_json: null })
    .where((eb) => eb.and(matches(key)))
    .where("status", "=", "error")
    .execute();
}

/** Records a failed hand-over, unless the owner disabled the subscription meanwhile. */
export async function markSubscriptionFailed(
  db: GoferDb,
  key: SubscriptionKey,
  description: string,
): Promise<void> {
  await db
    .updateTable("subscriptions")
    .set({ status: "error", status_reason_json: toNullableJson({ reason: "failed", description }) })
    .where((eb) => eb.and(matches(key)))
    .where("status", "!=", "disabled")
    .execute();
}

export async function deleteSubscription(db: GoferDb, key: SubscriptionKey): Promise<void> {
  await db
    .deleteFrom("subscriptions")
    .where((eb) => eb.and(matches(key)))
    .execute();
}

/** Deletes every subscription to the extension; returns them, so the caller can say which went. */
export async function deleteExtensionSubscriptions(
  db: GoferDb,
  extensionId: string,
): Promise<Subscription[]> {
  const gone = await listExtensionSubscriptions(db, extensionId);
  await db.deleteFrom("subscriptions").where("extension_id", "=", extensionId).execute();
  return gone;
}
