/** What a pipeline's recent runs say about it: how often they succeed and how long they take. */
import type { Run } from "../api/types.ts";

export interface RunStats {
  /** Share of complete runs that succeeded, 0–1; undefined when none is complete. */
  successRate: number | undefined;
  /** Median duration of complete runs, in ms. */
  medianMs: number | undefined;
}

export function runStats(runs: Run[]): RunStats {
  const complete = runs.filter((run) => run.state === "complete" && run.status !== "cancelled");
  const durations = complete
    .filter((run) => run.started && run.ended)
    .map((run) => run.ended - run.started)
    .sort((a, b) => a - b);
  const middle = Math.floor(durations.length / 2);
  return {
    successRate:
      complete.length === 0
        ? undefined
        : complete.filter((run) => run.status === "successful").length / complete.length,
    medianMs:
      durations.length === 0
        ? undefined
        : durations.length % 2
          ? durations[middle]
          : ((durations[middle - 1] ?? 0) + (durations[middle] ?? 0)) / 2,
  };
}
