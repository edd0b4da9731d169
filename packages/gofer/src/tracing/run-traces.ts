/**
 * One trace per run, written when the run ends, from what storage holds: the run's span (its start to its end),
 * a `queued` span for its wait before admission, and a span per task attempt (its start to its exit, with the
 * exit code and status, and the moment it was created as an event). Ids come from domain/trace-ids.ts, so the
 * `TRACEPARENT` a task was given and the engine's spans for its container start join this trace, whichever
 * replica (or restart of the server) wrote which part.
 */
import { eventOf } from "@gofer/sdk/client";
import { runSpanId, runTraceId, taskAttemptSpanId } from "../domain/trace-ids.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { getRun, getRunTimes } from "../storage/runs-store.ts";
import { listTaskAttempts, listTaskExecutions } from "../storage/task-executions-store.ts";
import type { OtlpExporter, Span } from "./otlp-exporter.ts";

export function watchRunTraces(
  bus: EventBus,
  db: GoferDb,
  exporter: OtlpExporter,
  instanceId: string,
  log: (message: string, error?: unknown) => void,
): () => void {
  return bus.subscribe((event) => {
    const { name, details } = eventOf(event);
    if (name !== "completed_run") return;
    traceRun(db, exporter, { instance_id: instanceId, ...details }).catch((error: unknown) =>
      log(`could not write the trace of run ${details.pipeline_id}/${details.run_id}`, error),
    );
  });
}

async function traceRun(
  db: GoferDb,
  exporter: OtlpExporter,
  key: { instance_id: string; namespace_id: string; pipeline_id: string; run_id: number },
): Promise<void> {
  const [run, times] = await Promise.all([
    getRun(db, key.namespace_id, key.pipeline_id, key.run_id),
    getRunTimes(db, key),
  ]);
  if (!run || !times) return;
  const traceId = runTraceId(key);
  const rootId = runSpanId(key);
  const began = times.started > 0 ? times.started : times.created;
  const ended = Math.max(times.ended, began);
  const common = {
    "gofer.namespace": key.namespace_id,
    "gofer.pipeline": key.pipeline_id,
    "gofer.run_id": key.run_id,
  };
  exporter.export({
    traceId,
    spanId: rootId,
    name: `run ${key.pipeline_id}#${key.run_id}`,
    kind: 1,
    startMs: times.created,
    endMs: ended,
    attributes: {
      ...common,
      "gofer.run.status": run.status,
      "gofer.run.initiator": run.initiator.user,
      "gofer.run.reason": run.status_reason?.reason,
    },
    ...(run.status === "failed" && { error: run.status_reason?.description ?? "the run failed" }),
  });
  if (times.started > times.created) {
    exporter.export({
      traceId,
      spanId: taskAttemptSpanId(key, "(queued)", 0),
      parentSpanId: rootId,
      name: "queued",
      kind: 1,
      startMs: times.created,
      endMs: times.started,
      attributes: common,
    });
  }
  for (const execution of await listTaskExecutions(db, key.namespace_id, key.pipeline_id, key.run_id)) {
    const attempts = [
      ...(await listTaskAttempts(db, execution)).map((attempt) => ({
        attempt: attempt.attempt,
        started: attempt.started,
        ended: attempt.ended,
        exitCode: attempt.exit_code,
        status: attempt.status,
        reason: attempt.status_reason?.description,
      })),
      {
        attempt: execution.attempt,
        started: execution.started,
        ended: execution.ended,
        exitCode: execution.exit_code,
        status: execution.status,
        reason: execution.status_reason?.description,
      },
    ];
    for (const attempt of attempts) {
      // A task that never ran (skipped, or cancelled before it started) is a mark at the run's end.
      const startMs = attempt.started > 0 ? attempt.started : ended;
      const span: Span = {
        traceId,
        spanId: taskAttemptSpanId(key, execution.task_id, attempt.attempt),
        parentSpanId: rootId,
        name: `task ${execution.task_id}`,
        kind: 1,
        startMs,
        endMs: Math.max(attempt.ended, startMs),
        attributes: {
          ...common,
          "gofer.task_id": execution.task_id,
          "gofer.task.attempt": attempt.attempt,
          "gofer.task.image": execution.task.image,
          "gofer.task.status": attempt.status,
          "gofer.task.exit_code": attempt.exitCode ?? undefined,
        },
        events: [{ name: "created", timeMs: execution.created }],
        ...(attempt.status === "failed" && { error: attempt.reason ?? "the task failed" }),
      };
      exporter.export(span);
    }
  }
}
