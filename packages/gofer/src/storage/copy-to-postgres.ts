/**
 * Copies a whole Gofer installation from its SQLite file into an empty PostgreSQL database
 * (`gofer service migrate-storage`). The promises, in order:
 *
 * 1. The source is never written: it is opened read-only, and refused while another process holds it open (a
 *    running server; see sqlite-lock-holders.ts). Every table is read in one read transaction, so the copy is
 *    one consistent snapshot even if something wrote meanwhile.
 * 2. The target is brought to the current schema by Gofer's own migrations (as a server start would) and must
 *    then hold no rows: only the `system` row its first migration makes, which the source's row replaces (so the
 *    instance id that labels the installation's containers is kept). The copy's transaction holds the row of
 *    the work lease, so a server starting on the target meanwhile waits for the copy before it takes up work.
 * 3. Both databases must be at the same schema version: the source is not migrated here (that would write it).
 * 4. Everything is copied in one PostgreSQL transaction, table by table in foreign-key order, in batches read by
 *    keyset paging on SQLite's rowid, so memory stays flat however big the installation. Generated keys keep
 *    their values (events keep their ids and order, runs their arrival order, objects their insertion order),
 *    and each identity sequence is moved past the largest copied value.
 * 5. Before the commit the row count of every table is compared with the source's; any difference, any error, or
 *    a process that opened the source meanwhile rolls the whole copy back: the target is left empty.
 *
 * Secrets are copied as stored (encrypted); logs and object contents are files in the data folder and are not
 * touched.
 */
import { existsSync } from "node:fs";
import { DatabaseSync } from "node:sqlite";
import { Kysely, sql } from "kysely";
import { maskDatabaseUrl, maskSecret } from "../support/database-url.ts";
import { type GoferDb, openDatabase } from "./database.ts";
import type { Database } from "./schema.ts";
import { nodeSqliteDialect } from "./sqlite-dialect.ts";
import { sqliteLockHolders } from "./sqlite-lock-holders.ts";

/** Every table, parents before children. A table the schema has and this list lacks stops the copy. */
export const COPY_ORDER: readonly (keyof Database)[] = [
  "system",
  "namespaces",
  "pipelines",
  "pipeline_configs",
  "pipeline_tasks",
  "deployments",
  "runs",
  "run_counters",
  "task_executions",
  "task_attempts",
  "events",
  "tokens",
  "roles",
  "pipeline_secrets",
  "global_secrets",
  "secret_store_meta",
  "extensions",
  "subscriptions",
  "objects",
  "audit",
  "notification_targets",
  "notification_deliveries",
  "notification_progress",
];

/**
 * Never copied: Kysely's own bookkeeping (filled by the migrations on each side), and the replicas and leases of
 * running servers, which describe processes, not the installation.
 */
const UNCOPIED_TABLES = new Set(["kysely_migration", "kysely_migration_lock", "replicas", "leases"]);
/** Holds the work lease for the copy's transaction: a server starting meanwhile waits for it to commit. */
const COPY_HOLDER = "gofer service migrate-storage";
/** PostgreSQL takes at most 65535 parameters per statement. */
const MAX_PARAMETERS = 60_000;
const DEFAULT_BATCH_ROWS = 1_000;
const KEY = "__gofer_copy_key";

export type StorageCopyErrorCode =
  /** The SQLite file is missing, unreadable or not a Gofer database. */
  | "source_unreadable"
  /** Another process (a server) has the SQLite file open. */
  | "source_in_use"
  /** Source and target are at different schema versions. */
  | "schema_mismatch"
  /** PostgreSQL could not be reached, refused the login, or another server holds it. */
  | "target_unavailable"
  /** The target already holds Gofer data. */
  | "target_not_empty"
  /** The copy failed part way (and was rolled back). */
  | "copy_failed";

export class StorageCopyError extends Error {
  override name = "StorageCopyError";
  readonly code: StorageCopyErrorCode;
  /** What to do about it. */
  readonly hint: string;

  constructor(code: StorageCopyErrorCode, message: string, hint: string) {
    super(message);
    this.code = code;
    this.hint = hint;
  }
}

export interface CopyOptions {
  /** The SQLite database file. */
  sourcePath: string;
  /** postgres:// URL of the target database. */
  targetUrl: string;
  /** How long to keep trying to reach PostgreSQL. */
  connectTimeoutMs?: number;
  /** Rows per batch (bounded further by PostgreSQL's parameter limit). */
  batchRows?: number;
  /** Called after each table is copied, for progress. */
  onTable?: (table: string, rows: number) => void;
}

export interface TableCount {
  table: string;
  sqlite: number;
  postgres: number;
}

export interface CopyReport {
  source: string;
  /** The target URL without its password. */
  target: string;
  /** The last migration both databases have. */
  schema_version: string;
  instance_id: string;
  tables: TableCount[];
  /** Identity sequences moved past the copied keys: the next value each hands out. */
  sequences: { table: string; column: string; next: number }[];
  /** How "not in use" was established: `/proc/locks`, or nothing this system offers (the person's word). */
  in_use_check: "proc_locks" | "unavailable";
}

type Row = Record<string, unknown>;

export async function copySqliteToPostgres(options: CopyOptions): Promise<CopyReport> {
  const { sourcePath, targetUrl } = options;
  const where = maskDatabaseUrl(targetUrl);
  const inUseCheck = refuseIfInUse(sourcePath);
  const source = openSource(sourcePath);
  try {
    const sourceMigrations = await migrationNames(source).catch((error: unknown) => {
      throw new StorageCopyError(
        "source_unreadable",
        `${sourcePath} is not a Gofer database (${messageOf(error)})`,
        "--from must name the SQLite file of a Gofer server (server.storage_path, by default <data_dir>/gofer.db)",
      );
    });
    const target = await openTarget(targetUrl, options.connectTimeoutMs);
    try {
      const targetMigrations = await migrationNames(target);
      checkSameSchema(sourceMigrations, targetMigrations, sourcePath);
      await checkTables(source, target);
      await refuseIfNotEmpty(target, where);
      const copied = await source
        .transaction()
        .execute((snapshot) =>
          target.transaction().execute((trx) => copyAll(snapshot, trx, sourcePath, options)),
        )
        .catch((error: unknown) => {
          if (error instanceof StorageCopyError) throw error;
          throw new StorageCopyError(
            "copy_failed",
            `the copy into ${where} failed and was rolled back: ${maskSecret(messageOf(error), targetUrl)}`,
            "nothing was copied (the target holds Gofer's empty schema only); fix the cause and run the command again",
          );
        });
      return {
        source: sourcePath,
        target: where,
        schema_version: sourceMigrations.at(-1) ?? "",
        in_use_check: inUseCheck,
        ...copied,
      };
    } finally {
      await target.destroy();
    }
  } finally {
    await source.destroy();
  }
}

function refuseIfInUse(path: string): CopyReport["in_use_check"] {
  if (!existsSync(path)) {
    throw new StorageCopyError(
      "source_unreadable",
      `there is no SQLite database at ${path}`,
      "--from must name the SQLite file of a Gofer server (server.storage_path, by default <data_dir>/gofer.db)",
    );
  }
  const holders = sqliteLockHolders(path);
  if (holders !== undefined && holders.length > 0) {
    throw new StorageCopyError(
      "source_in_use",
      `${path} is in use by process ${holders.join(", ")} (a running Gofer server?)`,
      "stop the server (and anything else using the file) first: the copy must see a database nobody changes",
    );
  }
  return holders === undefined ? "unavailable" : "proc_locks";
}

function openSource(path: string): GoferDb {
  let database: DatabaseSync;
  try {
    database = new DatabaseSync(path, { readOnly: true });
    // Waits out a checkpoint instead of failing at once; a writer would have been refused above.
    database.exec("PRAGMA busy_timeout = 5000");
  } catch (error) {
    throw new StorageCopyError(
      "source_unreadable",
      `cannot open ${path} read-only: ${messageOf(error)}`,
      "check that the file exists and this user may read it and its folder",
    );
  }
  return new Kysely<Database>({ dialect: nodeSqliteDialect(database) });
}

async function openTarget(url: string, connectTimeoutMs: number | undefined): Promise<GoferDb> {
  try {
    return await openDatabase(
      { storage_path: "", database_url: url },
      { connectTimeoutMs, warn: () => undefined },
    );
  } catch (error) {
    throw new StorageCopyError(
      "target_unavailable",
      `cannot use the PostgreSQL database at ${maskDatabaseUrl(url)}: ${maskSecret(messageOf(error), url)}`,
      "check --to (postgres://user:password@host:port/database): PostgreSQL must be running and reachable, " +
        "the database must exist, the user may connect to it and create tables, and no Gofer server may be using it",
    );
  }
}

async function migrationNames(db: GoferDb): Promise<string[]> {
  const result = await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db);
  return result.rows.map((row) => row.name);
}

function checkSameSchema(source: string[], target: string[], sourcePath: string): void {
  const missing = target.filter((name) => !source.includes(name));
  const unknown = source.filter((name) => !target.includes(name));
  if (unknown.length > 0) {
    throw new StorageCopyError(
      "schema_mismatch",
      `${sourcePath} was written by a newer Gofer (it has migration ${unknown.join(", ")}, which this version does not know)`,
      "run migrate-storage with the Gofer version that last ran the server",
    );
  }
  if (missing.length > 0) {
    throw new StorageCopyError(
      "schema_mismatch",
      `${sourcePath} is at an older schema (it lacks migration ${missing.join(", ")})`,
      "start this version's server on it once (`gofer service start` migrates it), stop it, then run migrate-storage again",
    );
  }
}

/** Both sides must have exactly the tables this module copies; anything else is a bug to stop at, not skip. */
async function checkTables(source: GoferDb, target: GoferDb): Promise<void> {
  const expected = [...COPY_ORDER].sort();
  const sides = {
    sqlite: await sql<{ name: string }>`select name from sqlite_master
      where type = 'table' and name not like 'sqlite\\_%' escape '\\'`.execute(source),
    postgres: await sql<{ name: string }>`select table_name as name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(target),
  };
  for (const [side, result] of Object.entries(sides)) {
    const names = result.rows
      .map((row) => row.name)
      .filter((name) => !UNCOPIED_TABLES.has(name))
      .sort();
    if (names.join(",") !== expected.join(",")) {
      throw new StorageCopyError(
        "schema_mismatch",
        `the ${side} database has tables ${names.join(", ")}; this Gofer copies ${expected.join(", ")}`,
        "both databases must be Gofer databases at this version's schema, with no tables of their own",
      );
    }
  }
}

async function countRows(db: GoferDb, table: string): Promise<number> {
  const result = await sql<{
    count: number | string;
  }>`select count(*) as count from ${sql.table(table)}`.execute(db);
  return Number(result.rows[0]?.count ?? 0);
}

async function refuseIfNotEmpty(target: GoferDb, where: string): Promise<void> {
  const filled: string[] = [];
  for (const table of COPY_ORDER) {
    if (table === "system") continue; // Its one row is made by the first migration; the source's replaces it.
    const rows = await countRows(target, table);
    if (rows > 0) filled.push(`${table} (${rows})`);
  }
  if (filled.length > 0) {
    throw new StorageCopyError(
      "target_not_empty",
      `the PostgreSQL database at ${where} already holds Gofer data: ${filled.join(", ")}`,
      "migrate-storage copies into an empty database only, so nothing is overwritten: give --to a new, empty " +
        "database (CREATE DATABASE ... OWNER ...), or drop this one's tables if its data is not needed",
    );
  }
}

interface TargetColumns {
  columns: string[];
  identities: string[];
}

async function targetColumns(trx: GoferDb, table: string): Promise<TargetColumns> {
  const result = await sql<{ name: string; is_identity: string }>`select column_name as name, is_identity
    from information_schema.columns where table_schema = current_schema() and table_name = ${table}
    order by ordinal_position`.execute(trx);
  return {
    columns: result.rows.map((row) => row.name),
    identities: result.rows.filter((row) => row.is_identity === "YES").map((row) => row.name),
  };
}

async function copyAll(
  snapshot: GoferDb,
  trx: GoferDb,
  sourcePath: string,
  options: CopyOptions,
): Promise<Pick<CopyReport, "tables" | "sequences" | "instance_id">> {
  const tables: TableCount[] = [];
  const sequences: CopyReport["sequences"] = [];
  // A server that starts on the target mid-copy blocks on this row until the copy commits (or rolls back), and
  // then finds the lease free and the installation whole.
  await sql`insert into leases (name, holder, term, acquired, renewed, expires) values
    ('work', ${COPY_HOLDER}, 0, 0, 0, 0)`.execute(trx);
  await sql`delete from ${sql.table("system")}`.execute(trx);
  for (const table of COPY_ORDER) {
    const { columns, identities } = await targetColumns(trx, table);
    const sqliteRows = await countRows(snapshot, table);
    const batchRows = Math.max(
      1,
      Math.min(options.batchRows ?? DEFAULT_BATCH_ROWS, Math.floor(MAX_PARAMETERS / columns.length)),
    );
    // `rowid` is SQLite's row key: the alias of an integer primary key (events.id, runs.seq), and on PostgreSQL
    // the name of the objects' insertion-order column, which thereby keeps its values.
    const selected = sql.join(columns.map((column) => sql.id(column)));
    let after = Number.MIN_SAFE_INTEGER;
    for (;;) {
      const page = await sql<Row>`select rowid as ${sql.id(KEY)}, ${selected} from ${sql.table(table)}
        where rowid > ${after} order by rowid limit ${batchRows}`.execute(snapshot);
      if (page.rows.length === 0) break;
      const values = page.rows.map(
        (row) => sql`(${sql.join(columns.map((column) => toPostgres(row[column])))})`,
      );
      await sql`insert into ${sql.table(table)} (${selected}) values ${sql.join(values)}`.execute(trx);
      after = Number(page.rows.at(-1)?.[KEY]);
      if (page.rows.length < batchRows) break;
    }
    const postgresRows = await countRows(trx, table);
    tables.push({ table, sqlite: sqliteRows, postgres: postgresRows });
    options.onTable?.(table, postgresRows);
    for (const column of identities) {
      // SQLite's AUTOINCREMENT never reuses an id, even of rows since deleted (events pruned by retention):
      // the sequence continues after its high-water mark, so no client sees an event id twice.
      const highWater = await sql<{
        seq: number | null;
      }>`select seq from sqlite_sequence where name = ${table}`
        .execute(snapshot)
        .then((result) => Number(result.rows[0]?.seq ?? 0))
        .catch(() => 0);
      const next = await sql<{ next: number | string }>`select setval(
          pg_get_serial_sequence(${table}, ${column}),
          greatest(coalesce(max(${sql.id(column)}), 0), ${highWater}) + 1,
          false
        ) as next from ${sql.table(table)}`.execute(trx);
      sequences.push({ table, column, next: Number(next.rows[0]?.next) });
    }
  }
  const different = tables.filter((count) => count.sqlite !== count.postgres);
  if (different.length > 0) {
    throw new StorageCopyError(
      "copy_failed",
      `row counts differ after the copy: ${different.map((c) => `${c.table} ${c.sqlite} in SQLite, ${c.postgres} in PostgreSQL`).join("; ")}; rolled back`,
      "nothing was copied; run the command again, and report this if it repeats",
    );
  }
  // A server started on the source during the copy could have accepted work the copy does not hold.
  const holders = sqliteLockHolders(sourcePath);
  if (holders !== undefined && holders.length > 0) {
    throw new StorageCopyError(
      "source_in_use",
      `${sourcePath} was opened by process ${holders.join(", ")} during the copy; rolled back`,
      "stop the server and run the command again: nothing was copied",
    );
  }
  const system = await sql<{ instance_id: string }>`select instance_id from ${sql.table("system")}`.execute(
    trx,
  );
  await sql`delete from leases where holder = ${COPY_HOLDER}`.execute(trx);
  return { tables, sequences, instance_id: system.rows[0]?.instance_id ?? "" };
}

/** node:sqlite reads blobs as Uint8Array; pg sends a Buffer as bytea. */
function toPostgres(value: unknown): unknown {
  if (value instanceof Uint8Array && !Buffer.isBuffer(value)) {
    return Buffer.from(value.buffer, value.byteOffset, value.byteLength);
  }
  return value;
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
