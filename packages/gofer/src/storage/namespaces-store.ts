import type { Namespace } from "../domain/models.ts";
import type { GoferDb } from "./database.ts";

export async function listNamespaces(db: GoferDb): Promise<Namespace[]> {
  return db.selectFrom("namespaces").selectAll().orderBy("id").execute();
}

export async function getNamespace(db: GoferDb, id: string): Promise<Namespace | undefined> {
  return db.selectFrom("namespaces").selectAll().where("id", "=", id).executeTakeFirst();
}

/** Returns false when the id is taken. */
export async function insertNamespace(db: GoferDb, namespace: Namespace): Promise<boolean> {
  const result = await db
    .insertInto("namespaces")
    .values(namespace)
    .onConflict((c) => c.doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function updateNamespace(
  db: GoferDb,
  id: string,
  changes: { name?: string; description?: string; modified: number },
): Promise<Namespace | undefined> {
  await db.updateTable("namespaces").set(changes).where("id", "=", id).execute();
  return getNamespace(db, id);
}

/**
 * Takes the database's write lock by rewriting the row unchanged; false when the namespace does not exist.
 * A delete calls it first. Kysely begins SQLite transactions DEFERRED, so a transaction that read first would
 * hold only a read snapshot: on another connection a run start could commit between that read and the delete
 * (and the delete would then fail with SQLITE_BUSY instead of answering 409). Writing first makes the check
 * and the delete one write that no run start comes between. Within one server the single connection already
 * runs one transaction at a time; this keeps the guarantee where it does not.
 */
export async function lockNamespace(db: GoferDb, id: string): Promise<boolean> {
  const result = await db
    .updateTable("namespaces")
    .set((eb) => ({ modified: eb.ref("modified") }))
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deleteNamespace(db: GoferDb, id: string): Promise<boolean> {
  const result = await db.deleteFrom("namespaces").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
