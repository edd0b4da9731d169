import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Extension registrations and pipeline subscriptions. A subscription belongs to both its pipeline and its
 * extension: deleting either (or the pipeline's namespace) deletes it. `token_id` names the extension's current
 * API token, so a restart can delete the previous one.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("extensions")
    .addColumn("extension_id", t.text, (c) => c.primaryKey())
    .addColumn("image", t.text, (c) => c.notNull())
    .addColumn("registry_auth_json", t.text)
    .addColumn("settings_json", t.text, (c) => c.notNull())
    .addColumn("additional_roles_json", t.text, (c) => c.notNull())
    .addColumn("status", t.text, (c) => c.notNull())
    .addColumn("token_id", t.text)
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("modified", t.integer, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable("subscriptions")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("extension_id", t.text, (c) => c.notNull())
    .addColumn("subscription_id", t.text, (c) => c.notNull())
    .addColumn("settings_json", t.text, (c) => c.notNull())
    .addColumn("status", t.text, (c) => c.notNull())
    .addColumn("status_reason_json", t.text)
    .addColumn("created", t.integer, (c) => c.notNull())
    .addPrimaryKeyConstraint("subscriptions_pk", [
      "namespace_id",
      "pipeline_id",
      "extension_id",
      "subscription_id",
    ])
    .addForeignKeyConstraint(
      "subscriptions_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .addForeignKeyConstraint(
      "subscriptions_extension_fk",
      ["extension_id"],
      "extensions",
      ["extension_id"],
      (fk) => fk.onDelete("cascade"),
    )
    .execute();
  await db.schema
    .createIndex("subscriptions_by_extension")
    .on("subscriptions")
    .column("extension_id")
    .execute();
}
