import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Secrets live in the main database, in tables of their own: one file to back up and one transaction for key
 * rotation. `value` is nonce ‖ AES-256-GCM ciphertext ‖ tag; nothing in clear besides the key names. Pipeline
 * secrets cascade with their pipeline so a deleted pipeline leaves no ciphertext behind. `secret_store_meta`
 * holds the key check value that lets boot refuse a wrong key instead of failing at the first task.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("pipeline_secrets")
    .addColumn("namespace_id", t.text, (c) => c.notNull())
    .addColumn("pipeline_id", t.text, (c) => c.notNull())
    .addColumn("key", t.text, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("value", t.blob, (c) => c.notNull())
    .addPrimaryKeyConstraint("pipeline_secrets_pk", ["namespace_id", "pipeline_id", "key"])
    .addForeignKeyConstraint(
      "pipeline_secrets_pipeline_fk",
      ["namespace_id", "pipeline_id"],
      "pipelines",
      ["namespace_id", "pipeline_id"],
      (c) => c.onDelete("cascade"),
    )
    .execute();

  await db.schema
    .createTable("global_secrets")
    .addColumn("key", t.text, (c) => c.primaryKey())
    .addColumn("namespaces_json", t.text, (c) => c.notNull())
    .addColumn("created", t.integer, (c) => c.notNull())
    .addColumn("value", t.blob, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable("secret_store_meta")
    .addColumn("id", t.integer, (c) => c.primaryKey())
    .addColumn("key_check", t.blob, (c) => c.notNull())
    .execute();
}
