/**
 * What one attempt of a delivery sends: the body in the target's format and the headers, signed afresh on each
 * attempt so its timestamp is the time it was sent (a receiver refusing old timestamps still takes a retry).
 *
 * The signature (json targets): `X-Gofer-Signature-256: sha256=<hex>`, where hex is the HMAC-SHA256 keyed with the
 * target's secret of `<X-Gofer-Timestamp>.<body>`, the timestamp being Unix seconds. Binding the timestamp into the
 * signed text is what lets a receiver refuse a replayed request, which a signature of the body alone (GitHub's
 * X-Hub-Signature-256) does not.
 */
import { createHmac } from "node:crypto";
import type { NotificationFormat, NotificationPayload } from "@gofer/sdk/client";

export interface OutgoingRequest {
  body: string;
  headers: Record<string, string>;
}

export interface RequestInput {
  format: NotificationFormat;
  payload: NotificationPayload;
  /** The HMAC key; null for a target that is not signed. */
  secret: string | null;
  /** When the attempt is sent, epoch ms. */
  now: number;
  userAgent: string;
}

export function signatureOf(secret: string, timestamp: string, body: string): string {
  return `sha256=${createHmac("sha256", secret).update(`${timestamp}.${body}`).digest("hex")}`;
}

export function buildRequest({ format, payload, secret, now, userAgent }: RequestInput): OutgoingRequest {
  const body = JSON.stringify(format === "slack" ? { text: slackText(payload) } : payload);
  const headers: Record<string, string> = {
    "content-type": "application/json",
    "user-agent": userAgent,
    "x-gofer-event": payload.event,
    "x-gofer-delivery": payload.delivery_id,
  };
  if (secret !== null) {
    const timestamp = String(Math.floor(now / 1000));
    headers["x-gofer-timestamp"] = timestamp;
    headers["x-gofer-signature-256"] = signatureOf(secret, timestamp, body);
  }
  return { body, headers };
}

/** Slack's mrkdwn treats these three as markup; ids cannot hold them, but reasons and URLs might. */
const escapeSlack = (text: string): string =>
  text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");

const ICONS: Record<string, string> = {
  run_successful: ":white_check_mark:",
  run_failed: ":x:",
  run_cancelled: ":no_entry_sign:",
  task_failed: ":warning:",
  test: ":bell:",
};

/** One readable line: what happened to which run of which pipeline, why, and a link to the run's page. */
export function slackText(payload: NotificationPayload): string {
  const pipeline = `${payload.namespace_id}/${payload.pipeline_id ?? "*"}`;
  const icon = ICONS[payload.event] ?? "";
  if (payload.event === "test") {
    return `${icon} Test notification from Gofer for ${payload.pipeline_id === null ? "namespace" : "pipeline"} ${escapeSlack(pipeline)}`;
  }
  const run = `run ${payload.run_id} of pipeline ${escapeSlack(pipeline)}`;
  const what =
    payload.event === "task_failed"
      ? `Task ${escapeSlack(payload.task_execution_id ?? "")} of ${run} failed`
      : `Run ${payload.run_id} of pipeline ${escapeSlack(pipeline)} ${payload.status === "successful" ? "succeeded" : payload.status}`;
  const exit =
    payload.exit_code !== undefined && payload.exit_code !== null ? ` (exit code ${payload.exit_code})` : "";
  const reason = payload.status_reason ? `: ${escapeSlack(payload.status_reason.description)}` : "";
  const link = payload.run_url ? ` <${escapeSlack(payload.run_url)}|View run>` : "";
  return `${icon} ${what}${exit}${reason}${link}`;
}
