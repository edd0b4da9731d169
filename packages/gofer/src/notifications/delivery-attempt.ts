/**
 * One attempt of a delivery, from the stored target to a verdict: open the sealed URL and secret, build and sign
 * the request, send it, and judge the answer. Shared by the dispatcher (which retries) and test deliveries (which
 * do not), so both send exactly the same thing.
 */
import type { NotificationAttempt, NotificationPayload } from "@gofer/sdk/client";
import { type AttemptVerdict, judgeAttempt } from "../domain/notifications.ts";
import {
  notificationSecretPurpose,
  notificationUrlPurpose,
  type SecretStore,
} from "../secrets/secret-store.ts";
import type { StoredNotificationTarget } from "../storage/notifications-store.ts";
import { buildRequest } from "./notification-request.ts";
import { sendNotification } from "./notification-sender.ts";

export interface AttemptContext {
  secrets: SecretStore;
  timeoutMs: number;
  userAgent: string;
  /** Aborted when the server stops: the send then throws `SendStoppedError` and nothing is recorded. */
  stop?: AbortSignal;
}

export interface AttemptOutcome {
  record: NotificationAttempt;
  verdict: AttemptVerdict;
}

export async function attemptDelivery(
  target: StoredNotificationTarget,
  payload: NotificationPayload,
  attempt: number,
  context: AttemptContext,
): Promise<AttemptOutcome> {
  const started = Date.now();
  const { notification_id, format } = target.notification;
  let url: string;
  let secret: string | null;
  try {
    url = context.secrets.unseal(notificationUrlPurpose(notification_id), target.urlSealed);
    secret =
      target.secretSealed &&
      context.secrets.unseal(notificationSecretPurpose(notification_id), target.secretSealed);
  } catch {
    // The key was checked at start, so the row itself is damaged: no attempt can do better.
    const reason = "the target's URL or secret could not be decrypted; delete the target and create it again";
    return {
      record: blankRecord(attempt, started, reason),
      verdict: { outcome: "final", reason },
    };
  }
  const request = buildRequest({ format, payload, secret, now: started, userAgent: context.userAgent });
  const result = await sendNotification(url, request, {
    timeoutMs: context.timeoutMs,
    ...(context.stop && { stop: context.stop }),
  });
  const verdict = judgeAttempt(result);
  return {
    record: {
      attempt,
      started,
      duration_ms: result.durationMs,
      response_status: result.status,
      response_body: result.body,
      error: verdict.outcome === "succeeded" ? null : verdict.reason,
    },
    verdict,
  };
}

const blankRecord = (attempt: number, started: number, error: string): NotificationAttempt => ({
  attempt,
  started,
  duration_ms: 0,
  response_status: null,
  response_body: "",
  error,
});
