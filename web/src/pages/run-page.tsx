/**
 * One run: its graph coloured by task status, a timeline of where the time went, every task's exit code and
 * reason, the selected task's live log, cancel, and a terminal into a running task.
 */
import { useEffect, useState } from "preact/hooks";
import { api, apiPath } from "../api/client.ts";
import { concerns, onEvent } from "../api/event-stream.ts";
import type { Run, TaskExecution } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, StatusPill } from "../components/status.tsx";
import { useResource } from "../components/use-resource.ts";
import { exactTime, outcome, span, when } from "../format.ts";
import { DagGraph } from "../graph/dag-graph.tsx";
import { TaskLog } from "../logs/task-log.tsx";
import { paths } from "../router.ts";
import { Timeline } from "../runs/timeline.tsx";
import { TerminalPanel } from "../terminal/terminal-panel.tsx";

interface Props {
  namespace: string;
  pipeline: string;
  runId: number;
}

export function RunPage({ namespace, pipeline, runId }: Props) {
  const base = apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}/runs/${runId}`;
  const run = useResource(() => api<Run>("GET", base, "run"), [base]);
  const tasks = useResource(() => api<TaskExecution[]>("GET", `${base}/tasks`, "task_executions"), [base]);
  const [selected, setSelected] = useState<string | undefined>(undefined);
  const [attached, setAttached] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<unknown>(undefined);
  const now = useNow(run.value?.state !== "complete");

  useEffect(
    () =>
      onEvent((event) => {
        if (!concerns(event, namespace, pipeline, runId)) return;
        run.reload();
        tasks.reload();
      }),
    [namespace, pipeline, runId],
  );

  const executions = sortByStart(tasks.value ?? []);
  const byId = new Map(executions.map((execution) => [execution.task_id, execution]));
  const current =
    (selected === undefined ? undefined : byId.get(selected)) ??
    executions.find((execution) => execution.status === "failed") ??
    executions.find((execution) => execution.state === "running") ??
    executions[0];
  const value = run.value;

  const act = async (action: () => Promise<unknown>) => {
    setProblem(undefined);
    try {
      await action();
    } catch (error) {
      setProblem(error);
    }
  };

  return (
    <main>
      <nav class="crumbs" aria-label="Breadcrumbs">
        <Link href={paths.namespace(namespace)}>{namespace}</Link> /{" "}
        <Link href={paths.pipeline(namespace, pipeline)}>{pipeline}</Link> / <span>run {runId}</span>
      </nav>
      <div class="page-head">
        <h1>Run {runId}</h1>
        {value && (
          <span
            class={`pill pill-${outcome(value.state, value.status)}`}
            data-testid="run-state"
            data-status={value.status}
          >
            {value.state}
          </span>
        )}
        {value && value.state === "complete" && <StatusPill value={value.status} />}
        <div class="actions">
          {value && value.state !== "complete" && (
            <button type="button" class="warn" onClick={() => act(() => api("DELETE", base))}>
              Cancel run
            </button>
          )}
        </div>
      </div>
      {value && (
        <p class="lead">
          Config v{value.pipeline_config_version}, started {when(value.started)} by{" "}
          {value.initiator?.user ?? "?"}
          {value.started
            ? `, ${value.state === "complete" ? "took" : "running for"} ${span(value.started, value.ended, now)}`
            : ""}
          .{value.status_reason?.description ? ` ${value.status_reason.description}` : ""}
        </p>
      )}
      <ErrorNote error={run.error ?? tasks.error ?? problem} />

      {executions.length > 0 && (
        <>
          <section aria-labelledby="run-graph-title">
            <h2 id="run-graph-title">Graph</h2>
            <DagGraph
              tasks={executions.map((execution) => execution.task)}
              executions={byId}
              selected={current?.task_id}
              onSelect={setSelected}
            />
          </section>
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            {value && <Timeline run={value} executions={executions} now={now} onSelect={setSelected} />}
          </section>
          <section aria-labelledby="tasks-title">
            <h2 id="tasks-title">Tasks</h2>
            <div class="table-scroll">
              <table class="tasks">
                <thead>
                  <tr>
                    <th>Task</th>
                    <th>Status</th>
                    <th>Exit</th>
                    <th>Duration</th>
                    <th>Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {executions.map((execution) => (
                    <tr
                      key={execution.task_id}
                      class={execution.task_id === current?.task_id ? "selected" : ""}
                    >
                      <td>
                        <button
                          type="button"
                          class="link-button"
                          aria-label={`Show log of ${execution.task_id}`}
                          onClick={() => setSelected(execution.task_id)}
                        >
                          {execution.task_id}
                        </button>
                      </td>
                      <td>
                        <StatusPill value={outcome(execution.state, execution.status)} />
                      </td>
                      <td>{execution.exit_code ?? "–"}</td>
                      <td title={exactTime(execution.started)}>
                        {span(execution.started, execution.ended, now)}
                      </td>
                      <td class="reason">{execution.status_reason?.description ?? ""}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </section>
        </>
      )}
      {tasks.value && executions.length === 0 && (
        <p class="empty">This run has no tasks yet; it is waiting to start.</p>
      )}

      {current && (
        <section aria-labelledby="log-title" class="log-section">
          <div class="section-head">
            <h2 id="log-title">Log of {current.task_id}</h2>
            <div class="actions">
              {current.state !== "complete" && (
                <button
                  type="button"
                  class="warn"
                  onClick={() =>
                    act(() => api("DELETE", `${base}/tasks/${encodeURIComponent(current.task_id)}`))
                  }
                >
                  Cancel task
                </button>
              )}
              {current.state === "running" && (
                <button type="button" onClick={() => setAttached(current.task_id)}>
                  Attach
                </button>
              )}
            </div>
          </div>
          {attached && (
            <TerminalPanel
              attachPath={`${base}/tasks/${encodeURIComponent(attached)}/attach`}
              taskId={attached}
              onClose={() => setAttached(undefined)}
            />
          )}
          <TaskLog execution={current} />
        </section>
      )}
    </main>
  );
}

/** Tasks in the order they started (not yet started ones last, by id), as a timeline reads. */
function sortByStart(executions: TaskExecution[]): TaskExecution[] {
  return [...executions].sort(
    (a, b) =>
      (a.started || Number.MAX_SAFE_INTEGER) - (b.started || Number.MAX_SAFE_INTEGER) ||
      a.task_id.localeCompare(b.task_id),
  );
}

/** The current time, ticking each second while `live`: durations of running tasks grow without refetching. */
function useNow(live: boolean): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!live) return;
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, [live]);
  return now;
}
