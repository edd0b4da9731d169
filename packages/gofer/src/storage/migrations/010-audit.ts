import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * The audit trail: one row per API call that may change something, written in the transaction of the change
 * (see storage/audited-dialect.ts). Rows are only ever added, and removed by retention; `request_id` is unique,
 * so a second row for one call cannot be committed.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("audit")
    .addColumn("id", t.integer, t.generatedKey)
    .addColumn("time", t.integer, (c) => c.notNull())
    .addColumn("request_id", t.text, (c) => c.notNull().unique())
    .addColumn("token_id", t.text)
    .addColumn("user", t.text, (c) => c.notNull())
    .addColumn("method", t.text, (c) => c.notNull())
    .addColumn("operation", t.text, (c) => c.notNull())
    .addColumn("route", t.text, (c) => c.notNull())
    .addColumn("target", t.text, (c) => c.notNull())
    .addColumn("outcome", t.text, (c) => c.notNull())
    .addColumn("status", t.integer, (c) => c.notNull())
    .addColumn("error_code", t.text)
    .addColumn("client_address", t.text, (c) => c.notNull())
    .addColumn("forwarded_for", t.text)
    .addColumn("forwarded_by", t.text)
    .execute();
  await db.schema.createIndex("audit_by_time").on("audit").column("time").execute();
  await db.schema.createIndex("audit_by_user").on("audit").columns(["user", "id"]).execute();
  await db.schema.createIndex("audit_by_target").on("audit").column("target").execute();
}
