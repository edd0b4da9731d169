/**
 * Puts the audit row of an API call into the transaction of the change it makes. Wraps a Kysely dialect (SQLite's
 * or PostgreSQL's) so that, while code runs for a call that may change something (an {@link AuditScope}, opened
 * by the API):
 *
 * 1. A transaction that wrote anything writes the call's row just before its COMMIT, on the same connection:
 *    the change and its row commit together or not at all. A rolled-back transaction leaves no row.
 * 2. A write outside any transaction (services that change one row with one statement) is wrapped in a
 *    transaction of its own, with the row written after it.
 * 3. One row per call: the first committed write takes the scope ({@link AuditScope.claim}); writes after it,
 *    and work the call started that outlives its answer, add none.
 *
 * Outside a scope (the run loop, retention, the extension supervisor, migrations) nothing changes: those writes
 * are not API calls. Reads never write a row. Which statements count as writes is decided by the query's kind: Kysely's
 * insert, update, delete and merge builders, and raw SQL that starts with one of those words.
 */
import {
  type AbortableOperationOptions,
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  DummyDriver,
  Kysely,
  type KyselyConfig,
  type QueryResult,
  type TransactionSettings,
} from "kysely";
import { type AuditScope, currentAuditScope } from "../support/audit-scope.ts";
import { auditInsert, auditRow } from "./audit-store.ts";
import type { Database } from "./schema.ts";

const WRITES = new Set(["InsertQueryNode", "UpdateQueryNode", "DeleteQueryNode", "MergeQueryNode"]);
const RAW_WRITE = /^\s*(insert|update|delete|merge)\b/i;

const isWrite = (query: CompiledQuery): boolean =>
  WRITES.has(query.query.kind) || (query.query.kind === "RawNode" && RAW_WRITE.test(query.sql));

/** The row a change writes: the call succeeded as far as the database knows, with the route's success status. */
const succeededRow = (scope: AuditScope) =>
  auditRow(
    scope.draft,
    { outcome: "succeeded", status: scope.draft.success_status, error_code: null },
    Date.now(),
  );

/** Gofer's database on `config.dialect`, writing the audit rows of API calls as described above. */
export function auditedKysely(config: KyselyConfig): Kysely<Database> {
  return new Kysely<Database>({ ...config, dialect: auditedDialect(config.dialect) });
}

function auditedDialect(dialect: Dialect): Dialect {
  // Compiles the row's insert in the dialect's own SQL without a connection, for the connection of the transaction.
  const compiler = new Kysely<Database>({
    dialect: {
      createAdapter: () => dialect.createAdapter(),
      createDriver: () => new DummyDriver(),
      createIntrospector: (db) => dialect.createIntrospector(db),
      createQueryCompiler: () => dialect.createQueryCompiler(),
    },
  });
  const compileRow = (scope: AuditScope): CompiledQuery =>
    auditInsert(compiler, succeededRow(scope)).compile();
  return {
    createAdapter: () => dialect.createAdapter(),
    createDriver: () => new AuditingDriver(dialect.createDriver(), compileRow),
    createIntrospector: (db) => dialect.createIntrospector(db),
    createQueryCompiler: () => dialect.createQueryCompiler(),
  };
}

class AuditingDriver implements Driver {
  readonly #inner: Driver;
  readonly #compileRow: (scope: AuditScope) => CompiledQuery;
  readonly #connections = new WeakMap<DatabaseConnection, AuditingConnection>();

  constructor(inner: Driver, compileRow: (scope: AuditScope) => CompiledQuery) {
    this.#inner = inner;
    this.#compileRow = compileRow;
  }

  init(options?: AbortableOperationOptions): Promise<void> {
    return this.#inner.init(options);
  }

  async acquireConnection(options?: AbortableOperationOptions): Promise<DatabaseConnection> {
    const inner = await this.#inner.acquireConnection(options);
    let connection = this.#connections.get(inner);
    if (!connection) {
      connection = new AuditingConnection(inner, (query) => this.#writeAlone(inner, query));
      this.#connections.set(inner, connection);
    }
    return connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    const audited = connection as AuditingConnection;
    await this.#inner.beginTransaction(audited.inner, settings);
    audited.inTransaction = true;
    audited.wrote = false;
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const audited = connection as AuditingConnection;
    const scope = audited.wrote ? currentAuditScope() : undefined;
    audited.inTransaction = false;
    await this.#commitWithRow(audited.inner, scope);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const audited = connection as AuditingConnection;
    audited.inTransaction = false;
    await this.#inner.rollbackTransaction(audited.inner);
  }

  async savepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: Parameters<NonNullable<Driver["savepoint"]>>[2],
  ): Promise<void> {
    await this.#inner.savepoint?.((connection as AuditingConnection).inner, name, compileQuery);
  }

  async rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: Parameters<NonNullable<Driver["rollbackToSavepoint"]>>[2],
  ): Promise<void> {
    await this.#inner.rollbackToSavepoint?.((connection as AuditingConnection).inner, name, compileQuery);
  }

  async releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compileQuery: Parameters<NonNullable<Driver["releaseSavepoint"]>>[2],
  ): Promise<void> {
    await this.#inner.releaseSavepoint?.((connection as AuditingConnection).inner, name, compileQuery);
  }

  releaseConnection(connection: DatabaseConnection, options?: AbortableOperationOptions): Promise<void> {
    return this.#inner.releaseConnection((connection as AuditingConnection).inner, options);
  }

  destroy(options?: AbortableOperationOptions): Promise<void> {
    return this.#inner.destroy(options);
  }

  /** Writes the scope's row (when it is the first committed write of its call), then commits. */
  async #commitWithRow(inner: DatabaseConnection, scope: AuditScope | undefined): Promise<void> {
    const release = scope?.claim();
    if (!scope || !release) {
      await this.#inner.commitTransaction(inner);
      return;
    }
    try {
      await inner.executeQuery(this.#compileRow(scope));
      await this.#inner.commitTransaction(inner);
    } catch (error) {
      // Kysely rolls the transaction back when its commit fails; the next write of the call may write the row.
      release(false);
      throw error;
    }
    release(true);
  }

  /** A write outside a transaction, in a scope whose row is still to be written: made one transaction with it. */
  async #writeAlone<R>(inner: DatabaseConnection, query: CompiledQuery): Promise<QueryResult<R>> {
    const scope = currentAuditScope();
    if (!scope?.open) return inner.executeQuery<R>(query);
    await this.#inner.beginTransaction(inner, {});
    try {
      const result = await inner.executeQuery<R>(query);
      await this.#commitWithRow(inner, scope);
      return result;
    } catch (error) {
      await this.#inner.rollbackTransaction(inner).catch(() => undefined);
      throw error;
    }
  }
}

/** The connection Kysely is handed: notes whether the transaction it is in has written anything. */
class AuditingConnection implements DatabaseConnection {
  readonly inner: DatabaseConnection;
  readonly #writeAlone: <R>(query: CompiledQuery) => Promise<QueryResult<R>>;
  inTransaction = false;
  wrote = false;

  constructor(inner: DatabaseConnection, writeAlone: <R>(query: CompiledQuery) => Promise<QueryResult<R>>) {
    this.inner = inner;
    this.#writeAlone = writeAlone;
  }

  executeQuery<R>(query: CompiledQuery, options?: AbortableOperationOptions): Promise<QueryResult<R>> {
    if (!isWrite(query)) return this.inner.executeQuery<R>(query, options);
    if (this.inTransaction) {
      this.wrote = true;
      return this.inner.executeQuery<R>(query, options);
    }
    return this.#writeAlone<R>(query);
  }

  streamQuery<R>(
    query: CompiledQuery,
    chunkSize: number,
    options?: AbortableOperationOptions,
  ): AsyncIterableIterator<QueryResult<R>> {
    return this.inner.streamQuery<R>(query, chunkSize, options);
  }
}
