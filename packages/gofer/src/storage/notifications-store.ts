/**
 * Notification targets, their deliveries, and how far the server has made deliveries for stored events. The
 * sealed columns are opaque here: the caller seals and unseals them with the secret store's key.
 */
import type {
  EventKind,
  GoferEvent,
  Notification,
  NotificationAttempt,
  NotificationDelivery,
  NotificationDeliveryState,
  NotificationEvent,
  NotificationFormat,
  NotificationPayload,
  NotificationState,
  NotificationStateReasonKind,
  StatusReason,
} from "@gofer/sdk/client";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
import type { NotificationDeliveriesTable, NotificationTargetsTable } from "./schema.ts";

export type NotificationReason = StatusReason<NotificationStateReasonKind>;

/** A target as stored: what the API shows, and the two sealed values it never shows. */
export interface StoredNotificationTarget {
  notification: Notification;
  urlSealed: Uint8Array;
  secretSealed: Uint8Array | null;
}

/** A delivery as stored: what the API shows, and the body's fields every attempt sends. */
export interface StoredDelivery {
  delivery: NotificationDelivery;
  payload: NotificationPayload;
}

const toTarget = (row: NotificationTargetsTable): StoredNotificationTarget => ({
  notification: {
    notification_id: row.notification_id,
    namespace_id: row.namespace_id,
    pipeline_id: row.pipeline_id,
    url_origin: row.url_origin,
    format: row.format as NotificationFormat,
    events: parseJson<NotificationEvent[]>(row.events_json),
    description: row.description,
    signed: row.secret_sealed !== null,
    state: row.state as NotificationState,
    state_reason: parseNullableJson<NotificationReason>(row.state_reason_json),
    failures_in_a_row: row.failures_in_a_row,
    created: row.created,
    modified: row.modified,
  },
  urlSealed: row.url_sealed,
  secretSealed: row.secret_sealed,
});

const toDelivery = (row: NotificationDeliveriesTable): StoredDelivery => ({
  delivery: {
    delivery_id: row.delivery_id,
    notification_id: row.notification_id,
    event: row.event as NotificationDelivery["event"],
    event_id: row.event_id === null ? null : String(row.event_id),
    pipeline_id: row.pipeline_id,
    run_id: row.run_id,
    task_execution_id: row.task_execution_id,
    state: row.state as NotificationDeliveryState,
    state_reason: row.state_reason,
    attempts: parseJson<NotificationAttempt[]>(row.attempts_json),
    next_attempt: row.next_attempt,
    created: row.created,
    completed: row.completed,
  },
  payload: parseJson<NotificationPayload>(row.payload_json),
});

export async function insertNotificationTarget(db: GoferDb, target: StoredNotificationTarget): Promise<void> {
  const { notification: n } = target;
  await db
    .insertInto("notification_targets")
    .values({
      notification_id: n.notification_id,
      namespace_id: n.namespace_id,
      pipeline_id: n.pipeline_id,
      url_sealed: target.urlSealed,
      url_origin: n.url_origin,
      format: n.format,
      events_json: toJson(n.events),
      secret_sealed: target.secretSealed,
      description: n.description,
      state: n.state,
      state_reason_json: toNullableJson(n.state_reason),
      failures_in_a_row: n.failures_in_a_row,
      created: n.created,
      modified: n.modified,
    })
    .execute();
}

export async function getNotificationTarget(
  db: GoferDb,
  notificationId: string,
): Promise<StoredNotificationTarget | undefined> {
  const row = await db
    .selectFrom("notification_targets")
    .selectAll()
    .where("notification_id", "=", notificationId)
    .executeTakeFirst();
  return row && toTarget(row);
}

/** A namespace's own targets (`pipelineId` null), or one pipeline's; oldest first. */
export async function listNotificationTargets(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string | null,
): Promise<Notification[]> {
  let query = db.selectFrom("notification_targets").selectAll().where("namespace_id", "=", namespaceId);
  query =
    pipelineId === null
      ? query.where("pipeline_id", "is", null)
      : query.where("pipeline_id", "=", pipelineId);
  const rows = await query.orderBy("notification_id").execute();
  return rows.map((row) => toTarget(row).notification);
}

/** The enabled targets a run of the pipeline may fire: the pipeline's and its namespace's. */
export async function listEnabledTargetsFor(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<Notification[]> {
  const rows = await db
    .selectFrom("notification_targets")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where((eb) => eb.or([eb("pipeline_id", "is", null), eb("pipeline_id", "=", pipelineId)]))
    .where("state", "=", "enabled")
    .orderBy("notification_id")
    .execute();
  return rows.map((row) => toTarget(row).notification);
}

/** Enabling also forgets the failures counted so far, so a fixed receiver gets a fresh run of attempts. */
export async function setNotificationTargetState(
  db: GoferDb,
  notificationId: string,
  state: NotificationState,
  reason: NotificationReason | null,
  modified: number,
): Promise<void> {
  await db
    .updateTable("notification_targets")
    .set({
      state,
      state_reason_json: toNullableJson(reason),
      modified,
      ...(state === "enabled" && { failures_in_a_row: 0 }),
    })
    .where("notification_id", "=", notificationId)
    .execute();
}

export async function deleteNotificationTarget(db: GoferDb, notificationId: string): Promise<boolean> {
  const result = await db
    .deleteFrom("notification_targets")
    .where("notification_id", "=", notificationId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Counts one more failed delivery; answers the count, or undefined when the target is gone. */
export async function countTargetFailure(db: GoferDb, notificationId: string): Promise<number | undefined> {
  const row = await db
    .updateTable("notification_targets")
    .set((eb) => ({ failures_in_a_row: eb("failures_in_a_row", "+", 1) }))
    .where("notification_id", "=", notificationId)
    .returning("failures_in_a_row")
    .executeTakeFirst();
  return row?.failures_in_a_row;
}

export async function resetTargetFailures(db: GoferDb, notificationId: string): Promise<void> {
  await db
    .updateTable("notification_targets")
    .set({ failures_in_a_row: 0 })
    .where("notification_id", "=", notificationId)
    .execute();
}

/** Disables a target Gofer found failing, unless its owner disabled it meanwhile (their reason stays). */
export async function disableFailingTarget(
  db: GoferDb,
  notificationId: string,
  reason: NotificationReason,
  modified: number,
): Promise<boolean> {
  const result = await db
    .updateTable("notification_targets")
    .set({ state: "disabled", state_reason_json: toJson(reason), modified })
    .where("notification_id", "=", notificationId)
    .where("state", "=", "enabled")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Every target's sealed values, for a key rotation. */
export async function listSealedTargetValues(
  db: GoferDb,
): Promise<{ notification_id: string; url_sealed: Uint8Array; secret_sealed: Uint8Array | null }[]> {
  return db
    .selectFrom("notification_targets")
    .select(["notification_id", "url_sealed", "secret_sealed"])
    .orderBy("notification_id")
    .execute();
}

export async function setSealedTargetValues(
  db: GoferDb,
  notificationId: string,
  values: { url_sealed: Uint8Array; secret_sealed: Uint8Array | null },
): Promise<void> {
  await db
    .updateTable("notification_targets")
    .set(values)
    .where("notification_id", "=", notificationId)
    .execute();
}

/** False when the target already has a delivery for this event (made before a restart, say). */
export async function insertDelivery(db: GoferDb, stored: StoredDelivery): Promise<boolean> {
  const { delivery: d } = stored;
  const result = await db
    .insertInto("notification_deliveries")
    .values({
      delivery_id: d.delivery_id,
      notification_id: d.notification_id,
      event: d.event,
      event_id: d.event_id === null ? null : Number(d.event_id),
      pipeline_id: d.pipeline_id,
      run_id: d.run_id,
      task_execution_id: d.task_execution_id,
      payload_json: toJson(stored.payload),
      state: d.state,
      state_reason: d.state_reason,
      attempts_json: toJson(d.attempts),
      next_attempt: d.next_attempt,
      created: d.created,
      completed: d.completed,
    })
    .onConflict((conflict) => conflict.columns(["notification_id", "event_id"]).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function getDelivery(db: GoferDb, deliveryId: string): Promise<StoredDelivery | undefined> {
  const row = await db
    .selectFrom("notification_deliveries")
    .selectAll()
    .where("delivery_id", "=", deliveryId)
    .executeTakeFirst();
  return row && toDelivery(row);
}

/** Newest first (delivery ids are ULIDs, which sort by creation). */
export async function listDeliveries(
  db: GoferDb,
  notificationId: string,
  limit: number,
): Promise<NotificationDelivery[]> {
  const rows = await db
    .selectFrom("notification_deliveries")
    .selectAll()
    .where("notification_id", "=", notificationId)
    .orderBy("delivery_id", "desc")
    .limit(limit)
    .execute();
  return rows.map((row) => toDelivery(row).delivery);
}

/** Every delivery still to be sent, soonest first: what a server starting its work resumes. */
export async function listPendingDeliveries(
  db: GoferDb,
): Promise<{ delivery_id: string; next_attempt: number }[]> {
  return db
    .selectFrom("notification_deliveries")
    .select(["delivery_id", "next_attempt"])
    .where("state", "=", "pending")
    .orderBy("next_attempt")
    .execute();
}

/** Writes an attempt's outcome; false when the delivery is no longer pending (or gone). */
export async function recordDeliveryAttempt(
  db: GoferDb,
  deliveryId: string,
  outcome: {
    attempts: NotificationAttempt[];
    state: NotificationDeliveryState;
    state_reason: string | null;
    next_attempt: number;
    completed: number;
  },
): Promise<boolean> {
  const result = await db
    .updateTable("notification_deliveries")
    .set({
      attempts_json: toJson(outcome.attempts),
      state: outcome.state,
      state_reason: outcome.state_reason,
      next_attempt: outcome.next_attempt,
      completed: outcome.completed,
    })
    .where("delivery_id", "=", deliveryId)
    .where("state", "=", "pending")
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** Deletes the target's finished deliveries beyond the newest `keep`; pending ones always stay. */
export async function pruneDeliveries(db: GoferDb, notificationId: string, keep: number): Promise<void> {
  const kept = db
    .selectFrom("notification_deliveries")
    .select("delivery_id")
    .where("notification_id", "=", notificationId)
    .orderBy("delivery_id", "desc")
    .limit(keep);
  await db
    .deleteFrom("notification_deliveries")
    .where("notification_id", "=", notificationId)
    .where("state", "!=", "pending")
    .where("delivery_id", "not in", kept)
    .execute();
}

/** The newest event id whose deliveries were made; undefined before the first start with notifications. */
export async function getNotificationProgress(db: GoferDb): Promise<number | undefined> {
  const row = await db
    .selectFrom("notification_progress")
    .select("last_event_id")
    .where("id", "=", 1)
    .executeTakeFirst();
  return row?.last_event_id;
}

/** Moves the progress forward to `eventId`, never back. */
export async function advanceNotificationProgress(db: GoferDb, eventId: number): Promise<void> {
  await db
    .insertInto("notification_progress")
    .values({ id: 1, last_event_id: eventId })
    .onConflict((conflict) =>
      conflict
        .column("id")
        .doUpdateSet({ last_event_id: eventId })
        .where("notification_progress.last_event_id", "<", eventId),
    )
    .execute();
}

/** The newest stored event's id, 0 when there is none. */
export async function newestEventId(db: GoferDb): Promise<number> {
  const row = await db
    .selectFrom("events")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}

/** Stored events of the given kinds after `afterId`, oldest first: what a start catches up on. */
export async function pageEventsOfKinds(
  db: GoferDb,
  kinds: readonly string[],
  afterId: number,
  limit: number,
): Promise<GoferEvent[]> {
  const rows = await db
    .selectFrom("events")
    .selectAll()
    .where("id", ">", afterId)
    .where("kind", "in", [...kinds])
    .orderBy("id")
    .limit(limit)
    .execute();
  return rows.map((row) => ({
    id: String(row.id),
    kind: { [row.kind]: parseJson<Record<string, unknown>>(row.details_json) } as EventKind,
    emitted: row.emitted,
  }));
}
