/**
 * Keeps object files in step with what owns them, driven by committed events: a started run expires the
 * objects of its pipeline's old runs; a deleted pipeline or namespace takes its object files along (the
 * metadata rows went with it in the same SQL delete); an uninstalled extension takes its objects along.
 */
import { eventOf } from "@gofer/sdk/client";
import type { EventBus } from "../events/event-bus.ts";
import type { ObjectStore } from "./object-store.ts";

export function watchObjectLifecycle(
  bus: EventBus,
  objects: ObjectStore,
  log: (message: string, error?: unknown) => void,
  /** After runs' objects expired or their pipeline went: what else lives exactly as long (run tokens). */
  onRunsRetired: () => Promise<unknown> = async () => undefined,
): () => void {
  // One pass at a time: two runs starting together must not expire the same run twice.
  let chain: Promise<unknown> = Promise.resolve();
  const enqueue = (what: string, work: () => Promise<unknown>) => {
    chain = chain.then(work).catch((error: unknown) => log(`object store: ${what} failed`, error));
  };
  return bus.subscribe((event) => {
    const { name, details } = eventOf(event);
    if (name === "started_run") {
      const { namespace_id: namespaceId, pipeline_id: pipelineId } = details;
      enqueue(`expiring run objects of ${namespaceId}/${pipelineId}`, async () => {
        const expired = await objects.expireRunObjects(namespaceId, pipelineId);
        if (expired.length > 0) await onRunsRetired();
      });
    } else if (name === "deleted_pipeline") {
      const { namespace_id: namespaceId, pipeline_id: pipelineId } = details;
      enqueue(`removing objects of ${namespaceId}/${pipelineId}`, async () => {
        await objects.removePipeline(namespaceId, pipelineId);
        await onRunsRetired();
      });
    } else if (name === "uninstalled_extension") {
      const extensionId = details.id;
      enqueue(`removing objects of extension ${extensionId}`, () => objects.removeExtension(extensionId));
    } else if (name === "deleted_namespace") {
      const namespaceId = details.namespace_id;
      enqueue(`removing objects of namespace ${namespaceId}`, async () => {
        await objects.removeNamespace(namespaceId);
        await onRunsRetired();
      });
    }
  });
}
