import type { GoferDb } from "./database.ts";

export interface SystemState {
  bootstrap_token_created: boolean;
  ignore_pipeline_run_events: boolean;
  instance_id: string;
}

export async function getSystemState(db: GoferDb): Promise<SystemState> {
  const row = await db.selectFrom("system").selectAll().where("id", "=", 1).executeTakeFirstOrThrow();
  return {
    bootstrap_token_created: row.bootstrap_token_created === 1,
    ignore_pipeline_run_events: row.ignore_pipeline_run_events === 1,
    instance_id: row.instance_id,
  };
}

/** Claims the one-time bootstrap; false when it was already claimed (atomic, so two racing requests cannot both win). */
export async function claimBootstrap(db: GoferDb): Promise<boolean> {
  const result = await db
    .updateTable("system")
    .set({ bootstrap_token_created: 1 })
    .where("id", "=", 1)
    .where("bootstrap_token_created", "=", 0)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** The server-wide pause of new runs (`ignore_pipeline_run_events`); runs already started are not touched. */
export async function setRunsPaused(db: GoferDb, paused: boolean): Promise<void> {
  await db
    .updateTable("system")
    .set({ ignore_pipeline_run_events: paused ? 1 : 0 })
    .where("id", "=", 1)
    .execute();
}
