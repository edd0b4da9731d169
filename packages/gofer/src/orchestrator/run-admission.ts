/**
 * Which pending runs may start now. Runs are admitted strictly in arrival order per pipeline; a pipeline at its
 * limit does not hold back other pipelines, but the global limit stops admission entirely.
 */
export interface PendingRun {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  /** The pipeline's own limit; 0 means the server's default per-pipeline limit. */
  parallelism: number;
}

export interface Limits {
  perPipelineDefault: number;
  global: number;
}

export const pipelineKey = (namespaceId: string, pipelineId: string): string =>
  `${namespaceId}/${pipelineId}`;

export function admitRuns(
  pending: PendingRun[],
  running: { global: number; byPipeline: Map<string, number> },
  limits: Limits,
): PendingRun[] {
  const admitted: PendingRun[] = [];
  const byPipeline = new Map(running.byPipeline);
  let global = running.global;
  const blocked = new Set<string>();
  for (const run of pending) {
    if (global >= limits.global) break;
    const key = pipelineKey(run.namespace_id, run.pipeline_id);
    if (blocked.has(key)) continue;
    const limit = run.parallelism > 0 ? run.parallelism : limits.perPipelineDefault;
    const active = byPipeline.get(key) ?? 0;
    if (active >= limit) {
      blocked.add(key);
      continue;
    }
    admitted.push(run);
    byPipeline.set(key, active + 1);
    global += 1;
  }
  return admitted;
}
