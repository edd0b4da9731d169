/**
 * Kysely's SQLite dialect over Node's built-in `node:sqlite`, so Gofer needs no native addon.
 * Kysely expects a better-sqlite3-shaped database; this adapter supplies exactly that slice, with a small
 * statement cache because the orchestrator runs the same few statements thousands of times.
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { type SqliteDatabase, SqliteDialect, type SqliteStatement } from "kysely";

const STATEMENT_CACHE_SIZE = 200;

export function nodeSqliteDialect(database: DatabaseSync): SqliteDialect {
  const cache = new Map<string, SqliteStatement>();
  const adapter: SqliteDatabase = {
    close: () => database.close(),
    prepare(sql: string): SqliteStatement {
      const cached = cache.get(sql);
      if (cached) return cached;
      const statement = adaptStatement(database.prepare(sql));
      if (cache.size >= STATEMENT_CACHE_SIZE) {
        const oldest = cache.keys().next().value;
        if (oldest !== undefined) cache.delete(oldest);
      }
      cache.set(sql, statement);
      return statement;
    },
  };
  return new SqliteDialect({ database: adapter });
}

function adaptStatement(statement: StatementSync): SqliteStatement {
  const params = (values: ReadonlyArray<unknown>) => values.map(toSqlValue);
  return {
    reader: statement.columns().length > 0,
    all: (values) => statement.all(...params(values)),
    run: (values) => statement.run(...params(values)),
    iterate: (values) => statement.iterate(...params(values)),
  };
}

/** node:sqlite refuses booleans and undefined; SQLite stores them as 0/1 and NULL anyway. */
function toSqlValue(value: unknown): SQLInputValue {
  if (typeof value === "boolean") return value ? 1 : 0;
  if (value === undefined) return null;
  return value as SQLInputValue;
}
