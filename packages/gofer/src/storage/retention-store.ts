/**
 * The queries retention prunes with. Each pipeline's pass is one transaction ({@link prunePipelineRows}), so a
 * run is never half-deleted and a log is never marked expired without the rest of its run; the files the
 * deleted or expired rows named are returned for the caller to delete once the transaction has committed.
 */
import type { GoferDb } from "./database.ts";

export interface PipelineKey {
  namespace_id: string;
  pipeline_id: string;
}

/** One task execution's log, named by what owns it. */
export interface LogOwner {
  run_id: number;
  task_id: string;
}

export interface RowRetention {
  /** Newest runs whose task logs are kept (by run id, whatever their state). */
  taskLogs: number;
  /** Newest config versions kept; live ones, the latest and those of stored runs are kept anyway. */
  configVersions: number;
  /** Most runs whose logs one pass expires, so one transaction never holds the database for long. */
  batch: number;
}

export interface PrunedRows {
  deletedRuns: number[];
  expiredLogRuns: number[];
  /** Logs of the deleted runs and of the runs whose logs expired: files to delete after the commit. */
  logs: LogOwner[];
  deletedVersions: number[];
}

export async function listPipelineKeys(db: GoferDb): Promise<PipelineKey[]> {
  return db
    .selectFrom("pipelines")
    .select(["namespace_id", "pipeline_id"])
    .orderBy("namespace_id")
    .orderBy("pipeline_id")
    .execute();
}

/**
 * Complete runs older than the pipeline's newest `keep` complete runs, oldest first, at most `limit`. Runs in
 * flight are never listed, however old.
 */
export async function listRunsPastRetention(
  db: GoferDb,
  pipeline: PipelineKey,
  keep: number,
  limit: number,
): Promise<{ run_id: number; store_objects_expired: boolean }[]> {
  const oldestKept = await db
    .selectFrom("runs")
    .select("run_id")
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("state", "=", "complete")
    .orderBy("run_id", "desc")
    .limit(1)
    .offset(keep - 1)
    .executeTakeFirst();
  if (!oldestKept) return [];
  const rows = await db
    .selectFrom("runs")
    .select(["run_id", "store_objects_expired"])
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("state", "=", "complete")
    .where("run_id", "<", oldestKept.run_id)
    .orderBy("run_id")
    .limit(limit)
    .execute();
  return rows.map((row) => ({ run_id: row.run_id, store_objects_expired: row.store_objects_expired === 1 }));
}

/**
 * Marks the runs' objects expired ahead of their deletion: the object store refuses uploads to an expired run
 * at commit, so once this is committed no new object row can appear that the run's delete would cascade away
 * while its file stayed behind.
 */
export async function closeRunObjects(db: GoferDb, pipeline: PipelineKey, runIds: number[]): Promise<void> {
  if (runIds.length === 0) return;
  await db
    .updateTable("runs")
    .set({ store_objects_expired: 1 })
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("run_id", "in", runIds)
    .execute();
}

/**
 * In one transaction: deletes the given runs (their task executions and object rows cascade), expires the
 * logs of complete runs beyond the newest `taskLogs` runs, and deletes the config versions nothing needs.
 */
export function prunePipelineRows(
  db: GoferDb,
  pipeline: PipelineKey,
  runIds: number[],
  retention: RowRetention,
): Promise<PrunedRows> {
  return db.transaction().execute(async (tx) => {
    const deletedRuns = await deleteCompleteRuns(tx, pipeline, runIds);
    const expired = await expireTaskLogs(tx, pipeline, retention);
    const deletedVersions = await deleteUnneededVersions(tx, pipeline, retention.configVersions);
    return {
      deletedRuns: deletedRuns.runIds,
      expiredLogRuns: expired.runIds,
      logs: [...deletedRuns.logs, ...expired.logs],
      deletedVersions,
    };
  });
}

async function deleteCompleteRuns(
  db: GoferDb,
  pipeline: PipelineKey,
  runIds: number[],
): Promise<{ runIds: number[]; logs: LogOwner[] }> {
  if (runIds.length === 0) return { runIds: [], logs: [] };
  const logs = await db
    .selectFrom("task_executions")
    .select(["run_id", "task_id"])
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("run_id", "in", runIds)
    .execute();
  const deleted = await db
    .deleteFrom("runs")
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("run_id", "in", runIds)
    .where("state", "=", "complete")
    .returning("run_id")
    .execute();
  const gone = new Set(deleted.map((row) => row.run_id));
  return { runIds: [...gone], logs: logs.filter((log) => gone.has(log.run_id)) };
}

/**
 * Runs older than the newest `taskLogs` runs lose their logs once they and every task execution in them are
 * complete: a task still writing keeps its file until a later pass.
 *
 * The candidates come from the task executions whose logs are still kept (`task_executions_by_logs_expired`),
 * not from a walk over the pipeline's runs: the pass after each completed run then reads the few runs that
 * just aged out, however many are stored. (Walking the runs with an EXISTS each, SQLite read every older run's
 * task executions once per run: quadratic in the runs stored, an hour and more at 100,000.)
 */
async function expireTaskLogs(
  db: GoferDb,
  pipeline: PipelineKey,
  retention: RowRetention,
): Promise<{ runIds: number[]; logs: LogOwner[] }> {
  const oldestKept = await db
    .selectFrom("runs")
    .select("run_id")
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .orderBy("run_id", "desc")
    .limit(1)
    .offset(retention.taskLogs - 1)
    .executeTakeFirst();
  if (!oldestKept) return { runIds: [], logs: [] };
  const runs = await db
    .selectFrom("task_executions as kept")
    .innerJoin("runs", (join) =>
      join
        .onRef("runs.namespace_id", "=", "kept.namespace_id")
        .onRef("runs.pipeline_id", "=", "kept.pipeline_id")
        .onRef("runs.run_id", "=", "kept.run_id"),
    )
    .select("kept.run_id")
    .distinct()
    .where("kept.namespace_id", "=", pipeline.namespace_id)
    .where("kept.pipeline_id", "=", pipeline.pipeline_id)
    .where("kept.logs_expired", "=", 0)
    .where("kept.run_id", "<", oldestKept.run_id)
    .where("runs.state", "=", "complete")
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("task_executions as unfinished")
            .select("unfinished.task_id")
            .whereRef("unfinished.namespace_id", "=", "kept.namespace_id")
            .whereRef("unfinished.pipeline_id", "=", "kept.pipeline_id")
            .whereRef("unfinished.run_id", "=", "kept.run_id")
            .where("unfinished.state", "!=", "complete"),
        ),
      ),
    )
    .orderBy("kept.run_id")
    .limit(retention.batch)
    .execute();
  const runIds = runs.map((run) => run.run_id);
  if (runIds.length === 0) return { runIds, logs: [] };
  const logs = await db
    .updateTable("task_executions")
    .set({ logs_expired: 1, logs_removed: 1 })
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("run_id", "in", runIds)
    .returning(["run_id", "task_id"])
    .execute();
  return { runIds, logs };
}

/**
 * Deletes versions older than the newest `keep`, except the live one and any a stored run executed (a run's
 * record names its version). The latest version is always among the newest, so version numbers, which count
 * up from the latest, are never reused. Deployments name versions without a foreign key: their rows stay, as
 * history. A version's tasks cascade with it.
 */
async function deleteUnneededVersions(db: GoferDb, pipeline: PipelineKey, keep: number): Promise<number[]> {
  const oldestKept = await db
    .selectFrom("pipeline_configs")
    .select("version")
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .orderBy("version", "desc")
    .limit(1)
    .offset(keep - 1)
    .executeTakeFirst();
  if (!oldestKept) return [];
  const deleted = await db
    .deleteFrom("pipeline_configs")
    .where("namespace_id", "=", pipeline.namespace_id)
    .where("pipeline_id", "=", pipeline.pipeline_id)
    .where("version", "<", oldestKept.version)
    .where("state", "!=", "live")
    // One probe of `runs_by_config_version` per candidate version; `version not in (every run's
    // version)` read all of the pipeline's runs after each completed run.
    .where((eb) =>
      eb.not(
        eb.exists(
          eb
            .selectFrom("runs")
            .select("runs.run_id")
            .whereRef("runs.namespace_id", "=", "pipeline_configs.namespace_id")
            .whereRef("runs.pipeline_id", "=", "pipeline_configs.pipeline_id")
            .whereRef("runs.pipeline_config_version", "=", "pipeline_configs.version"),
        ),
      ),
    )
    .returning("version")
    .execute();
  return deleted.map((row) => row.version);
}
