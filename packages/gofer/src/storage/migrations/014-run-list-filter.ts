import type { Kysely } from "kysely";
import type { DialectName } from "../dialect.ts";

/**
 * A pipeline's runs in one state with one status, by id: the run list narrowed by `status` (failed runs, say)
 * reads one range of this index, newest or oldest first, instead of every run of the pipeline to find the few
 * that match.
 */
export async function up(db: Kysely<unknown>, _dialect: DialectName = "sqlite"): Promise<void> {
  await db.schema
    .createIndex("runs_by_outcome")
    .on("runs")
    .columns(["namespace_id", "pipeline_id", "state", "status", "run_id"])
    .execute();
}
