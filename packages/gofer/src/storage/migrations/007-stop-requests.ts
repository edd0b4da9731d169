import type { Kysely } from "kysely";
import { type DialectName, dialectTypes } from "../dialect.ts";

/**
 * A task asked to stop records why, so a restart during the grace period still ends it `cancelled` with that
 * description (and asks the container to stop again) instead of reading its exit as a failure.
 */
export async function up(db: Kysely<unknown>, dialect: DialectName = "sqlite"): Promise<void> {
  const t = dialectTypes(dialect);
  await db.schema.alterTable("task_executions").addColumn("stop_requested", t.text).execute();
}
