/**
 * Notification targets of a namespace or a pipeline (an extension of v0), and their deliveries. The URL and the
 * signing secret are sealed with the secret store's key before they are stored and never leave the server again:
 * answers carry the URL's origin and whether deliveries are signed. A signing secret Gofer makes is answered once,
 * by the create call.
 *
 * A target belongs to the path it was made under: asked for under another namespace or pipeline (or a namespace's
 * target under one of its pipelines) it is not found, so the route's access check on that path is the whole check.
 */
import { randomBytes } from "node:crypto";
import type {
  CreatedNotification,
  Notification,
  NotificationDelivery,
  NotificationState,
} from "@gofer/sdk/client";
import { ulid } from "ulid";
import { badRequest, notFound } from "../domain/errors.ts";
import {
  checkNotificationDescription,
  checkSigningSecret,
  DELIVERIES_KEPT,
  parseNotificationEvents,
  parseNotificationFormat,
  parseNotificationUrl,
} from "../domain/notifications.ts";
import { attemptDelivery } from "../notifications/delivery-attempt.ts";
import { newDeliveryId, testPayload } from "../notifications/notification-payload.ts";
import {
  notificationSecretPurpose,
  notificationUrlPurpose,
  type SecretStore,
} from "../secrets/secret-store.ts";
import type { GoferDb } from "../storage/database.ts";
import {
  deleteNotificationTarget,
  getNotificationTarget,
  insertDelivery,
  insertNotificationTarget,
  listDeliveries,
  listNotificationTargets,
  pruneDeliveries,
  type StoredNotificationTarget,
  setNotificationTargetState,
} from "../storage/notifications-store.ts";
import { requireNamespace, requirePipeline } from "./lookups.ts";

/** A namespace's own targets (`pipeline_id` null), or a pipeline's. */
export interface NotificationScope {
  namespace_id: string;
  pipeline_id: string | null;
}

export interface CreateNotificationRequest {
  url: string;
  events: string[];
  format?: string | undefined;
  secret?: string | undefined;
  description?: string | undefined;
}

export interface NotificationServiceDeps {
  db: GoferDb;
  secrets: SecretStore;
  /** How long a test delivery waits for the receiver. */
  timeoutMs: number;
  userAgent: string;
}

/** 32 random bytes: as strong as the HMAC-SHA256 key can use. */
const generatedSecret = (): string => randomBytes(32).toString("base64url");

export class NotificationService {
  readonly #deps: NotificationServiceDeps;

  constructor(deps: NotificationServiceDeps) {
    this.#deps = deps;
  }

  async list(scope: NotificationScope): Promise<Notification[]> {
    await this.#requireScope(scope);
    return listNotificationTargets(this.#deps.db, scope.namespace_id, scope.pipeline_id);
  }

  async create(scope: NotificationScope, input: CreateNotificationRequest): Promise<CreatedNotification> {
    const { db, secrets } = this.#deps;
    const format = parseNotificationFormat(input.format);
    const events = parseNotificationEvents(input.events);
    const { url, origin } = parseNotificationUrl(input.url);
    checkSigningSecret(input.secret, format);
    const description = input.description ?? "";
    checkNotificationDescription(description);
    await this.#requireScope(scope);
    const notificationId = ulid();
    const secret = format === "json" ? (input.secret ?? generatedSecret()) : null;
    const now = Date.now();
    const notification: Notification = {
      notification_id: notificationId,
      namespace_id: scope.namespace_id,
      pipeline_id: scope.pipeline_id,
      url_origin: origin,
      format,
      events,
      description,
      signed: secret !== null,
      state: "enabled",
      state_reason: null,
      failures_in_a_row: 0,
      created: now,
      modified: now,
    };
    await insertNotificationTarget(db, {
      notification,
      urlSealed: secrets.seal(notificationUrlPurpose(notificationId), url),
      secretSealed: secret === null ? null : secrets.seal(notificationSecretPurpose(notificationId), secret),
    });
    // A secret the caller chose is theirs already; one Gofer made is shown here and never again.
    return { notification, secret: input.secret === undefined ? secret : null };
  }

  async get(scope: NotificationScope, notificationId: string): Promise<Notification> {
    return (await this.#requireTarget(scope, notificationId)).notification;
  }

  /** Enabling clears the failures counted, and a failing target's reason. */
  async setState(
    scope: NotificationScope,
    notificationId: string,
    state: string | null | undefined,
  ): Promise<Notification> {
    const next = parseState(state);
    await this.#requireTarget(scope, notificationId);
    await setNotificationTargetState(
      this.#deps.db,
      notificationId,
      next,
      next === "disabled" ? { reason: "disabled_by_user", description: "disabled through the API" } : null,
      Date.now(),
    );
    return (await this.#requireTarget(scope, notificationId)).notification;
  }

  async delete(scope: NotificationScope, notificationId: string): Promise<void> {
    await this.#requireTarget(scope, notificationId);
    await deleteNotificationTarget(this.#deps.db, notificationId);
  }

  async deliveries(
    scope: NotificationScope,
    notificationId: string,
    limit: number,
  ): Promise<NotificationDelivery[]> {
    await this.#requireTarget(scope, notificationId);
    return listDeliveries(this.#deps.db, notificationId, limit);
  }

  /**
   * Sends a `test` delivery once, now, even to a disabled target, and stores it with its outcome. It is not
   * retried and does not count for or against the target: it answers "does the receiver take it now?".
   */
  async test(scope: NotificationScope, notificationId: string): Promise<NotificationDelivery> {
    const { db, secrets, timeoutMs, userAgent } = this.#deps;
    const target = await this.#requireTarget(scope, notificationId);
    const deliveryId = newDeliveryId();
    const created = Date.now();
    const payload = testPayload(target.notification, deliveryId, created);
    const { record, verdict } = await attemptDelivery(target, payload, 1, { secrets, timeoutMs, userAgent });
    const delivery: NotificationDelivery = {
      delivery_id: deliveryId,
      notification_id: notificationId,
      event: "test",
      event_id: null,
      pipeline_id: target.notification.pipeline_id,
      run_id: null,
      task_execution_id: null,
      state: verdict.outcome === "succeeded" ? "succeeded" : "failed",
      state_reason: verdict.outcome === "succeeded" ? null : verdict.reason,
      attempts: [record],
      next_attempt: 0,
      created,
      completed: Date.now(),
    };
    try {
      await insertDelivery(db, { delivery, payload });
    } catch (error) {
      // Deleted while the receiver was answering: the outcome is still the caller's answer.
      if (await getNotificationTarget(db, notificationId)) throw error;
      return delivery;
    }
    await pruneDeliveries(db, notificationId, DELIVERIES_KEPT);
    return delivery;
  }

  async #requireScope({ namespace_id, pipeline_id }: NotificationScope): Promise<void> {
    if (pipeline_id === null) await requireNamespace(this.#deps.db, namespace_id);
    else await requirePipeline(this.#deps.db, namespace_id, pipeline_id);
  }

  async #requireTarget(scope: NotificationScope, notificationId: string): Promise<StoredNotificationTarget> {
    const target = await getNotificationTarget(this.#deps.db, notificationId);
    if (
      target &&
      target.notification.namespace_id === scope.namespace_id &&
      target.notification.pipeline_id === scope.pipeline_id
    ) {
      return target;
    }
    await this.#requireScope(scope);
    throw notFound(
      `Notification target "${notificationId}" of ${
        scope.pipeline_id === null ? `namespace "${scope.namespace_id}"` : `pipeline "${scope.pipeline_id}"`
      }`,
    );
  }
}

/** The PATCH body's state, with a message naming the two values allowed rather than a schema error. */
function parseState(state: string | null | undefined): NotificationState {
  if (state === undefined || state === null) {
    throw badRequest('Nothing to update; send {"state": "enabled"} or {"state": "disabled"}');
  }
  if (state !== "enabled" && state !== "disabled") {
    throw badRequest(`Invalid state ${JSON.stringify(state)}; send "enabled" or "disabled"`);
  }
  return state;
}
