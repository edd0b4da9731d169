/** Extension registrations: what an admin installed, so the server can start it again at every boot. */
import type { RegistryAuth } from "@gofer/sdk";
import type { Selectable } from "kysely";
import type { GoferDb } from "./database.ts";
import { parseJson, parseNullableJson, toJson, toNullableJson } from "./json-columns.ts";
import type { ExtensionsTable } from "./schema.ts";

export type RegistrationStatus = "enabled" | "disabled";

export interface StoredExtension {
  extension_id: string;
  image: string;
  registry_auth: RegistryAuth | null;
  /** As given at install; values may be `global_secret{{key}}` references, resolved at each start. */
  settings: Record<string, string>;
  additional_roles: string[];
  status: RegistrationStatus;
  token_id: string | null;
  created: number;
  modified: number;
}

const toStored = (row: Selectable<ExtensionsTable>): StoredExtension => ({
  extension_id: row.extension_id,
  image: row.image,
  registry_auth: parseNullableJson<RegistryAuth>(row.registry_auth_json),
  settings: parseJson<Record<string, string>>(row.settings_json),
  additional_roles: parseJson<string[]>(row.additional_roles_json),
  status: row.status === "disabled" ? "disabled" : "enabled",
  token_id: row.token_id,
  created: row.created,
  modified: row.modified,
});

export async function listExtensions(db: GoferDb): Promise<StoredExtension[]> {
  const rows = await db.selectFrom("extensions").selectAll().orderBy("extension_id").execute();
  return rows.map(toStored);
}

export async function getExtension(db: GoferDb, id: string): Promise<StoredExtension | undefined> {
  const row = await db.selectFrom("extensions").selectAll().where("extension_id", "=", id).executeTakeFirst();
  return row && toStored(row);
}

/** False when an extension with this id is already installed. */
export async function insertExtension(db: GoferDb, extension: StoredExtension): Promise<boolean> {
  const result = await db
    .insertInto("extensions")
    .values({
      extension_id: extension.extension_id,
      image: extension.image,
      registry_auth_json: toNullableJson(extension.registry_auth),
      settings_json: toJson(extension.settings),
      additional_roles_json: toJson(extension.additional_roles),
      status: extension.status,
      token_id: extension.token_id,
      created: extension.created,
      modified: extension.modified,
    })
    .onConflict((conflict) => conflict.column("extension_id").doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
}

export async function updateExtension(
  db: GoferDb,
  id: string,
  fields: { status?: RegistrationStatus; token_id?: string | null },
): Promise<void> {
  await db
    .updateTable("extensions")
    .set({ ...fields, modified: Date.now() })
    .where("extension_id", "=", id)
    .execute();
}

/** Deletes the registration; its subscriptions go with it (foreign key cascade). */
export async function deleteExtension(db: GoferDb, id: string): Promise<void> {
  await db.deleteFrom("extensions").where("extension_id", "=", id).execute();
}

/** Records (or, with null, forgets) the sealed runtime of the extension's current container. */
export async function saveExtensionRuntime(
  db: GoferDb,
  id: string,
  sealed: Uint8Array | null,
): Promise<void> {
  await db
    .updateTable("extensions")
    .set({ runtime_sealed: sealed === null ? null : Buffer.from(sealed) })
    .where("extension_id", "=", id)
    .execute();
}

export async function getExtensionRuntime(db: GoferDb, id: string): Promise<Uint8Array | null> {
  const row = await db
    .selectFrom("extensions")
    .select("runtime_sealed")
    .where("extension_id", "=", id)
    .executeTakeFirst();
  return row?.runtime_sealed ?? null;
}
