/**
 * The container engine as the run loop sees it, timed: each call's duration and failures by operation
 * (`gofer_engine_call_seconds`, `gofer_engine_errors_total`). `wait` and `logs` last as long as the container
 * runs, so they count failures only; their duration is the task's, measured elsewhere.
 */
import { delegate } from "../scheduler/delegating-scheduler.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { GoferMetrics } from "./gofer-metrics.ts";

export function instrumentScheduler(scheduler: Scheduler, metrics: GoferMetrics): Scheduler {
  const timed =
    <A extends unknown[], R>(operation: string, call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const end = metrics.engineCall.startTimer({ operation });
      try {
        return await call(...args);
      } catch (error) {
        metrics.engineErrors.inc({ operation });
        throw error;
      } finally {
        end();
      }
    };
  scheduler.observeImagePulls?.((seconds, pulled) =>
    metrics.imagePull.observe({ outcome: pulled ? "pulled" : "failed" }, seconds),
  );
  const exec = scheduler.exec?.bind(scheduler);
  return delegate(scheduler, {
    start: timed("start", (spec) => scheduler.start(spec)),
    wait: async (id, options) => {
      try {
        return await scheduler.wait(id, options);
      } catch (error) {
        if (!options?.signal?.aborted) metrics.engineErrors.inc({ operation: "wait" });
        throw error;
      }
    },
    stop: timed("stop", (id, timeoutSeconds) => scheduler.stop(id, timeoutSeconds)),
    remove: timed("remove", (id) => scheduler.remove(id)),
    listManaged: timed("list", (labels) => scheduler.listManaged(labels)),
    ...(exec && { exec: timed("exec", exec) }),
  });
}
