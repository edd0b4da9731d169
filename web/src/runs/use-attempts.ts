/**
 * The attempts of each task of a run that has had more than one. Earlier attempts never change once kept, so
 * the lists are fetched again only when some task's attempt number moves (which the task list, reloaded from
 * events, shows): no polling, and nothing fetched for runs whose tasks ran once.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../api/client.ts";
import type { TaskAttempt, TaskExecution } from "../api/types.ts";

export interface Attempts {
  /** Task id → its attempts, oldest first; tasks on their first attempt are absent. */
  byTask: Map<string, TaskAttempt[]>;
  error: unknown;
}

/** `runPath`: the run's API path. */
export function useAttempts(runPath: string, executions: TaskExecution[]): Attempts {
  const retried = executions.filter((execution) => execution.attempt > 1);
  const signature = retried.map((execution) => `${execution.task_id}:${execution.attempt}`).join(",");
  const [attempts, setAttempts] = useState<Attempts>({ byTask: new Map(), error: undefined });
  useEffect(() => {
    if (!signature) return;
    let current = true;
    Promise.all(
      retried.map(
        async (execution) =>
          [
            execution.task_id,
            await api<TaskAttempt[]>(
              "GET",
              `${runPath}/tasks/${encodeURIComponent(execution.task_id)}/attempts`,
              "attempts",
            ),
          ] as const,
      ),
    ).then(
      (entries) => {
        if (current) setAttempts({ byTask: new Map(entries), error: undefined });
      },
      (error: unknown) => {
        if (current) setAttempts((previous) => ({ ...previous, error }));
      },
    );
    return () => {
      current = false;
    };
  }, [runPath, signature]);
  return attempts;
}
