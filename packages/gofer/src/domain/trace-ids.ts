/**
 * Trace and span ids of runs and task attempts, derived from what names them (the installation, the run, the
 * task, the attempt) rather than kept anywhere: a task's `TRACEPARENT` is known when its container starts, and
 * the spans written when the run ends (by whichever replica, after any restart) carry the same ids.
 */
import { createHash } from "node:crypto";

export interface RunIdentity {
  instance_id: string;
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
}

const digest = (text: string, hexDigits: number): string =>
  createHash("sha256").update(text).digest("hex").slice(0, hexDigits);

const runName = (run: RunIdentity): string =>
  `${run.instance_id}/${run.namespace_id}/${run.pipeline_id}/${run.run_id}`;

/** 32 hex digits: the run's trace. */
export const runTraceId = (run: RunIdentity): string => digest(`gofer-trace/${runName(run)}`, 32);

/** 16 hex digits: the run's own (root) span. */
export const runSpanId = (run: RunIdentity): string => digest(`gofer-run-span/${runName(run)}`, 16);

/** 16 hex digits: one attempt of one task of the run. */
export const taskAttemptSpanId = (run: RunIdentity, taskId: string, attempt: number): string =>
  digest(`gofer-task-span/${runName(run)}/${taskId}/${attempt}`, 16);

/** The W3C `traceparent` header value naming a span as the parent, sampled. */
export const traceparent = (traceId: string, spanId: string): string => `00-${traceId}-${spanId}-01`;

/** The trace and parent span of a `traceparent` header, when it is well formed. */
export function parseTraceparent(
  header: string | undefined,
): { traceId: string; spanId: string } | undefined {
  const match = /^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(header?.trim() ?? "");
  if (!match?.[1] || !match[2] || /^0+$/.test(match[1]) || /^0+$/.test(match[2])) return undefined;
  return { traceId: match[1], spanId: match[2] };
}
