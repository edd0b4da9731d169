/**
 * A span for each container start (image pull, create, start), as a child of the task attempt it starts, found
 * from the container's labels: the part of a task's life that is the engine's, and where a slow registry shows.
 */
import { runTraceId, taskAttemptSpanId } from "../domain/trace-ids.ts";
import { delegate } from "../scheduler/delegating-scheduler.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import { newSpanId, newTraceId, type OtlpExporter } from "./otlp-exporter.ts";

export function traceScheduler(scheduler: Scheduler, exporter: OtlpExporter): Scheduler {
  const start: Scheduler["start"] = async (spec) => {
    const labels = spec.labels;
    const run = labels["gofer.run"];
    const task = labels["gofer.task"];
    const identity =
      run !== undefined && task !== undefined
        ? {
            instance_id: labels["gofer.instance"] ?? "",
            namespace_id: labels["gofer.namespace"] ?? "",
            pipeline_id: labels["gofer.pipeline"] ?? "",
            run_id: Number(run),
          }
        : undefined;
    const began = Date.now();
    let failure: string | undefined;
    try {
      return await scheduler.start(spec);
    } catch (error) {
      failure = error instanceof Error ? error.message : String(error);
      throw error;
    } finally {
      exporter.export({
        traceId: identity ? runTraceId(identity) : newTraceId(),
        spanId: newSpanId(),
        ...(identity &&
          task !== undefined && {
            parentSpanId: taskAttemptSpanId(identity, task, Number(labels["gofer.attempt"] ?? 1)),
          }),
        name: "engine start",
        kind: 3,
        startMs: began,
        endMs: Date.now(),
        attributes: {
          "container.image.name": spec.image,
          "container.name": spec.name,
          "gofer.image.always_pull": spec.alwaysPull === true,
        },
        ...(failure !== undefined && { error: failure }),
      });
    }
  };
  return delegate(scheduler, { start });
}
