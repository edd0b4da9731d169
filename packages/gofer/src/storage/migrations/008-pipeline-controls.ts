import { type Kysely, sql } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Timeouts, retries, retried runs, concurrency groups and declared subscriptions (extensions of v0):
 * - a pipeline config keeps its extensions in one JSON column (`null` for a v0 config);
 * - a run records how often it was retried, the concurrency group it resolved to and its timeout;
 * - a task execution knows its attempt and, while waiting out a retry delay, when the next one starts; earlier
 *   attempts are kept in `task_attempts`;
 * - a subscription remembers the config version that declared it (`null`: made through the API).
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema.alterTable("pipeline_configs").addColumn("controls_json", t.text).execute();
  await db.schema
    .alterTable("runs")
    .addColumn("retries", t.integer, (column) => column.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("runs").addColumn("concurrency_group", t.text).execute();
  // The run's timeout as its config said when it was accepted; the deadline is `started` plus this.
  await db.schema.alterTable("runs").addColumn("timeout_ms", t.integer).execute();
  await db.schema
    .alterTable("task_executions")
    .addColumn("attempt", t.integer, (column) => column.notNull().defaultTo(1))
    .execute();
  await db.schema.alterTable("task_executions").addColumn("retry_at", t.integer).execute();
  await db.schema
    .createTable("task_attempts")
    .addColumn("namespace_id", t.text, (column) => column.notNull())
    .addColumn("pipeline_id", t.text, (column) => column.notNull())
    .addColumn("run_id", t.integer, (column) => column.notNull())
    .addColumn("task_id", t.text, (column) => column.notNull())
    .addColumn("attempt", t.integer, (column) => column.notNull())
    .addColumn("started", t.integer, (column) => column.notNull())
    .addColumn("ended", t.integer, (column) => column.notNull())
    .addColumn("exit_code", t.integer)
    .addColumn("status", t.text, (column) => column.notNull())
    .addColumn("status_reason_json", t.text)
    .addPrimaryKeyConstraint("task_attempts_pk", [
      "namespace_id",
      "pipeline_id",
      "run_id",
      "task_id",
      "attempt",
    ])
    .addForeignKeyConstraint(
      "task_attempts_execution_fk",
      ["namespace_id", "pipeline_id", "run_id", "task_id"],
      "task_executions",
      ["namespace_id", "pipeline_id", "run_id", "task_id"],
      (constraint) => constraint.onDelete("cascade"),
    )
    .execute();
  await db.schema.alterTable("subscriptions").addColumn("declared_by_version", t.integer).execute();
  // Admission looks for the oldest unfinished run of a group.
  await sql`CREATE INDEX runs_concurrency_group ON runs (namespace_id, pipeline_id, concurrency_group, seq) WHERE concurrency_group IS NOT NULL`.execute(
    db,
  );
}
