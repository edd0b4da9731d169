/**
 * One run: its graph coloured by task status, a timeline of where the time went (every attempt of every task),
 * every task's attempt, exit code and reason, the variables it was started with, the selected task's live log or
 * an earlier attempt's, cancel (and its grace period while tasks stop), retry, run again, and a terminal into a
 * running task. The selected task, attempt and log line live in the address, so a failure can be linked to.
 */
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { api, apiPath } from "../api/client.ts";
import { concerns, eventKind, onEvent } from "../api/event-stream.ts";
import type { Run, TaskAttempt, TaskExecution } from "../api/types.ts";
import { Link } from "../components/link.tsx";
import { ErrorNote, ReasonText, StatusPill } from "../components/status.tsx";
import { Time } from "../components/time.tsx";
import { useResource } from "../components/use-resource.ts";
import { exactTime, outcome, span } from "../format.ts";
import { DagGraph } from "../graph/dag-graph.tsx";
import { TaskLog } from "../logs/task-log.tsx";
import { paths } from "../router.ts";
import { retryCountdown } from "../runs/attempts.ts";
import { askedBy, cancellationOf, isCancelling } from "../runs/cancellation.ts";
import { CancellingNote } from "../runs/cancelling-note.tsx";
import { missingSelection, parseRunSelection, replaceRunSelection } from "../runs/run-url.ts";
import { RunVariables } from "../runs/run-variables.tsx";
import { Timeline } from "../runs/timeline.tsx";
import { useAttempts } from "../runs/use-attempts.ts";
import { TerminalPanel } from "../terminal/terminal-panel.tsx";
import { StartRunDialog } from "./start-run-dialog.tsx";
import "../styles/run-page.css";

/** The pipeline page showing one config version (its `?config=` form, which that page reads). */
const configPath = (namespace: string, pipeline: string, version: number) =>
  `${paths.pipeline(namespace, pipeline)}?config=${version}`;

interface Props {
  namespace: string;
  pipeline: string;
  runId: number;
}

export function RunPage({ namespace, pipeline, runId }: Props) {
  const base = apiPath`/api/namespaces/${namespace}/pipelines/${pipeline}/runs/${runId}`;
  const run = useResource(() => api<Run>("GET", base, "run"), [base]);
  const tasks = useResource(() => api<TaskExecution[]>("GET", `${base}/tasks`, "task_executions"), [base]);
  /** What the address asked for when the page opened. */
  const linked = useMemo(() => parseRunSelection(location.search, location.hash), []);
  const [selected, setSelected] = useState<string | undefined>(linked.task);
  /** An earlier attempt of the selected task whose log is shown instead of the current one's. */
  const [attemptShown, setAttemptShown] = useState<number | undefined>(linked.attempt);
  const [line, setLine] = useState<number | undefined>(linked.line);
  const [attached, setAttached] = useState<string | undefined>(undefined);
  const [problem, setProblem] = useState<unknown>(undefined);
  const [startingAgain, setStartingAgain] = useState(false);
  /** The run's `started_run_cancellation` arrived: "cancelling" at once, before the run is read again. */
  const [cancelAnnounced, setCancelAnnounced] = useState(false);
  const logSection = useRef<HTMLElement>(null);
  const landed = useRef(false);
  const now = useNow(run.value?.state !== "complete");

  useEffect(
    () =>
      onEvent((event) => {
        if (!concerns(event, namespace, pipeline, runId)) return;
        const { name } = eventKind(event);
        if (name === "started_run_cancellation") setCancelAnnounced(true);
        // A retry queues the run again: a cancellation announced before it is over.
        if (name === "queued_run" || name === "started_run") setCancelAnnounced(false);
        run.reload();
        tasks.reload();
      }),
    [namespace, pipeline, runId],
  );

  const executions = sortByStart(tasks.value ?? []);
  const attempts = useAttempts(base, executions);
  const byId = new Map(executions.map((execution) => [execution.task_id, execution]));
  const current =
    (selected === undefined ? undefined : byId.get(selected)) ??
    executions.find((execution) => execution.status === "failed") ??
    executions.find((execution) => execution.state === "running") ??
    executions[0];
  const value = run.value;
  const select = (taskId: string, attempt?: number) => {
    setSelected(taskId);
    setAttemptShown(attempt);
    setLine(undefined);
    replaceRunSelection({ task: taskId, attempt });
  };
  const earlierAttempt =
    current && attemptShown !== undefined && attemptShown < current.attempt ? attemptShown : undefined;
  const selectLine = (chosen: number | undefined) => {
    if (!current) return;
    setLine(chosen);
    replaceRunSelection({ task: current.task_id, attempt: earlierAttempt, line: chosen });
  };
  // Said until the person picks something else.
  const missingLink = missingSelection(
    selected === linked.task && attemptShown === linked.attempt ? linked : {},
    new Map(executions.map((execution) => [execution.task_id, execution.attempt])),
    current?.task_id,
  );
  const retryable =
    value?.state === "complete" && (value.status === "failed" || value.status === "cancelled");
  const cancelling = value !== undefined && isCancelling(value, cancelAnnounced);
  const cancellation = value && cancellationOf(value);
  // The failing task's log (its last lines) starts in view on a failed run; so does a linked task's log.
  const failedLog =
    value?.status === "failed" && current?.status === "failed" && earlierAttempt === undefined;

  useEffect(() => {
    if (landed.current || !value || !current) return;
    landed.current = true;
    const linkedHere = linked.task !== undefined && linked.task === current.task_id;
    if (linkedHere || (linked.task === undefined && failedLog))
      logSection.current?.scrollIntoView({ block: "end" });
  }, [value, current]);

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
            class={`pill pill-${cancelling ? "cancelling" : outcome(value.state, value.status)}`}
            data-testid="run-state"
            data-status={value.status}
          >
            {cancelling ? "cancelling" : value.state}
          </span>
        )}
        {value && value.state === "complete" && <StatusPill value={value.status} />}
        <div class="actions">
          {value && value.state !== "complete" && (
            <button
              type="button"
              class="warn"
              disabled={cancelling}
              title={cancelling ? "Cancellation was asked; the run ends once its tasks stop" : undefined}
              onClick={() => act(() => api("DELETE", base))}
            >
              {cancelling ? "Cancelling…" : "Cancel run"}
            </button>
          )}
          {value && (
            <button
              type="button"
              title="Start a new run of this pipeline with this run's variables"
              onClick={() => setStartingAgain(true)}
            >
              Run again
            </button>
          )}
          {retryable && (
            <button
              type="button"
              class="primary"
              title="Run this run's failed and cancelled tasks again, in place"
              onClick={() =>
                act(async () => {
                  await api("POST", `${base}/retry`, "run");
                  run.reload();
                  tasks.reload();
                })
              }
            >
              Retry run
            </button>
          )}
        </div>
      </div>
      {startingAgain && value && (
        <StartRunDialog
          namespace={namespace}
          pipeline={pipeline}
          from={value}
          onClose={() => setStartingAgain(false)}
        />
      )}
      {value && (
        <p class="lead">
          <Link
            href={configPath(namespace, pipeline, value.pipeline_config_version)}
            title="This config version on the pipeline page"
          >
            Config v{value.pipeline_config_version}
          </Link>
          , {value.started ? "started " : "queued"}
          {value.started ? <Time at={value.started} /> : null} by {value.initiator?.user ?? "?"}
          {value.started
            ? `, ${value.state === "complete" ? "took" : "running for"} ${span(value.started, value.ended, now)}`
            : ""}
          .
        </p>
      )}
      {value && cancelling && <CancellingNote run={value} cancellation={cancellation} now={now} />}
      {value && (value.retries || value.concurrency_group || value.status_reason || cancellation) && (
        <ul class="facts" aria-label="Run details">
          {value.status_reason && (
            <li class="run-reason">
              <ReasonText reason={value.status_reason} />
            </li>
          )}
          {value.retries ? (
            <li data-testid="run-retries">
              retried {value.retries} time{value.retries === 1 ? "" : "s"}
            </li>
          ) : null}
          {value.concurrency_group && (
            <li>
              concurrency group <code>{value.concurrency_group}</code>
            </li>
          )}
          {cancellation && !cancelling && (
            <li data-testid="run-cancelled-by">
              cancellation {askedBy(value, cancellation)} <Time at={cancellation.requested} />
            </li>
          )}
        </ul>
      )}
      {tasks.value && missingLink && (
        <p class="error-note" role="alert" data-testid="missing-selection">
          {missingLink}
        </p>
      )}
      {value && <RunVariables run={value} />}
      <ErrorNote error={run.error ?? tasks.error ?? problem ?? attempts.error} />

      {executions.length > 0 && (
        <>
          <section aria-labelledby="run-graph-title">
            <h2 id="run-graph-title">Graph</h2>
            <DagGraph
              tasks={executions.map((execution) => execution.task)}
              executions={byId}
              selected={current?.task_id}
              onSelect={select}
            />
          </section>
          <section aria-labelledby="timeline-title">
            <h2 id="timeline-title">Timeline</h2>
            {value && (
              <Timeline
                run={value}
                executions={executions}
                attempts={attempts.byTask}
                now={now}
                onSelect={select}
              />
            )}
          </section>
          <section aria-labelledby="tasks-title">
            <h2 id="tasks-title">Tasks</h2>
            <div class="table-scroll">
              <table class="tasks">
                <thead>
                  <tr>
                    <th>Task</th>
                    <th>Status</th>
                    <th>Attempt</th>
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
                          onClick={() => select(execution.task_id)}
                        >
                          {execution.task_id}
                        </button>
                      </td>
                      <td>
                        <StatusPill value={outcome(execution.state, execution.status)} />
                        {retryCountdown(execution, now) && (
                          <span class="retrying">{retryCountdown(execution, now)}</span>
                        )}
                      </td>
                      <td>
                        {execution.attempt}
                        {execution.task.retries && (
                          <span class="muted"> of {execution.task.retries.limit + 1}</span>
                        )}
                      </td>
                      <td>{execution.exit_code ?? "–"}</td>
                      <td title={exactTime(execution.started)}>
                        {span(execution.started, execution.ended, now)}
                      </td>
                      <td class="reason">
                        <ReasonText reason={execution.status_reason} />
                      </td>
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
        <section aria-labelledby="log-title" class="log-section" ref={logSection}>
          <div class="section-head">
            <h2 id="log-title">
              Log of {current.task_id}{" "}
              <span class="muted" data-testid="log-attempt">
                attempt {earlierAttempt ?? current.attempt}
              </span>
            </h2>
            {current.attempt > 1 && (
              <select
                aria-label="Attempt"
                value={earlierAttempt ?? current.attempt}
                onChange={(event) => {
                  const chosen = Number((event.target as HTMLSelectElement).value);
                  const attempt = chosen < current.attempt ? chosen : undefined;
                  setAttemptShown(attempt);
                  setLine(undefined);
                  replaceRunSelection({ task: current.task_id, attempt });
                }}
              >
                {Array.from({ length: current.attempt }, (_, index) => index + 1).map((attempt) => (
                  <option key={attempt} value={attempt}>
                    {attemptOption(attempt, current, attempts.byTask.get(current.task_id))}
                  </option>
                ))}
              </select>
            )}
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
          {earlierAttempt !== undefined && (
            <EarlierAttempt
              attempt={attempts.byTask
                .get(current.task_id)
                ?.find((entry) => entry.attempt === earlierAttempt)}
            />
          )}
          <TaskLog
            execution={current}
            attempt={earlierAttempt}
            onFollowEnd={tasks.reload}
            startAtEnd={failedLog && line === undefined}
            selectedLine={line}
            onSelectLine={selectLine}
          />
        </section>
      )}
    </main>
  );
}

/** "attempt 1: failed, exit 3" for an earlier attempt; "attempt 2 (current)" for the current one. */
function attemptOption(
  attempt: number,
  execution: TaskExecution,
  attempts: TaskAttempt[] | undefined,
): string {
  if (attempt === execution.attempt) return `attempt ${attempt} (current)`;
  const kept = attempts?.find((entry) => entry.attempt === attempt);
  if (!kept) return `attempt ${attempt}`;
  return `attempt ${attempt}: ${kept.status}${kept.exit_code === null ? "" : `, exit ${kept.exit_code}`}`;
}

/** How an earlier attempt ended, above its log. */
function EarlierAttempt({ attempt }: { attempt: TaskAttempt | undefined }) {
  if (!attempt) return null;
  return (
    <p class="lead">
      Attempt {attempt.attempt} <StatusPill value={attempt.status} />
      {attempt.exit_code === null ? "" : ` exit ${attempt.exit_code}`}
      {attempt.started ? `, ran ${span(attempt.started, attempt.ended)}` : ""}
      {attempt.status_reason && (
        <>
          {" "}
          <ReasonText reason={attempt.status_reason} />
        </>
      )}
    </p>
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
