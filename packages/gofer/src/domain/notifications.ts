/**
 * Run notifications as pure rules: what a target may be (its URL, events, format, secret), which Gofer events
 * fire which notification events, and which answers of a receiver are retried, how soon, and when a target that
 * keeps failing is disabled.
 */
import {
  eventOf,
  type GoferEvent,
  type NotificationEvent,
  type NotificationFormat,
  type StatusReason,
} from "@gofer/sdk/client";
import { badRequest } from "./errors.ts";

export const NOTIFICATION_EVENTS: readonly NotificationEvent[] = [
  "run_successful",
  "run_failed",
  "run_cancelled",
  "task_failed",
];
export const NOTIFICATION_FORMATS: readonly NotificationFormat[] = ["json", "slack"];

/** Long enough for any webhook URL seen in the wild (Slack's are about 80 characters; Teams' about 300). */
const MAX_URL_LENGTH = 2048;
const SECRET_LENGTH = { min: 16, max: 256 };
const MAX_DESCRIPTION_LENGTH = 500;

/** The start of a receiver's answer kept with each attempt: enough to read an error, too little to store a page. */
export const RESPONSE_SNIPPET_BYTES = 1024;
/** However many attempts are configured, no wait between two is longer than this. */
export const MAX_RETRY_DELAY_MS = 60 * 60 * 1000;
/** The newest deliveries of each target kept; older ones that are finished are deleted. */
export const DELIVERIES_KEPT = 200;

export function parseNotificationEvents(values: readonly string[]): NotificationEvent[] {
  if (values.length === 0) {
    throw badRequest(`Name at least one event in "events": ${NOTIFICATION_EVENTS.join(", ")}`);
  }
  const unknown = values.filter((value) => !(NOTIFICATION_EVENTS as readonly string[]).includes(value));
  if (unknown.length > 0) {
    throw badRequest(
      `Unknown event(s) ${unknown.map((value) => JSON.stringify(value)).join(", ")}; events are ` +
        NOTIFICATION_EVENTS.join(", "),
    );
  }
  // Stored in the list's own order, once each, so two targets asking for the same read the same.
  return NOTIFICATION_EVENTS.filter((event) => values.includes(event));
}

export function parseNotificationFormat(value: string | undefined): NotificationFormat {
  if (value === undefined) return "json";
  if (!(NOTIFICATION_FORMATS as readonly string[]).includes(value)) {
    throw badRequest(`Unknown format ${JSON.stringify(value)}; send "json" (signed) or "slack"`);
  }
  return value as NotificationFormat;
}

/**
 * Checks a target's URL; answers the URL to store and the origin to show. Only http and https. Credentials in the
 * URL (`https://user:pass@host/`) are refused rather than stored: the HTTP client would not send them, and a
 * receiver should know Gofer by the signature, or by a token in the path as Slack's URLs carry one. Messages never
 * repeat the URL: it may hold such a token.
 */
export function parseNotificationUrl(text: string): { url: string; origin: string } {
  if (text.length > MAX_URL_LENGTH) {
    throw badRequest(`The notification URL is longer than ${MAX_URL_LENGTH} characters`);
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badRequest(
      "The notification URL is not an absolute URL; send one such as https://example.com/hook",
    );
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw badRequest(`The notification URL must be http or https, not ${url.protocol.replace(/:$/, "")}`);
  }
  if (url.username !== "" || url.password !== "") {
    throw badRequest(
      "The notification URL must not hold a user or password; receivers can check the signature instead " +
        "(format json), or take a token in the path",
    );
  }
  url.hash = "";
  return { url: url.href, origin: url.origin };
}

/** A secret the user chose for a target's signatures; only `json` targets are signed. */
export function checkSigningSecret(secret: string | undefined, format: NotificationFormat): void {
  if (secret === undefined) return;
  if (format !== "json") {
    throw badRequest(`Only json targets are signed; a ${format} target takes no "secret"`);
  }
  if (secret.length < SECRET_LENGTH.min || secret.length > SECRET_LENGTH.max) {
    throw badRequest(
      `The signing secret must be ${SECRET_LENGTH.min}-${SECRET_LENGTH.max} characters; leave it out for ` +
        "Gofer to make one",
    );
  }
}

export function checkNotificationDescription(description: string): void {
  if (description.length > MAX_DESCRIPTION_LENGTH) {
    throw badRequest(`The description is longer than ${MAX_DESCRIPTION_LENGTH} characters`);
  }
}

/** A Gofer event that may fire notifications, with what a notification says about it. */
export interface NotifiableEvent {
  event: NotificationEvent;
  event_id: number;
  emitted: number;
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  task_execution_id?: string;
  status: string;
}

/** Which notification event a Gofer event is: a run that ended (but not `unknown`), or a task that failed. */
export function notifiableEvent(event: GoferEvent): NotifiableEvent | undefined {
  const { name, details } = eventOf(event);
  const common = { event_id: Number(event.id), emitted: event.emitted };
  if (name === "completed_run") {
    const { namespace_id, pipeline_id, run_id, status } = details;
    if (status === "unknown") return undefined;
    return { ...common, event: `run_${status}`, namespace_id, pipeline_id, run_id, status };
  }
  if (name === "completed_task_execution" && details.status === "failed") {
    const { namespace_id, pipeline_id, run_id, task_execution_id, status } = details;
    return { ...common, event: "task_failed", namespace_id, pipeline_id, run_id, task_execution_id, status };
  }
  return undefined;
}

/** What one attempt got: an HTTP status, or none (timed out, refused, reset). */
export interface AttemptResult {
  status: number | null;
  /** Why no answer came, when none did. */
  error: string | null;
}

/**
 * - `succeeded`: a 2xx.
 * - `retry`: may go through later: no answer, a 5xx, 408 (timeout) or 429 (too many requests).
 * - `final`: another answer will not differ: a redirect (not followed: it could send the signed body anywhere)
 *   or any other 4xx.
 */
export type AttemptVerdict =
  | { outcome: "succeeded" }
  | { outcome: "retry"; reason: string }
  | { outcome: "final"; reason: string };

export function judgeAttempt({ status, error }: AttemptResult): AttemptVerdict {
  if (status === null) return { outcome: "retry", reason: error ?? "no answer" };
  if (status >= 200 && status < 300) return { outcome: "succeeded" };
  if (status >= 500 || status === 408 || status === 429) {
    return { outcome: "retry", reason: `the receiver answered HTTP ${status}` };
  }
  if (status >= 300 && status < 400) {
    return {
      outcome: "final",
      reason: `the receiver answered HTTP ${status}, a redirect, which is not followed; give the final URL`,
    };
  }
  return { outcome: "final", reason: `the receiver answered HTTP ${status}, which is not retried` };
}

/** The wait after failed attempt `attempt` (from 1): the first backoff, doubling, at most an hour. */
export function retryDelayMs(attempt: number, firstBackoffMs: number): number {
  return Math.min(firstBackoffMs * 2 ** (attempt - 1), MAX_RETRY_DELAY_MS);
}

/** The reason stored on a target Gofer disabled. */
export function failingReason(failures: number, last: string): StatusReason<"failing"> {
  return {
    reason: "failing",
    description: `disabled after ${failures} failed deliveries in a row (the last: ${last}); enable it again once the receiver is fixed`,
  };
}
