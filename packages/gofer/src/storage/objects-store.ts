/** Object metadata rows. The bytes are files the object store manages; a row names its file. */
import { sql } from "kysely";
import type { GoferDb } from "./database.ts";

/** Whose object it is. Pipeline and run objects cascade with their pipeline and run (see 004-objects). */
export type ObjectScope =
  | { kind: "pipeline"; namespace_id: string; pipeline_id: string }
  | { kind: "run"; namespace_id: string; pipeline_id: string; run_id: number }
  | { kind: "extension"; extension_id: string };

export interface ObjectRow {
  key: string;
  file: string;
  size: number;
  created: number;
}

/** The scope as one string, the first half of the primary key. Ids are validated identifiers: no `/` inside. */
export function ownerOf(scope: ObjectScope): string {
  switch (scope.kind) {
    case "pipeline":
      return `pipeline/${scope.namespace_id}/${scope.pipeline_id}`;
    case "run":
      return `run/${scope.namespace_id}/${scope.pipeline_id}/${scope.run_id}`;
    case "extension":
      return `extension/${scope.extension_id}`;
  }
}

function scopeColumns(scope: ObjectScope) {
  return {
    namespace_id: scope.kind === "extension" ? null : scope.namespace_id,
    pipeline_id: scope.kind === "extension" ? null : scope.pipeline_id,
    run_id: scope.kind === "run" ? scope.run_id : null,
    extension_id: scope.kind === "extension" ? scope.extension_id : null,
  };
}

export async function getObjectRow(
  db: GoferDb,
  scope: ObjectScope,
  key: string,
): Promise<ObjectRow | undefined> {
  return db
    .selectFrom("objects")
    .select(["key", "file", "size", "created"])
    .where("owner", "=", ownerOf(scope))
    .where("key", "=", key)
    .executeTakeFirst();
}

/** Deletes every row of a scope (an extension's objects, when it is uninstalled). */
export async function deleteOwnerRows(db: GoferDb, scope: ObjectScope): Promise<void> {
  await db.deleteFrom("objects").where("owner", "=", ownerOf(scope)).execute();
}

/** Oldest first: insertion order, which an overwrite resets (it is a new version of the object). */
export async function listObjectRows(db: GoferDb, scope: ObjectScope): Promise<ObjectRow[]> {
  return db
    .selectFrom("objects")
    .select(["key", "file", "size", "created"])
    .where("owner", "=", ownerOf(scope))
    .orderBy(sql`rowid`)
    .execute();
}

/**
 * Stores the row, replacing one with the same key (returned, so its file can go). Delete-then-insert gives
 * the new version a new rowid, so an overwritten object counts as the newest for eviction.
 */
export async function replaceObjectRow(
  db: GoferDb,
  scope: ObjectScope,
  row: ObjectRow,
): Promise<ObjectRow | undefined> {
  const previous = await getObjectRow(db, scope, row.key);
  if (previous) await deleteObjectRow(db, scope, row.key);
  await db
    .insertInto("objects")
    .values({ owner: ownerOf(scope), ...scopeColumns(scope), ...row })
    .execute();
  return previous;
}

export async function deleteObjectRow(db: GoferDb, scope: ObjectScope, key: string): Promise<boolean> {
  const result = await db
    .deleteFrom("objects")
    .where("owner", "=", ownerOf(scope))
    .where("key", "=", key)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Deletes all but the newest `keep` rows of the scope; returns the deleted ones. */
export async function trimObjectRows(db: GoferDb, scope: ObjectScope, keep: number): Promise<ObjectRow[]> {
  const rows = await listObjectRows(db, scope);
  const evicted = rows.slice(0, Math.max(0, rows.length - keep));
  for (const row of evicted) await deleteObjectRow(db, scope, row.key);
  return evicted;
}

/**
 * Runs of the pipeline whose objects are due to expire: complete, not yet expired, and older than the newest
 * `keep` runs.
 */
export async function listRunsToExpire(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  keep: number,
): Promise<number[]> {
  const newest = await db
    .selectFrom("runs")
    .select("run_id")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .orderBy("run_id", "desc")
    .limit(1)
    .offset(keep - 1)
    .executeTakeFirst();
  if (!newest) return [];
  const rows = await db
    .selectFrom("runs")
    .select("run_id")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("run_id", "<", newest.run_id)
    .where("state", "=", "complete")
    .where("store_objects_expired", "=", 0)
    .orderBy("run_id")
    .execute();
  return rows.map((row) => row.run_id);
}

/** Deletes the run's object rows and marks the run expired; returns the deleted rows. */
export async function expireRunObjectRows(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  runId: number,
): Promise<ObjectRow[]> {
  return db.transaction().execute(async (tx) => {
    const scope: ObjectScope = {
      kind: "run",
      namespace_id: namespaceId,
      pipeline_id: pipelineId,
      run_id: runId,
    };
    const rows = await listObjectRows(tx, scope);
    await tx.deleteFrom("objects").where("owner", "=", ownerOf(scope)).execute();
    await tx
      .updateTable("runs")
      .set({ store_objects_expired: 1 })
      .where("namespace_id", "=", namespaceId)
      .where("pipeline_id", "=", pipelineId)
      .where("run_id", "=", runId)
      .execute();
    return rows;
  });
}

/** Every content file the rows name, to tell stray files (from a crash mid-write) from live ones. */
export async function listObjectFiles(db: GoferDb): Promise<Set<string>> {
  const rows = await db.selectFrom("objects").select("file").execute();
  return new Set(rows.map((row) => row.file));
}
