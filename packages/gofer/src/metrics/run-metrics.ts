/**
 * Feeds the run and task metrics from the run loop's events: a run started (its time in the queue), a run
 * finished (its status and duration), a task attempt finished (its status and duration). Only events of this
 * replica's own work are heard (the leader's), so each run is counted once across replicas.
 */
import { eventOf } from "@gofer/sdk/client";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { getRunTimes } from "../storage/runs-store.ts";
import { getTaskExecution } from "../storage/task-executions-store.ts";
import type { GoferMetrics } from "./gofer-metrics.ts";

export function watchRunMetrics(
  bus: EventBus,
  db: GoferDb,
  metrics: GoferMetrics,
  log: (message: string, error?: unknown) => void,
): () => void {
  const failed = (error: unknown) => log("could not read a run's times for its metrics", error);
  return bus.subscribe((event) => {
    const { name, details } = eventOf(event);
    if (name === "started_run") {
      const labels = { namespace: details.namespace_id, pipeline: details.pipeline_id };
      metrics.runsStarted.inc(labels);
      getRunTimes(db, details).then((times) => {
        if (times && times.started >= times.created) {
          metrics.runQueued.observe(labels, (times.started - times.created) / 1000);
        }
      }, failed);
    } else if (name === "completed_run") {
      const labels = {
        namespace: details.namespace_id,
        pipeline: details.pipeline_id,
        status: details.status,
      };
      metrics.runsFinished.inc(labels);
      getRunTimes(db, details).then((times) => {
        if (times && times.started > 0 && times.ended >= times.started) {
          metrics.runDuration.observe(labels, (times.ended - times.started) / 1000);
        }
      }, failed);
    } else if (name === "completed_task_execution") {
      const labels = {
        namespace: details.namespace_id,
        pipeline: details.pipeline_id,
        status: details.status,
      };
      getTaskExecution(db, { ...details, task_id: details.task_execution_id }).then((execution) => {
        if (execution && execution.started > 0 && execution.ended >= execution.started) {
          metrics.taskDuration.observe(labels, (execution.ended - execution.started) / 1000);
        }
      }, failed);
    }
  });
}
