import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Run notifications: targets of a namespace (`pipeline_id` null) or of a pipeline, deleted with it; their
 * deliveries, deleted with the target. A delivery is made once per target and Gofer event (the unique key), so
 * hearing an event twice (live, and again while catching up after a restart) sends it once.
 *
 * `url_sealed` and `secret_sealed` are encrypted with the secret store's key: a webhook URL is often a secret
 * itself. `notification_progress` holds one row, the newest event id whose deliveries were made, from which the
 * server catches up at start on events it stored but did not get to.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("notification_targets")
    .addColumn("notification_id", t.text, (c) => c.primaryKey())
    .addColumn("namespace_id", t.text, (c) => c.notNull().references("namespaces.id").onDelete("cascade"))
    .addColumn("pipeline_id", t.text)
    .addColumn("url_sealed", t.blob, (c) => c.notNull())
    .addColumn("url_origin", t.text, (c) => c.notNull())
    .addColumn("format", t.text, (c) => c.notNull())
    .addColumn("events_json", t.text, (c) => c.notNull())
    .addColumn("secret_sealed", t.blob)
    .addColumn("description", t.text, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("state_reason_json", t.text)
    .addColumn("failures_in_a_row", t.integer, (c) => c.notNull().defaultTo(0))
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("modified", t.integer, (c) => c.notNull())
    // A namespace's target has no pipeline: a foreign key with a NULL column is not checked (SQL's MATCH SIMPLE).
    .addForeignKeyConstraint(
      "notification_targets_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema
    .createIndex("notification_targets_by_owner")
    .on("notification_targets")
    .columns(["namespace_id", "pipeline_id"])
    .execute();
  await db.schema
    .createTable("notification_deliveries")
    .addColumn("delivery_id", t.text, (c) => c.primaryKey())
    .addColumn("notification_id", t.text, (c) =>
      c.notNull().references("notification_targets.notification_id").onDelete("cascade"),
    )
    .addColumn("event", t.text, (c) => c.notNull())
    .addColumn("event_id", t.integer)
    .addColumn("pipeline_id", t.text)
    .addColumn("run_id", t.integer)
    .addColumn("task_execution_id", t.text)
    .addColumn("payload_json", t.text, (c) => c.notNull())
    .addColumn("state", t.text, (c) => c.notNull())
    .addColumn("state_reason", t.text)
    .addColumn("attempts_json", t.text, (c) => c.notNull())
    .addColumn("next_attempt", t.integer, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("completed", t.integer, (c) => c.notNull())
    .addUniqueConstraint("notification_deliveries_once_per_event", ["notification_id", "event_id"])
    .execute();
  await db.schema
    .createIndex("notification_deliveries_by_state")
    .on("notification_deliveries")
    .columns(["state", "next_attempt"])
    .execute();
  await db.schema
    .createTable("notification_progress")
    .addColumn("id", t.integer, (c) => c.primaryKey())
    .addColumn("last_event_id", t.integer, (c) => c.notNull())
    .execute();
}
