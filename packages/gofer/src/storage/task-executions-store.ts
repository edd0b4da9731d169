import type { Selectable } from "kysely";
import type { StatusReason, Task, TaskAttempt, TaskExecution, Variable } from "../domain/models.ts";
import type {
  TaskExecutionState,
  TaskExecutionStatus,
  TaskExecutionStatusReasonType,
} from "../domain/states.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
import type { RunKey } from "./runs-store.ts";
import type { TaskExecutionsTable } from "./schema.ts";

export interface StoredTaskExecution extends Omit<TaskExecution, "retry_at"> {
  container_id: string | null;
  /** Set once the task was asked to stop: the description its cancellation will carry. */
  stop_requested: string | null;
  /** While waiting out a retry delay: when the next attempt starts. */
  retry_at: number | null;
}

function toTaskExecution(row: Selectable<TaskExecutionsTable>): StoredTaskExecution {
  const { task_json, status_reason_json, variables_json, ...rest } = row;
  return {
    ...rest,
    task: parseJson<Task>(task_json),
    state: row.state as TaskExecutionState,
    status: row.status as TaskExecutionStatus,
    status_reason: parseNullableJson<StatusReason<TaskExecutionStatusReasonType>>(status_reason_json),
    variables: parseJson<Variable[]>(variables_json),
    logs_expired: row.logs_expired === 1,
    logs_removed: row.logs_removed === 1,
  };
}

export function publicTaskExecution(execution: StoredTaskExecution): TaskExecution {
  const { container_id: _container, stop_requested: _stop, retry_at, ...rest } = execution;
  return { ...rest, ...(retry_at !== null && { retry_at }) };
}

export async function listTaskExecutions(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  runId: number,
): Promise<StoredTaskExecution[]> {
  const rows = await db
    .selectFrom("task_executions")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("run_id", "=", runId)
    .orderBy("created")
    .orderBy("task_id")
    .execute();
  return rows.map(toTaskExecution);
}

/** Most ids one statement binds: far below SQLite's and PostgreSQL's limits on bound parameters. */
const IDS_PER_STATEMENT = 500;

/**
 * The named task executions of one run (those that exist), in no particular order: what the run loop reads when
 * a task completes, so that it touches the tasks that completion concerns rather than the whole run.
 */
export async function getTaskExecutions(
  db: GoferDb,
  run: RunKey,
  taskIds: readonly string[],
): Promise<StoredTaskExecution[]> {
  const found: StoredTaskExecution[] = [];
  for (let from = 0; from < taskIds.length; from += IDS_PER_STATEMENT) {
    const rows = await db
      .selectFrom("task_executions")
      .selectAll()
      .where("namespace_id", "=", run.namespace_id)
      .where("pipeline_id", "=", run.pipeline_id)
      .where("run_id", "=", run.run_id)
      .where("task_id", "in", taskIds.slice(from, from + IDS_PER_STATEMENT))
      .execute();
    found.push(...rows.map(toTaskExecution));
  }
  return found;
}

/**
 * Whether any task of the run is not complete yet. One index probe per unfinished state
 * (`task_executions_by_state`), so asking after every completion costs the same in a run of 10 tasks or 1,000.
 */
export async function hasUnfinishedTasks(db: GoferDb, run: RunKey): Promise<boolean> {
  const row = await db
    .selectFrom("task_executions")
    .select("task_id")
    .where("namespace_id", "=", run.namespace_id)
    .where("pipeline_id", "=", run.pipeline_id)
    .where("run_id", "=", run.run_id)
    .where("state", "in", ["waiting", "processing", "running"])
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function getTaskExecution(
  db: GoferDb,
  key: TaskExecutionKey,
): Promise<StoredTaskExecution | undefined> {
  const row = await db
    .selectFrom("task_executions")
    .selectAll()
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .where("task_id", "=", key.task_id)
    .executeTakeFirst();
  return row && toTaskExecution(row);
}

export async function insertTaskExecutions(db: GoferDb, executions: StoredTaskExecution[]): Promise<void> {
  if (executions.length === 0) return;
  await db
    .insertInto("task_executions")
    .values(
      executions.map(({ task, status_reason, variables, ...rest }) => ({
        ...rest,
        task_json: toJson(task),
        status_reason_json: toNullableJson(status_reason),
        variables_json: toJson(variables),
        logs_expired: rest.logs_expired ? 1 : 0,
        logs_removed: rest.logs_removed ? 1 : 0,
      })),
    )
    .execute();
}

export type TaskExecutionUpdate = Partial<{
  state: TaskExecutionState;
  status: TaskExecutionStatus;
  status_reason: StatusReason<TaskExecutionStatusReasonType> | null;
  started: number;
  ended: number;
  exit_code: number | null;
  variables: Variable[];
  container_id: string | null;
  stop_requested: string | null;
  logs_removed: boolean;
  attempt: number;
  retry_at: number | null;
}>;

export async function updateTaskExecution(
  db: GoferDb,
  key: TaskExecutionKey,
  update: TaskExecutionUpdate,
): Promise<void> {
  const { status_reason, variables, logs_removed, ...rest } = update;
  await db
    .updateTable("task_executions")
    .set({
      ...rest,
      ...(status_reason !== undefined && { status_reason_json: toNullableJson(status_reason) }),
      ...(variables !== undefined && { variables_json: toJson(variables) }),
      ...(logs_removed !== undefined && { logs_removed: logs_removed ? 1 : 0 }),
    })
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .where("task_id", "=", key.task_id)
    .execute();
}

/**
 * Keeps the execution's current attempt in `task_attempts` and makes the row its next attempt, waiting (until
 * `retryAt`, when given). Runs in the caller's transaction, so a crash leaves either the old attempt running its
 * course or the new one waiting, never both.
 */
export async function archiveAttempt(
  db: GoferDb,
  ended: StoredTaskExecution,
  endedAt: number,
  retryAt: number | null,
): Promise<void> {
  await db
    .insertInto("task_attempts")
    .values({
      namespace_id: ended.namespace_id,
      pipeline_id: ended.pipeline_id,
      run_id: ended.run_id,
      task_id: ended.task_id,
      attempt: ended.attempt,
      started: ended.started,
      ended: endedAt,
      exit_code: ended.exit_code,
      status: ended.status,
      status_reason_json: toNullableJson(ended.status_reason),
    })
    .execute();
  await updateTaskExecution(db, ended, {
    state: "waiting",
    status: "unknown",
    status_reason: null,
    started: 0,
    ended: 0,
    exit_code: null,
    container_id: null,
    stop_requested: null,
    attempt: ended.attempt + 1,
    retry_at: retryAt,
  });
}

/** The earlier attempts of a task execution, oldest first (the current one is the execution itself). */
export async function listTaskAttempts(db: GoferDb, key: TaskExecutionKey): Promise<TaskAttempt[]> {
  const rows = await db
    .selectFrom("task_attempts")
    .selectAll()
    .where("namespace_id", "=", key.namespace_id)
    .where("pipeline_id", "=", key.pipeline_id)
    .where("run_id", "=", key.run_id)
    .where("task_id", "=", key.task_id)
    .orderBy("attempt")
    .execute();
  return rows.map((row) => ({
    attempt: row.attempt,
    started: row.started,
    ended: row.ended,
    exit_code: row.exit_code,
    status: row.status as TaskExecutionStatus,
    status_reason: parseNullableJson<StatusReason<TaskExecutionStatusReasonType>>(row.status_reason_json),
  }));
}

/** Task executions being started or running, across every run. */
export async function countRunningTaskExecutions(db: GoferDb): Promise<number> {
  const row = await db
    .selectFrom("task_executions")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("state", "in", ["processing", "running"])
    .executeTakeFirst();
  return Number(row?.count ?? 0);
}
