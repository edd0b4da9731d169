import type { PipelineControls } from "../domain/config-conversion.ts";
import type { PipelineConfig, Task } from "../domain/models.ts";
import type { ConfigState } from "../domain/states.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson } from "./json-columns.ts";
import { UNFINISHED_RUN_STATES } from "./runs-store.ts";
import type { PipelineConfigsTable } from "./schema.ts";

type ConfigRow = PipelineConfigsTable;

async function withTasks(db: GoferDb, rows: ConfigRow[]): Promise<PipelineConfig[]> {
  if (rows.length === 0) return [];
  const first = rows[0] as ConfigRow;
  const taskRows = await db
    .selectFrom("pipeline_tasks")
    .select(["version", "task_json"])
    .where("namespace_id", "=", first.namespace_id)
    .where("pipeline_id", "=", first.pipeline_id)
    .where(
      "version",
      "in",
      rows.map((row) => row.version),
    )
    .orderBy("version")
    .orderBy("position")
    .execute();
  const tasksByVersion = new Map<number, Record<string, Task>>();
  for (const row of taskRows) {
    const task = parseJson<Task>(row.task_json);
    const tasks = tasksByVersion.get(row.version) ?? {};
    tasks[task.id] = task;
    tasksByVersion.set(row.version, tasks);
  }
  return rows.map(({ controls_json, ...row }) => ({
    ...row,
    state: row.state as ConfigState,
    tasks: tasksByVersion.get(row.version) ?? {},
    ...parseNullableJson<PipelineControls>(controls_json),
  }));
}

// The extensions of v0 share one column, `null` when a version has none, so a v0 row stays exactly v0.
function controlsJson({ timeout, concurrency, subscriptions }: PipelineControls): string | null {
  const controls: PipelineControls = {
    ...(timeout !== undefined && { timeout }),
    ...(concurrency !== undefined && { concurrency }),
    ...(subscriptions !== undefined && { subscriptions }),
  };
  return Object.keys(controls).length === 0 ? null : toJson(controls);
}

export async function listConfigs(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<PipelineConfig[]> {
  const rows = await db
    .selectFrom("pipeline_configs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .orderBy("version", "desc")
    .execute();
  return withTasks(db, rows);
}

/**
 * Version 0 means the latest registered version, as in v0. A version carries its extensions of v0 (`timeout`,
 * `concurrency`, `subscriptions`) when it declared them, as {@link listConfigs} and {@link getLiveConfig} do.
 */
export async function getConfig(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  version: number,
): Promise<PipelineConfig | undefined> {
  let query = db
    .selectFrom("pipeline_configs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId);
  query = version === 0 ? query.orderBy("version", "desc").limit(1) : query.where("version", "=", version);
  const row = await query.executeTakeFirst();
  return row ? (await withTasks(db, [row]))[0] : undefined;
}

export async function getLiveConfig(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<PipelineConfig | undefined> {
  const row = await db
    .selectFrom("pipeline_configs")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("state", "=", "live")
    .executeTakeFirst();
  return row ? (await withTasks(db, [row]))[0] : undefined;
}

export async function latestVersion(db: GoferDb, namespaceId: string, pipelineId: string): Promise<number> {
  const row = await db
    .selectFrom("pipeline_configs")
    .select((eb) => eb.fn.max("version").as("latest"))
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  return Number(row?.latest ?? 0);
}

/** Inserts a config (with its extensions of v0, if any) and its tasks; the caller runs it inside a transaction. */
export async function insertConfig(db: GoferDb, config: PipelineConfig, taskOrder: string[]): Promise<void> {
  const { tasks, timeout, concurrency, subscriptions, ...row } = config;
  await db
    .insertInto("pipeline_configs")
    .values({ ...row, controls_json: controlsJson({ timeout, concurrency, subscriptions }) })
    .execute();
  const taskRows = taskOrder.map((taskId, position) => ({
    namespace_id: config.namespace_id,
    pipeline_id: config.pipeline_id,
    version: config.version,
    task_id: taskId,
    position,
    task_json: toJson(tasks[taskId]),
  }));
  if (taskRows.length > 0) await db.insertInto("pipeline_tasks").values(taskRows).execute();
}

export async function setConfigState(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  version: number,
  state: ConfigState,
  deprecated?: number,
): Promise<void> {
  await db
    .updateTable("pipeline_configs")
    .set(deprecated === undefined ? { state } : { state, deprecated })
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("version", "=", version)
    .execute();
}

export async function deleteConfig(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  version: number,
): Promise<void> {
  await db
    .deleteFrom("pipeline_configs")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("version", "=", version)
    .execute();
}

export async function configHasUnfinishedRuns(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  version: number,
): Promise<boolean> {
  const row = await db
    .selectFrom("runs")
    .select("run_id")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("pipeline_config_version", "=", version)
    .where("state", "in", UNFINISHED_RUN_STATES)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
