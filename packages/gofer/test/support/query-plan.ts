/**
 * The plan the database makes for a store's own query: the query is captured as the store sends it (through a
 * Kysely plugin on a view of the connection) and explained on the same connection, so a test checks the index
 * the real query uses, on SQLite and on PostgreSQL alike.
 */
import assert from "node:assert/strict";
import { CompiledQuery, type KyselyPlugin, sql } from "kysely";
import type { GoferDb } from "../../src/storage/database.ts";

export async function planOf(
  db: GoferDb,
  backend: "sqlite" | "postgres",
  query: (db: GoferDb) => Promise<unknown>,
  options: { forbidSeqScan?: boolean } = {},
): Promise<string> {
  let captured: CompiledQuery | undefined;
  const capture: KyselyPlugin = {
    transformQuery: (args) => {
      captured ??= db.getExecutor().compileQuery(args.node, args.queryId);
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  await query(db.withPlugin(capture));
  assert.ok(captured, "the store sent its query");
  const { sql: text, parameters } = captured;
  const forbid = backend === "postgres" && options.forbidSeqScan === true;
  return db.connection().execute(async (connection) => {
    // PostgreSQL reads a small table whole whatever its indexes; forbidding that shows which index it would use.
    if (forbid) await sql`SET enable_seqscan = off`.execute(connection);
    const explain = backend === "sqlite" ? "EXPLAIN QUERY PLAN " : "EXPLAIN ";
    const plan = await connection.executeQuery(CompiledQuery.raw(explain + text, [...parameters]));
    if (forbid) await sql`RESET enable_seqscan`.execute(connection);
    return JSON.stringify(plan.rows);
  });
}
