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
