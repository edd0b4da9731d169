import type { Kysely } from "kysely";
import type { DialectName } from "../dialect.ts";

/**
 * Indexes that keep the work done per run, per scrape and per boot independent of how many runs are stored
 * (measured by bench/api-load.bench.ts and bench/startup.bench.ts over 100,000 runs):
 * - retention looks for the task executions whose logs are still kept, below the newest runs of a pipeline: a
 *   small window (the runs that just aged out), instead of every older run;
 * - object expiry looks for a pipeline's runs that still hold their objects, and run-token retirement for any
 *   run that does: again the newest few runs, not all of them;
 * - retention deletes the config versions no stored run executed: one probe per version, not every run;
 * - the metrics and the replica listing count task executions in flight across every run.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName = "sqlite"): Promise<void> {
  await db.schema
    .createIndex("task_executions_by_logs_expired")
    .on("task_executions")
    .columns(["namespace_id", "pipeline_id", "logs_expired", "run_id"])
    .execute();
  await db.schema
    .createIndex("runs_by_objects_expired")
    .on("runs")
    .columns(["store_objects_expired", "namespace_id", "pipeline_id", "run_id"])
    .execute();
  await db.schema
    .createIndex("runs_by_config_version")
    .on("runs")
    .columns(["namespace_id", "pipeline_id", "pipeline_config_version"])
    .execute();
  await db.schema
    .createIndex("task_executions_across_runs_by_state")
    .on("task_executions")
    .column("state")
    .execute();
}
