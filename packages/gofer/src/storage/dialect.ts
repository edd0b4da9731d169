/**
 * Everything that differs between SQLite and PostgreSQL, in one place. The migrations are written once and ask
 * this module for the few column types and expressions whose spelling differs; the stores use portable Kysely
 * builders and need nothing from here. On SQLite every answer is exactly what the released migrations always
 * said, so existing databases migrate as before.
 *
 * - Integers: epoch milliseconds overflow PostgreSQL's 4-byte `integer`, so every integer column is `bigint`
 *   there (pg hands int8 back as numbers through the pool's type parser, see postgres-database.ts). Booleans stay
 *   0/1 integers on both.
 * - Text: `collate "C"` on PostgreSQL, so comparisons and `order by` are byte-wise like SQLite's BINARY,
 *   whatever collation the database was created with.
 * - Binary: `blob` / `bytea`.
 * - Generated ids (`events.id`, `runs.seq`): `integer primary key autoincrement` / an identity column.
 * - Random hex: `randomblob` / `gen_random_uuid` (PostgreSQL 13 or newer).
 * - Insertion order of `objects`: SQLite's implicit `rowid`; on PostgreSQL an identity column of that name.
 */
import { type ColumnDefinitionBuilder, type CreateTableBuilder, type RawBuilder, sql } from "kysely";

export type DialectName = "sqlite" | "postgres";

/** A column type as `addColumn` takes it: a name Kysely knows, or raw SQL. */
type DataTypeExpression = Parameters<CreateTableBuilder<string, string>["addColumn"]>[1];

export interface DialectTypes {
  integer: DataTypeExpression;
  text: DataTypeExpression;
  blob: DataTypeExpression;
  /** A generated, increasing integer primary key. */
  generatedKey(column: ColumnDefinitionBuilder): ColumnDefinitionBuilder;
  /** 16 random lower-case hex digits. */
  randomHex16: RawBuilder<string>;
  /** Gives the table an insertion order that `order by rowid` reads (SQLite tables have one already). */
  withInsertionOrder<T extends string, C extends string>(
    table: CreateTableBuilder<T, C>,
  ): CreateTableBuilder<T, C>;
}

const SQLITE: DialectTypes = {
  integer: "integer",
  text: "text",
  blob: "blob",
  generatedKey: (column) => column.primaryKey().autoIncrement(),
  randomHex16: sql<string>`lower(hex(randomblob(8)))`,
  withInsertionOrder: (table) => table,
};

const POSTGRES: DialectTypes = {
  integer: "bigint",
  text: sql`text collate "C"`,
  blob: "bytea",
  generatedKey: (column) => column.primaryKey().generatedByDefaultAsIdentity(),
  randomHex16: sql<string>`substr(replace(gen_random_uuid()::text, '-', ''), 1, 16)`,
  withInsertionOrder: (table) =>
    table.addColumn("rowid", "bigint", (column) =>
      column.notNull().generatedByDefaultAsIdentity(),
    ) as typeof table,
};

export const dialectTypes = (dialect: DialectName): DialectTypes =>
  dialect === "postgres" ? POSTGRES : SQLITE;
