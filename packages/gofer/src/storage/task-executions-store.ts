import type { Selectable } from "kysely";
import type { StatusReason, Task, TaskExecution, Variable } from "../domain/models.ts";
import type {
  TaskExecutionState,
  TaskExecutionStatus,
  TaskExecutionStatusReasonType,
} from "../domain/states.ts";
import type { TaskExecutionKey } from "../domain/task-execution-key.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
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
