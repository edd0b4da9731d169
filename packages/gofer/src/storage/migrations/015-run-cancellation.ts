import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * A run being cancelled records who asked, when, and the grace period its running tasks were given, so the API
 * can say "cancelling, requested by …, tasks killed in 8 s" while the tasks stop, and still after a restart.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema.alterTable("runs").addColumn("cancellation_json", t.text).execute();
}
