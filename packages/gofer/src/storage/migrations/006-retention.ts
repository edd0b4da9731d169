import { type Kysely, sql } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Run ids come from a per-pipeline counter rather than the largest stored id: retention deletes runs, and an id
 * must never be handed out twice (logs, objects and events name runs by id). Backfilled from the runs already
 * stored; the counter goes with its pipeline, as the runs do.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("run_counters")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("last_run_id", t.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint("run_counters_pk", ["namespace_id", "pipeline_id"])
    .addForeignKeyConstraint(
      "run_counters_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await sql`insert into run_counters (namespace_id, pipeline_id, last_run_id)
    select namespace_id, pipeline_id, max(run_id) from runs group by namespace_id, pipeline_id`.execute(db);
  // Retention finds a pipeline's complete runs newest first.
  await db.schema
    .createIndex("runs_by_pipeline_state")
    .on("runs")
    .columns(["namespace_id", "pipeline_id", "state", "run_id"])
    .execute();
}
