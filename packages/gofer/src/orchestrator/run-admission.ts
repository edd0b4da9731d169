/**
 * Which pending runs may start now. Runs are admitted in arrival order under three limits that all hold:
 * - the pipeline's parallelism: a pipeline at its limit admits nothing more, but does not hold back other
 *   pipelines;
 * - the concurrency group (an extension of v0): a run with a group starts only when no run of that group is
 *   running and it is the oldest pending run of the group, so a group runs one at a time, in order. Groups are
 *   scoped to the namespace, so two pipelines may share one. A run waiting for its group does not hold back
 *   later runs of its pipeline in other groups (or in none);
 * - the global limit, which stops admission entirely.
 */
export interface PendingRun {
  namespace_id: string;
  pipeline_id: string;
  run_id: number;
  /** The pipeline's own limit; 0 means the server's default per-pipeline limit. */
  parallelism: number;
  /** The run's resolved concurrency group; absent or `null`: none. */
  concurrency_group?: string | null;
}

export interface Limits {
  perPipelineDefault: number;
  global: number;
}

export const pipelineKey = (namespaceId: string, pipelineId: string): string =>
  `${namespaceId}/${pipelineId}`;

/** Groups are namespace-wide: the same name in two namespaces is two groups. */
export const groupKey = (namespaceId: string, group: string): string => `${namespaceId}/${group}`;

export function admitRuns(
  pending: PendingRun[],
  running: { global: number; byPipeline: Map<string, number>; byGroup?: Map<string, number> },
  limits: Limits,
): PendingRun[] {
  const admitted: PendingRun[] = [];
  const byPipeline = new Map(running.byPipeline);
  let global = running.global;
  const blocked = new Set<string>();
  /** Groups whose oldest pending run has been considered: the later ones wait for it, admitted or not. */
  const groupsSeen = new Set<string>();
  for (const run of pending) {
    if (global >= limits.global) break;
    if (run.concurrency_group != null) {
      const group = groupKey(run.namespace_id, run.concurrency_group);
      if (groupsSeen.has(group)) continue;
      groupsSeen.add(group);
      if ((running.byGroup?.get(group) ?? 0) > 0) continue;
    }
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
