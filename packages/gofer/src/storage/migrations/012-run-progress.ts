import type { Kysely } from "kysely";
import type { DialectName } from "../dialect.ts";

/**
 * The run loop asks, after every task completion, whether any task of the run is still unfinished. Without this
 * index that question walks every task of the run (the primary key leads with the run, not the state), which makes
 * a run of n tasks cost n² row reads; with it, it is one probe per unfinished state.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName = "sqlite"): Promise<void> {
  await db.schema
    .createIndex("task_executions_by_state")
    .on("task_executions")
    .columns(["namespace_id", "pipeline_id", "run_id", "state"])
    .execute();
}
