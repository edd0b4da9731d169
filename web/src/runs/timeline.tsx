/**
 * One bar per task from its start to its end, on the run's time scale: long bars are where the run spent its
 * time, and the gap before a bar is time spent waiting for parents or for a container to start.
 */
import type { Run, TaskExecution } from "../api/types.ts";
import { outcome, span } from "../format.ts";

interface Props {
  run: Run;
  executions: TaskExecution[];
  now: number;
  onSelect: (taskId: string) => void;
}

export function Timeline({ run, executions, now, onSelect }: Props) {
  const origin = run.started || Math.min(...executions.map((execution) => execution.created || now));
  const end = Math.max(run.ended || now, ...executions.map((execution) => execution.ended || 0), origin + 1);
  const total = end - origin;
  const percent = (time: number) => `${Math.max(0, Math.min(100, ((time - origin) / total) * 100))}%`;
  return (
    <ol class="timeline" aria-label="Timeline">
      {executions.map((execution) => {
        const look = outcome(execution.state, execution.status);
        const started = execution.started;
        const finish = execution.ended || (execution.state === "running" ? now : started);
        return (
          <li key={execution.task_id} data-task-id={execution.task_id}>
            <button type="button" class="timeline-label" onClick={() => onSelect(execution.task_id)}>
              {execution.task_id}
            </button>
            <span class="timeline-track">
              {started > 0 && (
                <span
                  class={`timeline-bar bar-${look}`}
                  style={{
                    left: percent(started),
                    width: `max(3px, calc(${percent(finish)} - ${percent(started)}))`,
                  }}
                  title={`${execution.task_id}: ${look}, ${span(started, execution.ended, now)}`}
                />
              )}
            </span>
            <span class="timeline-duration">{started ? span(started, execution.ended, now) : look}</span>
          </li>
        );
      })}
    </ol>
  );
}
