import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Roles for token permissions. Permissions are one JSON column: they are always read and written whole with
 * their role. The expiry index serves the sweep that deletes expired tokens.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("roles")
    .addColumn("id", t.text, (c) => c.primaryKey())
    .addColumn("description", t.text, (c) => c.notNull())
    .addColumn("permissions_json", t.text, (c) => c.notNull())
    .addColumn("system_role", t.integer, (c) => c.notNull())
    .execute();
  await db.schema.createIndex("tokens_expires").on("tokens").column("expires").execute();
}
