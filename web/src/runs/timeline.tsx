/**
 * One row per task, one bar per attempt from its start to its end, on the run's time scale: long bars are where
 * the run spent its time, the gap before a bar is time spent waiting for parents or for a container to start,
 * and a task tried again shows its earlier attempts dimmed before the current one.
 */
import type { Run, TaskAttempt, TaskExecution } from "../api/types.ts";
import { outcome, span } from "../format.ts";
import { attemptSegments, retryCountdown } from "./attempts.ts";

interface Props {
  run: Run;
  executions: TaskExecution[];
  /** Task id → its attempts, for tasks tried more than once. */
  attempts: Map<string, TaskAttempt[]>;
  now: number;
  /** A task's row or the bar of one of its attempts was chosen. */
  onSelect: (taskId: string, attempt?: number) => void;
}

export function Timeline({ run, executions, attempts, now, onSelect }: Props) {
  const rows = executions.map((execution) => ({
    execution,
    segments: attemptSegments(execution, attempts.get(execution.task_id) ?? [], now),
  }));
  const starts = rows.flatMap(({ segments }) => segments.map((segment) => segment.started));
  const origin = Math.min(
    run.started || Math.min(...executions.map((execution) => execution.created || now)),
    ...starts,
  );
  const end = Math.max(
    run.ended || now,
    ...rows.flatMap(({ segments }) => segments.map((segment) => segment.finish)),
    origin + 1,
  );
  const total = end - origin;
  const percent = (time: number) => `${Math.max(0, Math.min(100, ((time - origin) / total) * 100))}%`;
  return (
    <ol class="timeline" aria-label="Timeline">
      {rows.map(({ execution, segments }) => {
        const look = outcome(execution.state, execution.status);
        const several = segments.length > 1 || execution.attempt > 1;
        return (
          <li key={execution.task_id} data-task-id={execution.task_id} data-attempts={segments.length}>
            <button type="button" class="timeline-label" onClick={() => onSelect(execution.task_id)}>
              {execution.task_id}
            </button>
            <span class="timeline-track">
              {segments.map((segment) => {
                const label = `attempt ${segment.attempt}`;
                return (
                  <button
                    type="button"
                    key={segment.attempt}
                    class={`timeline-bar bar-${segment.look}${segment.current ? "" : " bar-earlier"}`}
                    data-attempt={segment.attempt}
                    style={{
                      left: percent(segment.started),
                      width: `max(3px, calc(${percent(segment.finish)} - ${percent(segment.started)}))`,
                    }}
                    title={`${execution.task_id}, ${label}: ${segment.look}, ${span(segment.started, segment.ended, now)}`}
                    aria-label={`${execution.task_id} ${label}: ${segment.look}`}
                    onClick={() => onSelect(execution.task_id, segment.attempt)}
                  >
                    {several && <span class="bar-label">{label}</span>}
                  </button>
                );
              })}
            </span>
            <span class="timeline-duration">
              {retryCountdown(execution, now) ??
                (execution.started ? span(execution.started, execution.ended, now) : look)}
            </span>
          </li>
        );
      })}
    </ol>
  );
}
