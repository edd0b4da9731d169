/**
 * Gofer's database on PostgreSQL: Kysely's PostgresDialect over a `pg` pool.
 *
 * - Start: the first connection is retried with backoff for up to {@link PostgresOptions.connectTimeoutMs}
 *   (30 s unless a caller says otherwise), then the start fails with a message that says what to check. Wrong
 *   credentials or a missing database fail at once: waiting would not fix them. Nothing is half-opened: every
 *   failure ends what was opened.
 * - Several servers (replicas) may share the database; which one runs the work is decided by a lease
 *   (replicas/leadership.ts), whose {@link PostgresOptions.fence} refuses every query of a leader whose lease may
 *   have passed to another replica.
 * - Transactions run one at a time, as on SQLite's single connection, so every rule the services built on that
 *   (a delete's check and the delete being one write no run start comes between) holds unchanged. Queries
 *   wait in order for the connection; a broken connection is dropped by the pool and the next query opens a
 *   new one, so the server recovers by itself once the database is back.
 * - int8 (bigint, and `count(*)`) comes back as a JavaScript number, like SQLite's integers.
 */
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { maskDatabaseUrl, maskSecret } from "../support/database-url.ts";
import { auditedKysely } from "./audited-dialect.ts";
import type { GoferDb } from "./database.ts";
import { migrateToLatest } from "./migrate.ts";
import type { Database } from "./schema.ts";

export interface PostgresOptions {
  /** How long the start keeps trying to reach the database; 30 s by default. */
  connectTimeoutMs?: number;
  /** Where warnings go (connection lost); stderr by default. Messages never hold a password. */
  warn?: (message: string) => void;
  /**
   * Why no query may run now, if none may: checked before each connection is handed out and before every
   * statement, so a leader that wakes from a pause mid-transaction sends nothing more (not even its COMMIT).
   */
  fence?: () => string | undefined;
  /**
   * PostgreSQL ends a transaction left idle this long (`idle_in_transaction_session_timeout`), releasing its
   * locks: a replica paused mid-transaction then holds up the next leader for no longer than this.
   */
  idleInTransactionTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 30_000;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 4_000;
/** SQLSTATEs that waiting does not fix: wrong password or user, no such database. */
const PERMANENT = new Set(["28P01", "28000", "3D000"]);
const INT8_OID = 20;

/** Integers Gofer stores (epoch ms, ids, counts) fit a double exactly. */
const types: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary"
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig["getTypeParser"],
};

export class DatabaseStartError extends Error {}

/** A pool of one connection, kept alive. */
function singleConnection(url: string): pg.PoolConfig {
  return {
    connectionString: url,
    types,
    max: 1,
    keepAlive: true,
    // A silent network partition is noticed in seconds, not after the system's two-hour keepalive default.
    keepAliveInitialDelayMillis: 10_000,
    idleTimeoutMillis: 60_000,
  };
}

/**
 * A second connection for the replica's heartbeat and lease, apart from the queue of the main one: a lease
 * renewal must not wait behind a long query (a big listing, a retention pass), or a busy leader would stop
 * leading. Its statements are cut off after `statementTimeoutMs`, so a renewal that cannot finish in time fails
 * instead of hanging. Not fenced: renewing is how a leader stays one.
 */
export function openControlConnection(url: string, statementTimeoutMs: number): GoferDb {
  const where = maskDatabaseUrl(url);
  const pool = new pg.Pool({
    ...singleConnection(url),
    connectionTimeoutMillis: statementTimeoutMs,
    statement_timeout: statementTimeoutMs,
  });
  pool.on("error", (error) =>
    process.stderr.write(
      `gofer: lost the heartbeat connection to PostgreSQL at ${where}: ${maskSecret(error.message, url)}\n`,
    ),
  );
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<GoferDb> {
  const where = maskDatabaseUrl(url);
  const warn = options.warn ?? ((message: string) => process.stderr.write(`gofer: ${message}\n`));
  const clean = (error: unknown) => maskSecret(error instanceof Error ? error.message : String(error), url);
  // Reached once before anything else, so a server that cannot have its database says so at start.
  const probe = await connectWithRetry(url, options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
  await probe.end().catch(() => undefined);
  const pool = new pg.Pool({
    ...singleConnection(url),
    connectionTimeoutMillis: 10_000,
    ...(options.idleInTransactionTimeoutMs !== undefined && {
      idle_in_transaction_session_timeout: options.idleInTransactionTimeoutMs,
    }),
  });
  // An idle connection that breaks is dropped by the pool; without a listener the error would end the process.
  pool.on("error", (error) => warn(`lost an idle connection to PostgreSQL at ${where}: ${clean(error)}`));
  const queue = new ConnectionQueue();
  const db = auditedKysely({
    dialect: new PostgresDialect({
      pool: {
        Client: pg.Client,
        options: pool.options,
        connect: async () => {
          // Fenced: another replica may be doing this one's work by now, so this one writes nothing.
          const fenced = options.fence?.();
          if (fenced !== undefined)
            throw new Error(`Gofer may not use PostgreSQL at ${where} now: ${fenced}`);
          const turn = await queue.acquire();
          try {
            const client = await pool.connect();
            // A connection that breaks while checked out fails its query and also emits `error`, which would
            // end the process unheard; the pool drops it on release and the next query opens a new one.
            const onError = (error: Error) =>
              warn(`lost a connection to PostgreSQL at ${where}: ${clean(error)}`);
            client.on("error", onError);
            const health = watchQueries(client, () => {
              const reason = options.fence?.();
              return reason === undefined
                ? undefined
                : `Gofer may not use PostgreSQL at ${where} now: ${reason}`;
            });
            const release = client.release.bind(client);
            client.release = (error?: Error | boolean) => {
              client.off("error", onError);
              // A connection the server ended (it answered a query with a fatal error) is destroyed, not pooled.
              release(health.broken ? true : error);
              turn();
            };
            return client;
          } catch (error) {
            turn();
            throw new Error(`could not connect to PostgreSQL at ${where}: ${clean(error)}`);
          }
        },
        end: async () => {
          await pool.end();
        },
      },
    }),
  });
  try {
    await migrateToLatest(db, "postgres", where);
  } catch (error) {
    await db.destroy().catch(() => undefined);
    throw new DatabaseStartError(clean(error));
  }
  return db;
}

/** Codes and errors that mean the connection itself is gone (class 08, the server shutting it down, sockets). */
function isConnectionLoss(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === "string") {
    if (
      code.startsWith("08") ||
      ["57P01", "57P02", "57P03", "ECONNRESET", "EPIPE", "ETIMEDOUT"].includes(code)
    ) {
      return true;
    }
  }
  return error instanceof Error && /Connection terminated|connection ended/i.test(error.message);
}

const HEALTH = new WeakMap<pg.PoolClient, { broken: boolean }>();

/**
 * Marks the client broken when one of its queries fails because the connection is gone, and refuses every
 * statement but a rollback while `fenced` gives a reason. Wraps it once.
 */
function watchQueries(client: pg.PoolClient, fenced: () => string | undefined): { broken: boolean } {
  const known = HEALTH.get(client);
  if (known) return known;
  const health = { broken: false };
  HEALTH.set(client, health);
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => {
    const reason = fenced();
    if (reason !== undefined && !(typeof args[0] === "string" && /^\s*rollback\s*$/i.test(args[0]))) {
      return Promise.reject(new Error(reason));
    }
    const result = query(...args);
    if (result instanceof Promise) {
      result.catch((error: unknown) => {
        if (isConnectionLoss(error)) health.broken = true;
      });
    }
    return result;
  }) as typeof client.query;
  return health;
}

/** Hands the one connection to one caller at a time, in call order. */
class ConnectionQueue {
  #tail: Promise<void> = Promise.resolve();

  acquire(): Promise<() => void> {
    let done!: () => void;
    const mine = new Promise<void>((resolve) => {
      done = resolve;
    });
    const previous = this.#tail;
    this.#tail = previous.then(() => mine);
    let released = false;
    return previous.then(() => () => {
      if (!released) {
        released = true;
        done();
      }
    });
  }
}

async function connectWithRetry(url: string, timeoutMs: number): Promise<pg.Client> {
  const where = maskDatabaseUrl(url);
  const deadline = Date.now() + timeoutMs;
  let delay = FIRST_RETRY_MS;
  for (let attempt = 1; ; attempt++) {
    const remaining = deadline - Date.now();
    const client = new pg.Client({
      connectionString: url,
      types,
      keepAlive: true,
      connectionTimeoutMillis: Math.max(1_000, Math.min(10_000, remaining)),
    });
    // connect() reports its own failure; the probe is closed right after.
    client.on("error", () => undefined);
    try {
      await client.connect();
      client.removeAllListeners("error");
      return client;
    } catch (error) {
      await client.end().catch(() => undefined);
      const code = (error as { code?: string }).code;
      const cause = maskSecret(error instanceof Error ? error.message : String(error), url);
      if (code !== undefined && PERMANENT.has(code)) {
        throw new DatabaseStartError(
          `PostgreSQL at ${where} refused Gofer: ${cause}. Check the user, password and database name in ` +
            "server.database_url (GOFER_WEB_SERVER__DATABASE_URL); the database must exist and the user may connect to it",
        );
      }
      if (Date.now() >= deadline) {
        throw new DatabaseStartError(
          `could not connect to PostgreSQL at ${where} (${attempt} attempts over ${Math.round(timeoutMs / 1000)} s): ` +
            `${cause}. Check that PostgreSQL is running and accepts TCP connections at that host and port ` +
            "(listen_addresses, pg_hba.conf, firewalls), and that server.database_url " +
            "(GOFER_WEB_SERVER__DATABASE_URL) names the right host, port and database",
        );
      }
      // The last attempt falls on the deadline.
      await sleep(Math.max(0, Math.min(delay, deadline - Date.now())));
      delay = Math.min(delay * 2, MAX_RETRY_MS);
    }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
