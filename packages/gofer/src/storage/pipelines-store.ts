import type { PipelineMetadata } from "../domain/models.ts";
import type { PipelineState } from "../domain/states.ts";
import type { GoferDb } from "./database.ts";
import type { PipelinesTable } from "./schema.ts";

const toMetadata = (row: PipelinesTable): PipelineMetadata => ({ ...row, state: row.state as PipelineState });

export async function listPipelines(db: GoferDb, namespaceId: string): Promise<PipelineMetadata[]> {
  const rows = await db
    .selectFrom("pipelines")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .orderBy("pipeline_id")
    .execute();
  return rows.map(toMetadata);
}

export async function getPipeline(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<PipelineMetadata | undefined> {
  const row = await db
    .selectFrom("pipelines")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  return row && toMetadata(row);
}

/** Creates the metadata row on a pipeline's first registration; later registrations only touch `modified`. */
export async function upsertPipeline(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  now: number,
): Promise<void> {
  await db
    .insertInto("pipelines")
    .values({
      namespace_id: namespaceId,
      pipeline_id: pipelineId,
      created: now,
      modified: now,
      state: "active",
    })
    .onConflict((c) => c.columns(["namespace_id", "pipeline_id"]).doUpdateSet({ modified: now }))
    .execute();
}

export async function setPipelineState(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  state: PipelineState,
  now: number,
): Promise<void> {
  await db
    .updateTable("pipelines")
    .set({ state, modified: now })
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .execute();
}

/**
 * Takes the database's write lock by rewriting the row unchanged; false when the pipeline does not exist.
 * A delete calls it first. Kysely begins SQLite transactions DEFERRED, so a transaction that read first would
 * hold only a read snapshot: on another connection a run start could commit between that read and the delete
 * (and the delete would then fail with SQLITE_BUSY instead of answering 409). Writing first makes the check
 * and the delete one write that no run start comes between. Within one server the single connection already
 * runs one transaction at a time; this keeps the guarantee where it does not.
 */
export async function lockPipeline(db: GoferDb, namespaceId: string, pipelineId: string): Promise<boolean> {
  const result = await db
    .updateTable("pipelines")
    .set((eb) => ({ modified: eb.ref("modified") }))
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deletePipeline(db: GoferDb, namespaceId: string, pipelineId: string): Promise<boolean> {
  const result = await db
    .deleteFrom("pipelines")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Every pipeline of every namespace, as ids: what the boot sweep keeps files for. */
export async function listAllPipelineIds(
  db: GoferDb,
): Promise<{ namespace_id: string; pipeline_id: string }[]> {
  return db.selectFrom("pipelines").select(["namespace_id", "pipeline_id"]).execute();
}
