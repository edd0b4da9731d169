import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * Several servers (replicas) on one PostgreSQL database: each registers itself and its heartbeat in `replicas`,
 * and the one holding the `work` lease in `leases` runs the work (run loop, extensions, retention). The tables
 * exist on SQLite too, where one server is always the only replica and never writes them.
 *
 * `extensions.runtime_sealed`: where the running container of an extension is and the secret it answers to,
 * encrypted with the secret store's key, so a replica taking over adopts a healthy extension instead of
 * restarting it.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema
    .createTable("replicas")
    .addColumn("replica_id", t.text, (c) => c.primaryKey())
    .addColumn("url", t.text, (c) => c.notNull())
    .addColumn("external_events_url", t.text)
    .addColumn("hostname", t.text, (c) => c.notNull())
    .addColumn("pid", t.integer, (c) => c.notNull())
    .addColumn("version", t.text, (c) => c.notNull())
    .addColumn("started", t.integer, (c) => c.notNull())
    .addColumn("heartbeat", t.integer, (c) => c.notNull())
    .addColumn("stopped", t.integer, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable("leases")
    .addColumn("name", t.text, (c) => c.primaryKey())
    .addColumn("holder", t.text, (c) => c.notNull())
    .addColumn("term", t.integer, (c) => c.notNull())
    .addColumn("acquired", t.integer, (c) => c.notNull())
    .addColumn("renewed", t.integer, (c) => c.notNull())
    .addColumn("expires", t.integer, (c) => c.notNull())
    .addColumn("serving", t.integer, (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema.alterTable("extensions").addColumn("runtime_sealed", t.blob).execute();
}
