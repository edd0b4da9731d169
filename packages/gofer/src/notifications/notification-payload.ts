/** The fields a delivery carries, fixed when it is made so that every attempt sends the same body. */
import type { Notification, NotificationPayload, StatusReason } from "@gofer/sdk/client";
import { monotonicFactory } from "ulid";
import type { NotifiableEvent } from "../domain/notifications.ts";

/** ULIDs, increasing even within one millisecond: deliveries list newest first by id. */
export const newDeliveryId: () => string = monotonicFactory();

/** What Gofer recorded about how the run or task ended, when it still has the row. */
export interface EndDetails {
  status_reason: StatusReason<string> | null;
  exit_code?: number | null;
}

/** The run's page in the web UI (web/src/router.ts), under the address users reach the server at. */
export function runPageUrl(webUrl: string, namespaceId: string, pipelineId: string, runId: number): string {
  const base = webUrl.replace(/\/+$/, "");
  return `${base}/namespaces/${encodeURIComponent(namespaceId)}/pipelines/${encodeURIComponent(pipelineId)}/runs/${runId}`;
}

export function eventPayload(
  event: NotifiableEvent,
  target: Notification,
  deliveryId: string,
  details: EndDetails,
  webUrl: string | undefined,
): NotificationPayload {
  return {
    event: event.event,
    delivery_id: deliveryId,
    notification_id: target.notification_id,
    event_id: String(event.event_id),
    emitted: event.emitted,
    namespace_id: event.namespace_id,
    pipeline_id: event.pipeline_id,
    run_id: event.run_id,
    ...(event.task_execution_id !== undefined && { task_execution_id: event.task_execution_id }),
    status: event.status,
    status_reason: details.status_reason,
    ...(details.exit_code !== undefined && { exit_code: details.exit_code }),
    run_url:
      webUrl === undefined ? null : runPageUrl(webUrl, event.namespace_id, event.pipeline_id, event.run_id),
  };
}

/** A test delivery names the target's namespace and pipeline, and no run. */
export function testPayload(target: Notification, deliveryId: string, now: number): NotificationPayload {
  return {
    event: "test",
    delivery_id: deliveryId,
    notification_id: target.notification_id,
    event_id: null,
    emitted: now,
    namespace_id: target.namespace_id,
    pipeline_id: target.pipeline_id,
    run_id: null,
    status: null,
    status_reason: null,
    run_url: null,
  };
}
