import { type Kysely, sql } from "kysely";
import type { DialectName } from "../dialect.ts";

/**
 * Indexes that keep the run loop's cost per step flat however much work there is (each is read once per task
 * completion or run completion, so a scan there makes the whole workload quadratic):
 * - `task_executions_by_state`: whether any task of a run is unfinished, asked after every task completion. The
 *   primary key leads with the run but not the state, so without it the question walks every task of the run.
 * - `runs_pending_pipelines`: admission skips from one pipeline with pending runs to the next, one probe each,
 *   instead of reading the whole queue.
 * - `runs_pending_groups`: likewise from one concurrency group's oldest pending run to the next group's.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName = "sqlite"): Promise<void> {
  await db.schema
    .createIndex("task_executions_by_state")
    .on("task_executions")
    .columns(["namespace_id", "pipeline_id", "run_id", "state"])
    .execute();
  await db.schema
    .createIndex("runs_pending_pipelines")
    .on("runs")
    .columns(["state", "namespace_id", "pipeline_id"])
    .execute();
  await sql`CREATE INDEX runs_pending_groups ON runs (state, namespace_id, concurrency_group, seq) WHERE concurrency_group IS NOT NULL`.execute(
    db,
  );
}
