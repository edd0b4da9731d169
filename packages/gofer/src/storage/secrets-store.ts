/** Rows of the secret tables. Values arrive and leave encrypted; this module never sees a plaintext. */
import type { GoferDb } from "./database.ts";

export interface PipelineSecretRow {
  namespace_id: string;
  pipeline_id: string;
  key: string;
  created: number;
  value: Uint8Array;
}

export interface GlobalSecretRow {
  key: string;
  namespaces: string[];
  created: number;
  value: Uint8Array;
}

/** Inserts, or replaces when `replace`; returns false when the key exists and `replace` is not set. */
export async function putPipelineSecretRow(
  db: GoferDb,
  row: PipelineSecretRow,
  replace: boolean,
): Promise<boolean> {
  const result = await db
    .insertInto("pipeline_secrets")
    .values(row)
    .onConflict((c) =>
      replace
        ? c
            .columns(["namespace_id", "pipeline_id", "key"])
            .doUpdateSet({ value: row.value, created: row.created })
        : c.doNothing(),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function getPipelineSecretRow(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  key: string,
): Promise<PipelineSecretRow | undefined> {
  return db
    .selectFrom("pipeline_secrets")
    .selectAll()
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("key", "=", key)
    .executeTakeFirst();
}

export async function listPipelineSecretKeys(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
): Promise<{ key: string; created: number }[]> {
  return db
    .selectFrom("pipeline_secrets")
    .select(["key", "created"])
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .orderBy("key")
    .execute();
}

export async function deletePipelineSecretRow(
  db: GoferDb,
  namespaceId: string,
  pipelineId: string,
  key: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom("pipeline_secrets")
    .where("namespace_id", "=", namespaceId)
    .where("pipeline_id", "=", pipelineId)
    .where("key", "=", key)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function putGlobalSecretRow(
  db: GoferDb,
  row: GlobalSecretRow,
  replace: boolean,
): Promise<boolean> {
  const values = {
    key: row.key,
    namespaces_json: JSON.stringify(row.namespaces),
    created: row.created,
    value: row.value,
  };
  const result = await db
    .insertInto("global_secrets")
    .values(values)
    .onConflict((c) =>
      replace
        ? c.column("key").doUpdateSet({
            namespaces_json: values.namespaces_json,
            created: values.created,
            value: values.value,
          })
        : c.doNothing(),
    )
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

export async function getGlobalSecretRow(db: GoferDb, key: string): Promise<GlobalSecretRow | undefined> {
  const row = await db.selectFrom("global_secrets").selectAll().where("key", "=", key).executeTakeFirst();
  return row && fromGlobalRow(row);
}

export async function listGlobalSecretKeys(db: GoferDb): Promise<Omit<GlobalSecretRow, "value">[]> {
  const rows = await db
    .selectFrom("global_secrets")
    .select(["key", "namespaces_json", "created"])
    .orderBy("key")
    .execute();
  return rows.map((row) => ({
    key: row.key,
    namespaces: JSON.parse(row.namespaces_json) as string[],
    created: row.created,
  }));
}

export async function deleteGlobalSecretRow(db: GoferDb, key: string): Promise<boolean> {
  const result = await db.deleteFrom("global_secrets").where("key", "=", key).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

const fromGlobalRow = (row: {
  key: string;
  namespaces_json: string;
  created: number;
  value: Uint8Array;
}) => ({
  key: row.key,
  namespaces: JSON.parse(row.namespaces_json) as string[],
  created: row.created,
  value: row.value,
});

/** Every stored value, for re-encryption. */
export async function listAllSecretValues(db: GoferDb): Promise<{
  pipeline: PipelineSecretRow[];
  global: GlobalSecretRow[];
}> {
  const pipeline = await db.selectFrom("pipeline_secrets").selectAll().execute();
  const global = (await db.selectFrom("global_secrets").selectAll().execute()).map(fromGlobalRow);
  return { pipeline, global };
}

export async function setPipelineSecretValue(db: GoferDb, row: PipelineSecretRow): Promise<void> {
  await db
    .updateTable("pipeline_secrets")
    .set({ value: row.value })
    .where("namespace_id", "=", row.namespace_id)
    .where("pipeline_id", "=", row.pipeline_id)
    .where("key", "=", row.key)
    .execute();
}

export async function setGlobalSecretValue(db: GoferDb, key: string, value: Uint8Array): Promise<void> {
  await db.updateTable("global_secrets").set({ value }).where("key", "=", key).execute();
}

export async function getKeyCheck(db: GoferDb): Promise<Uint8Array | undefined> {
  const row = await db
    .selectFrom("secret_store_meta")
    .select("key_check")
    .where("id", "=", 1)
    .executeTakeFirst();
  return row?.key_check;
}

export async function setKeyCheck(db: GoferDb, keyCheck: Uint8Array): Promise<void> {
  await db
    .insertInto("secret_store_meta")
    .values({ id: 1, key_check: keyCheck })
    .onConflict((c) => c.column("id").doUpdateSet({ key_check: keyCheck }))
    .execute();
}
