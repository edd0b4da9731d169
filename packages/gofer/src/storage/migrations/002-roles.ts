import type { Kysely } from "kysely";

/**
 * Roles for token permissions. Permissions are one JSON column: they are always read and written whole with
 * their role. The expiry index serves the sweep that deletes expired tokens.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable("roles")
    .addColumn("id", "text", (c) => c.primaryKey())
    .addColumn("description", "text", (c) => c.notNull())
    .addColumn("permissions_json", "text", (c) => c.notNull())
    .addColumn("system_role", "integer", (c) => c.notNull())
    .execute();
  await db.schema.createIndex("tokens_expires").on("tokens").column("expires").execute();
}
