/**
 * Opens Gofer's database: SQLite (the default: one file, WAL for concurrent readers, foreign keys on) or, when
 * `server.database_url` names one, PostgreSQL (postgres-database.ts). Migrations are applied before anything
 * else touches it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import type { Kysely } from "kysely";
import { auditedKysely } from "./audited-dialect.ts";
import { migrateToLatest } from "./migrate.ts";
import type { PostgresOptions } from "./postgres-database.ts";
import type { Database } from "./schema.ts";
import { nodeSqliteDialect } from "./sqlite-dialect.ts";

export type GoferDb = Kysely<Database>;

/** Where the data lives: `database_url` when set (PostgreSQL), else the SQLite file at `storage_path`. */
export interface StorageTarget {
  storage_path: string;
  database_url: string;
}

/**
 * A path (or `:memory:`) opens SQLite; a target opens PostgreSQL when its `database_url` is set. On PostgreSQL
 * the start is retried while the server cannot be reached (see {@link PostgresOptions}), and the returned
 * database holds the server lock until `destroy()`.
 */
export async function openDatabase(
  target: string | StorageTarget,
  options: PostgresOptions = {},
): Promise<GoferDb> {
  if (typeof target !== "string" && target.database_url !== "") {
    // Loaded only when asked for, so a SQLite server never loads the PostgreSQL driver.
    const { openPostgres } = await import("./postgres-database.ts");
    return openPostgres(target.database_url, options);
  }
  return openSqlite(typeof target === "string" ? target : target.storage_path);
}

async function openSqlite(path: string): Promise<GoferDb> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new DatabaseSync(path);
  // synchronous=NORMAL under WAL survives a process crash (kill -9) without losing committed transactions;
  // only an OS crash can lose the last ones, which is the trade every WAL deployment makes for speed.
  sqlite.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
  );
  const db = auditedKysely({ dialect: nodeSqliteDialect(sqlite) });
  try {
    await migrateToLatest(db, "sqlite", path);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}
