import type { Permission, Role } from "../domain/permissions.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, toJson } from "./json-columns.ts";
import type { RolesTable } from "./schema.ts";

const toRole = (row: RolesTable): Role => ({
  id: row.id,
  description: row.description,
  permissions: parseJson<Permission[]>(row.permissions_json),
  system_role: row.system_role === 1,
});

const fieldsOf = (role: Role): Omit<RolesTable, "id"> => ({
  description: role.description,
  permissions_json: toJson(role.permissions),
  system_role: role.system_role ? 1 : 0,
});

export async function listRoles(db: GoferDb): Promise<Role[]> {
  const rows = await db.selectFrom("roles").selectAll().orderBy("id").execute();
  return rows.map(toRole);
}

export async function getRole(db: GoferDb, id: string): Promise<Role | undefined> {
  const row = await db.selectFrom("roles").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toRole(row);
}

/** The roles among `ids` that exist; unknown ids are skipped. */
export async function getRoles(db: GoferDb, ids: string[]): Promise<Role[]> {
  if (ids.length === 0) return [];
  const rows = await db.selectFrom("roles").selectAll().where("id", "in", ids).execute();
  return rows.map(toRole);
}

/** False when a role with this id already exists. */
export async function insertRole(db: GoferDb, role: Role): Promise<boolean> {
  const result = await db
    .insertInto("roles")
    .values({ id: role.id, ...fieldsOf(role) })
    .onConflict((conflict) => conflict.column("id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function updateRole(db: GoferDb, role: Role): Promise<void> {
  await db.updateTable("roles").set(fieldsOf(role)).where("id", "=", role.id).execute();
}

export async function deleteRole(db: GoferDb, id: string): Promise<void> {
  await db.deleteFrom("roles").where("id", "=", id).execute();
}

/**
 * Writes the system roles as the code defines them. Replacing (not only inserting) keeps an upgraded server's
 * system roles in step with its code; nobody else can change them, so nothing is lost.
 */
export async function upsertSystemRoles(db: GoferDb, roles: Role[]): Promise<void> {
  for (const role of roles) {
    await db
      .insertInto("roles")
      .values({ id: role.id, ...fieldsOf(role) })
      .onConflict((conflict) => conflict.column("id").doUpdateSet(fieldsOf(role)))
      .execute();
  }
}
