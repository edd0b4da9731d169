import { sql } from "kysely";
import type { Token } from "../domain/models.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, toJson } from "./json-columns.ts";
import type { TokensTable } from "./schema.ts";

const toToken = (row: TokensTable): Token => ({
  id: row.id,
  created: row.created,
  metadata: parseJson<Record<string, string>>(row.metadata_json),
  expires: row.expires,
  disabled: row.disabled === 1,
  user: row.user,
  roles: parseJson<string[]>(row.roles_json),
});

export async function insertToken(db: GoferDb, token: Token, hash: string): Promise<void> {
  await db
    .insertInto("tokens")
    .values({
      id: token.id,
      hash,
      created: token.created,
      metadata_json: toJson(token.metadata),
      expires: token.expires,
      disabled: token.disabled ? 1 : 0,
      roles_json: toJson(token.roles),
      user: token.user,
    })
    .execute();
}

export async function findTokenByHash(db: GoferDb, hash: string): Promise<Token | undefined> {
  const row = await db.selectFrom("tokens").selectAll().where("hash", "=", hash).executeTakeFirst();
  return row && toToken(row);
}

export async function listTokens(db: GoferDb): Promise<Token[]> {
  const rows = await db.selectFrom("tokens").selectAll().orderBy("created").orderBy("id").execute();
  return rows.map(toToken);
}

export async function getToken(db: GoferDb, id: string): Promise<Token | undefined> {
  const row = await db.selectFrom("tokens").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toToken(row);
}

/** False when no token has this id. */
export async function setTokenDisabled(db: GoferDb, id: string, disabled: boolean): Promise<boolean> {
  const result = await db
    .updateTable("tokens")
    .set({ disabled: disabled ? 1 : 0 })
    .where("id", "=", id)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** False when no token has this id. */
export async function deleteToken(db: GoferDb, id: string): Promise<boolean> {
  const result = await db.deleteFrom("tokens").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) === 1;
}

/** Deletes tokens whose expiry is at or before `now`; returns how many. Tokens that never expire hold 0. */
export async function deleteExpiredTokens(db: GoferDb, now: number): Promise<number> {
  const result = await db
    .deleteFrom("tokens")
    .where("expires", ">", 0)
    .where("expires", "<=", now)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * Deletes the tokens of runs whose objects have expired or that no longer exist; returns how many. A run
 * token's user is `<userPrefix><namespace>/<pipeline>/<run>`, so the runs still live give the users to keep,
 * and one statement does it.
 */
export async function deleteRetiredRunTokens(db: GoferDb, userPrefix: string): Promise<number> {
  const result = await db
    .deleteFrom("tokens")
    // A prefix test both databases read alike (SQLite's `like` ignores case, PostgreSQL's does not).
    .where((eb) =>
      eb(eb.fn<string>("substr", ["user", eb.val(1), eb.val(userPrefix.length)]), "=", userPrefix),
    )
    .where(
      "user",
      "not in",
      db
        .selectFrom("runs")
        .select(sql<string>`${userPrefix} || namespace_id || '/' || pipeline_id || '/' || run_id`.as("user"))
        .where("store_objects_expired", "=", 0),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
