/**
 * Run notifications (an extension of v0): a namespace or a pipeline sends an HTTP POST to a URL when one of its
 * runs ends, or one of its tasks fails. The wire shapes of the targets, their deliveries, and the body a `json`
 * target receives.
 */
import type { EpochMillis, StatusReason } from "./wire-types.ts";

/**
 * What fires a target:
 * - `run_successful`, `run_failed`, `run_cancelled`: a run ended with that status.
 * - `task_failed`: a task execution of a run ended `failed` (after its last attempt, when it is retried).
 */
export type NotificationEvent = "run_successful" | "run_failed" | "run_cancelled" | "task_failed";

/**
 * What the POST carries:
 * - `json`: {@link NotificationPayload}, signed with HMAC-SHA256 (`X-Gofer-Signature-256`).
 * - `slack`: `{"text": "…"}`, one readable line with a link to the run: what Slack's (and Mattermost's, and
 *   Rocket.Chat's) incoming webhooks take.
 */
export type NotificationFormat = "json" | "slack";

/** `disabled` targets fire no deliveries; one that kept failing is disabled by Gofer, with the reason. */
export type NotificationState = "enabled" | "disabled";

/** `disabled_by_user`: through the API or CLI; `failing`: its last deliveries in a row all failed. */
export type NotificationStateReasonKind = "disabled_by_user" | "failing";

/** A notification target, as answered: never the full URL nor the signing secret. */
export interface Notification {
  /** Gofer's id for it (a ULID). */
  notification_id: string;
  namespace_id: string;
  /** `null` for a namespace's target, which fires for every pipeline of the namespace. */
  pipeline_id: string | null;
  /** The scheme, host and port of the URL (`https://hooks.slack.com`); the rest is kept encrypted. */
  url_origin: string;
  format: NotificationFormat;
  events: NotificationEvent[];
  description: string;
  /** Whether deliveries carry `X-Gofer-Signature-256` (every `json` target does). */
  signed: boolean;
  state: NotificationState;
  state_reason: StatusReason<NotificationStateReasonKind> | null;
  /** Deliveries that failed since the last one that succeeded. */
  failures_in_a_row: number;
  created: EpochMillis;
  modified: EpochMillis;
}

/** `POST …/notifications`'s answer: the signing secret is in this answer only, and only when Gofer made it. */
export interface CreatedNotification {
  notification: Notification;
  secret: string | null;
}

/** `POST /api/namespaces/{namespace_id}[/pipelines/{pipeline_id}]/notifications`. */
export interface CreateNotificationInput {
  /** An http or https URL, without user:password; kept encrypted, as it often holds a secret (Slack's do). */
  url: string;
  events: NotificationEvent[];
  /** Default `json`. */
  format?: NotificationFormat;
  /** For `json`: the HMAC key, 16–256 characters; omitted, Gofer makes one and answers it once. */
  secret?: string;
  description?: string;
}

/**
 * - `pending`: waiting for its first or next attempt (`next_attempt`).
 * - `succeeded`: the receiver answered 2xx.
 * - `failed`: given up: an answer that is not retried (4xx other than 408 and 429, a redirect), or the last
 *   attempt failed too.
 * - `skipped`: the target was disabled before it could be sent.
 */
export type NotificationDeliveryState = "pending" | "succeeded" | "failed" | "skipped";

/** One POST of a delivery. */
export interface NotificationAttempt {
  /** From 1. */
  attempt: number;
  started: EpochMillis;
  duration_ms: number;
  /** The receiver's HTTP status; `null` when none came (timeout, connection refused). */
  response_status: number | null;
  /** The start of the receiver's answer (at most 1 KiB), as text. */
  response_body: string;
  /** Why it failed without an answer, or why the answer counts as a failure; `null` on success. */
  error: string | null;
}

/** One notification Gofer sent (or is sending) to a target; the newest 200 of each target are kept. */
export interface NotificationDelivery {
  /** Sent as `X-Gofer-Delivery`; the same on every attempt, so receivers can ignore a repeat. */
  delivery_id: string;
  notification_id: string;
  /** What fired it; `test` for one sent by `POST …/test`. */
  event: NotificationEvent | "test";
  /** The Gofer event (`GET /api/events/{id}`) it was made for; `null` for a test. */
  event_id: string | null;
  pipeline_id: string | null;
  run_id: number | null;
  task_execution_id: string | null;
  state: NotificationDeliveryState;
  /** Why it failed or was skipped; `null` otherwise. */
  state_reason: string | null;
  attempts: NotificationAttempt[];
  /** When the next attempt is due, while `pending`; otherwise 0. */
  next_attempt: EpochMillis;
  created: EpochMillis;
  /** When it succeeded, failed or was skipped; 0 while pending. */
  completed: EpochMillis;
}

/**
 * The body a `json` target receives. Headers: `X-Gofer-Event` (the event), `X-Gofer-Delivery` (the delivery
 * id), `X-Gofer-Timestamp` (Unix seconds when this attempt was signed) and `X-Gofer-Signature-256`:
 * `sha256=` and the lower-case hex HMAC-SHA256, keyed with the target's secret, of `<timestamp>.<body>` (the
 * timestamp header's value, a dot, and the raw body bytes). A receiver recomputes it, compares in constant time
 * and refuses a timestamp more than a few minutes old, so a captured request cannot be replayed later.
 */
export interface NotificationPayload {
  event: NotificationEvent | "test";
  delivery_id: string;
  notification_id: string;
  /** The Gofer event it was made for; `null` for a test. */
  event_id: string | null;
  /** When the run ended or the task failed (for a test, when it was asked for). */
  emitted: EpochMillis;
  namespace_id: string;
  pipeline_id: string | null;
  run_id: number | null;
  /** The task's id, for `task_failed`. */
  task_execution_id?: string;
  /** The run's status for run events, the task's for `task_failed`. */
  status: string | null;
  /** Why the run or task ended as it did, when Gofer recorded a reason. */
  status_reason: StatusReason<string> | null;
  /** For `task_failed`: the container's exit code, when it had one. */
  exit_code?: number | null;
  /** The run's page in the web UI, when the server serves one. */
  run_url: string | null;
}
