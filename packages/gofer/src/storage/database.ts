/**
 * Opens Gofer's SQLite file: WAL for concurrent readers, foreign keys on, migrations applied before anything
 * else touches it.
 */
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import * as initial from "./migrations/001-initial.ts";
import * as roles from "./migrations/002-roles.ts";
import * as secrets from "./migrations/003-secrets.ts";
import * as objects from "./migrations/004-objects.ts";
import * as extensions from "./migrations/005-extensions.ts";
import * as retention from "./migrations/006-retention.ts";
import * as stopRequests from "./migrations/007-stop-requests.ts";
import * as pipelineControls from "./migrations/008-pipeline-controls.ts";
import type { Database } from "./schema.ts";
import { nodeSqliteDialect } from "./sqlite-dialect.ts";

/** Migrations in order. New ones are appended, never edited once released. */
const MIGRATIONS: Record<string, Migration> = {
  "001-initial": initial,
  "002-roles": roles,
  "003-secrets": secrets,
  "004-objects": objects,
  "005-extensions": extensions,
  "006-retention": retention,
  "007-stop-requests": stopRequests,
  "008-pipeline-controls": pipelineControls,
};

export type GoferDb = Kysely<Database>;

export async function openDatabase(path: string): Promise<GoferDb> {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const sqlite = new DatabaseSync(path);
  // synchronous=NORMAL under WAL survives a process crash (kill -9) without losing committed transactions;
  // only an OS crash can lose the last ones, which is the trade every WAL deployment makes for speed.
  sqlite.exec(
    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;",
  );
  const db = new Kysely<Database>({ dialect: nodeSqliteDialect(sqlite) });
  const migrator = new Migrator({ db, provider: { getMigrations: async () => MIGRATIONS } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error || failed) {
    await db.destroy();
    const cause = error instanceof Error ? error.message : String(error ?? "");
    throw new Error(
      `could not migrate the database at ${path}: ${failed?.migrationName ?? ""} ${cause}`.trim(),
    );
  }
  return db;
}
