/** A task's log, followed while the task runs and read whole once it has ended. */
import { apiPath } from "../api/client.ts";
import type { TaskExecution } from "../api/types.ts";
import { ErrorNote } from "../components/status.tsx";
import { LogViewer } from "./log-viewer.tsx";
import { useLineStream } from "./use-line-stream.ts";

export function TaskLog({ execution }: { execution: TaskExecution }) {
  const { namespace_id, pipeline_id, run_id, task_id } = execution;
  const complete = execution.state === "complete";
  const started = execution.state === "running" || complete;
  const unavailable = execution.logs_removed || execution.logs_expired;
  const path =
    started && !unavailable
      ? apiPath`/api/namespaces/${namespace_id}/pipelines/${pipeline_id}/runs/${run_id}/tasks/${task_id}/logs`
      : undefined;
  // When the task completes the log is read once more, whole: the page then shows exactly what was stored.
  const stream = useLineStream(path, !complete);
  if (unavailable) {
    return (
      <p class="empty">
        The log of {task_id} was {execution.logs_removed ? "deleted" : "removed by retention"}.
      </p>
    );
  }
  if (!started) return <p class="empty">{task_id} has not started yet; its log appears here when it does.</p>;
  return (
    <>
      <ErrorNote error={stream.error} />
      <LogViewer
        lines={stream.lines}
        version={stream.version}
        fileName={`${pipeline_id}-${run_id}-${task_id}.log`}
        following={stream.following}
      />
    </>
  );
}
