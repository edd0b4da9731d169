/**
 * Log files go with what owns them: a deleted pipeline or namespace takes its task logs along, driven by the
 * committed deletion event (the rows are already gone, so the files could never be served again).
 */
import type { EventBus } from "../events/event-bus.ts";
import type { LogStore } from "./log-store.ts";

export function watchLogLifecycle(
  bus: EventBus,
  logs: LogStore,
  log: (message: string, error?: unknown) => void,
): () => void {
  return bus.subscribe((event) => {
    const pipeline = event.kind.deleted_pipeline;
    const namespace = event.kind.deleted_namespace;
    const removal = pipeline
      ? logs.removeAll(String(pipeline.namespace_id), String(pipeline.pipeline_id))
      : namespace
        ? logs.removeAll(String(namespace.namespace_id))
        : undefined;
    removal?.catch((error: unknown) =>
      log("removing the logs of a deleted pipeline or namespace failed", error),
    );
  });
}
