import type { Kysely } from "kysely";

/**
 * A task asked to stop records why, so a restart during the grace period still ends it `cancelled` with that
 * description (and asks the container to stop again) instead of reading its exit as a failure.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable("task_executions").addColumn("stop_requested", "text").execute();
}
