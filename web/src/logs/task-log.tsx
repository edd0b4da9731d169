/**
 * A task's log, followed while the task runs and read whole once it has ended; or, when `attempt` names an
 * earlier attempt, that attempt's log, read whole.
 */
import { apiPath } from "../api/client.ts";
import type { TaskExecution } from "../api/types.ts";
import { ErrorNote } from "../components/status.tsx";
import { LogViewer } from "./log-viewer.tsx";
import { useLineStream } from "./use-line-stream.ts";

interface Props {
  execution: TaskExecution;
  /** An earlier attempt to read instead of the current one. */
  attempt?: number | undefined;
  /**
   * Called when the followed log ends while the page still thinks the task runs: the attempt ended, and the
   * task may be waiting to be tried again (which announces no event of its own).
   */
  onFollowEnd?: () => void;
  /** Show the log's last lines first (see LogViewer). */
  startAtEnd?: boolean;
  selectedLine?: number | undefined;
  onSelectLine?: ((line: number | undefined) => void) | undefined;
}

export function TaskLog({ execution, attempt, onFollowEnd, startAtEnd, selectedLine, onSelectLine }: Props) {
  const { namespace_id, pipeline_id, run_id, task_id } = execution;
  const earlier = attempt !== undefined && attempt < execution.attempt;
  const complete = earlier || execution.state === "complete";
  const started = earlier || execution.state === "running" || complete;
  const unavailable = execution.logs_removed || execution.logs_expired;
  const taskPath = apiPath`/api/namespaces/${namespace_id}/pipelines/${pipeline_id}/runs/${run_id}/tasks/${task_id}`;
  const path =
    started && !unavailable
      ? earlier
        ? `${taskPath}/attempts/${attempt}/logs`
        : `${taskPath}/logs`
      : undefined;
  // When the task completes the log is read once more, whole: the page then shows exactly what was stored.
  const stream = useLineStream(path, !complete, onFollowEnd, true);
  if (unavailable) {
    return (
      <p class="empty">
        The log of {task_id} was {execution.logs_removed ? "deleted" : "removed by retention"}.
      </p>
    );
  }
  if (!started) {
    return (
      <p class="empty">
        {execution.attempt > 1
          ? `Attempt ${execution.attempt} of ${task_id} has not started yet; choose an earlier attempt to read its log.`
          : `${task_id} has not started yet; its log appears here when it does.`}
      </p>
    );
  }
  const shown = earlier ? attempt : execution.attempt;
  const fileName = `${pipeline_id}-${run_id}-${task_id}${shown > 1 || earlier ? `-attempt-${shown}` : ""}.log`;
  return (
    <>
      <ErrorNote error={stream.error} />
      {/* Keyed by the log: another task's or attempt's log starts at its own place, not where this one was. */}
      <LogViewer
        key={fileName}
        lines={stream.lines}
        streams={stream.streams}
        times={stream.times}
        version={stream.version}
        fileName={fileName}
        following={stream.following}
        ended={stream.ended && stream.error === undefined}
        startAtEnd={startAtEnd ?? false}
        selectedLine={selectedLine}
        onSelectLine={onSelectLine}
      />
    </>
  );
}
