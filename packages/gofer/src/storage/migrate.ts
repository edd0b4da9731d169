/**
 * The one list of migrations, applied to SQLite and PostgreSQL alike: each migration asks dialect.ts for the few
 * spellings that differ, and on SQLite gets exactly what it always did.
 */
import type { Kysely } from "kysely";
import { type Migration, Migrator } from "kysely/migration";
import type { DialectName } from "./dialect.ts";
import * as initial from "./migrations/001-initial.ts";
import * as roles from "./migrations/002-roles.ts";
import * as secrets from "./migrations/003-secrets.ts";
import * as objects from "./migrations/004-objects.ts";
import * as extensions from "./migrations/005-extensions.ts";
import * as retention from "./migrations/006-retention.ts";
import * as stopRequests from "./migrations/007-stop-requests.ts";
import * as pipelineControls from "./migrations/008-pipeline-controls.ts";
import * as replicas from "./migrations/009-replicas.ts";
import * as audit from "./migrations/010-audit.ts";
import * as notifications from "./migrations/011-notifications.ts";
import * as runProgress from "./migrations/012-run-progress.ts";
import * as apiIndexes from "./migrations/013-api-indexes.ts";
import * as runListFilter from "./migrations/014-run-list-filter.ts";
import * as runCancellation from "./migrations/015-run-cancellation.ts";
import type { Database } from "./schema.ts";

type DialectMigration = { up(db: Kysely<unknown>, dialect: DialectName): Promise<void> };

/** Migrations in order. New ones are appended, never edited once released. */
const MIGRATIONS: Record<string, DialectMigration> = {
  "001-initial": initial,
  "002-roles": roles,
  "003-secrets": secrets,
  "004-objects": objects,
  "005-extensions": extensions,
  "006-retention": retention,
  "007-stop-requests": stopRequests,
  "008-pipeline-controls": pipelineControls,
  "009-replicas": replicas,
  "010-audit": audit,
  "011-notifications": notifications,
  "012-run-progress": runProgress,
  "013-api-indexes": apiIndexes,
  "014-run-list-filter": runListFilter,
  "015-run-cancellation": runCancellation,
};

/**
 * Applies what is missing; throws naming the database (`where`, never a password) and the failed migration.
 * Does not close `db`: the caller does, as it opened it.
 */
export async function migrateToLatest(
  db: Kysely<Database>,
  dialect: DialectName,
  where: string,
): Promise<void> {
  const migrations: Record<string, Migration> = Object.fromEntries(
    Object.entries(MIGRATIONS).map(([name, migration]) => [
      name,
      { up: (target: Kysely<unknown>) => migration.up(target, dialect) },
    ]),
  );
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((result) => result.status === "Error");
  if (error || failed) {
    const cause = error instanceof Error ? error.message : String(error ?? "");
    throw new Error(
      `could not migrate the database at ${where}: ${failed?.migrationName ?? ""} ${cause}`.trim(),
    );
  }
}
