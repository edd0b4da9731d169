import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Object metadata: one table for pipeline, run and extension objects, told apart by `owner`. The scope columns
 * that do not apply are NULL, and SQLite does not check a foreign key with a NULL column, so one table still
 * cascades: deleting a pipeline (or its namespace) deletes its pipeline and run objects' rows, deleting a run
 * deletes its objects' rows. The bytes live in files named by `file`, never by the key.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await t
    .withInsertionOrder(db.schema.createTable("objects"))
    .addColumn("owner", t.text, (c) => c.notNull())
    .addColumn("key", t.text, (c) => c.notNull())
    .addColumn("namespace_id", t.text)
    .addColumn("pipeline_id", t.text)
    .addColumn("run_id", t.integer)
    .addColumn("extension_id", t.text)
    .addColumn("file", t.text, (c) => c.notNull())
    .addColumn("size", t.integer, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint("objects_pk", ["owner", "key"])
    .addForeignKeyConstraint(
      "objects_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .addForeignKeyConstraint(
      "objects_run_fk",
      ["namespace_id", "pipeline_id", "run_id"],
      "runs",
      ["namespace_id", "pipeline_id", "run_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema
    .createIndex("objects_by_run")
    .on("objects")
    .columns(["namespace_id", "pipeline_id", "run_id"])
    .execute();
}
