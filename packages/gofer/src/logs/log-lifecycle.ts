/**
 * Log files go with what owns them: a deleted pipeline or namespace takes its task logs along, driven by the
 * committed deletion event (the rows are already gone, so the files could never be served again).
 */
import { eventOf } from "@gofer/sdk/client";
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore } from "./log-store.ts";

export function watchLogLifecycle(
  bus: EventBus,
  logs: LogStore,
  log: (message: string, error?: unknown) => void,
): () => void {
  return bus.subscribe((event) => {
    const { name, details } = eventOf(event);
    const removal =
      name === "deleted_pipeline"
        ? logs.removeAll(details.namespace_id, details.pipeline_id)
        : name === "deleted_namespace"
          ? logs.removeAll(details.namespace_id)
          : undefined;
    removal?.catch((error: unknown) =>
      log("removing the logs of a deleted pipeline or namespace failed", error),
    );
  });
}
