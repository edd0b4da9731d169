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

export async function deleteNamespace(db: GoferDb, id: string): Promise<boolean> {
  const result = await db.deleteFrom("namespaces").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}
