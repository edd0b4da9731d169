/**
 * Replicas and leases on PostgreSQL (see migrations/009-replicas.ts). Every time here is the database's clock,
 * read in the statement that uses it: replicas on different hosts then agree on when a lease ends whatever
 * their own clocks say.
 */
import { type Selectable, sql } from "kysely";
import type { GoferDb } from "./database.ts";
import type { ReplicasTable } from "./schema.ts";
import { countRunningTaskExecutions } from "./task-executions-store.ts";

/** The database's clock in epoch milliseconds, as SQL. */
const NOW = sql<number>`(extract(epoch from clock_timestamp()) * 1000)::bigint`;

export type ReplicaRecord = Selectable<ReplicasTable>;

export interface Lease {
  name: string;
  holder: string;
  term: number;
  acquired: number;
  renewed: number;
  expires: number;
  serving: boolean;
}

export type NewReplica = Omit<ReplicaRecord, "started" | "heartbeat" | "stopped">;

export async function registerReplica(db: GoferDb, replica: NewReplica): Promise<void> {
  await sql`insert into replicas (replica_id, url, external_events_url, hostname, pid, version, started, heartbeat)
    values (${replica.replica_id}, ${replica.url}, ${replica.external_events_url}, ${replica.hostname},
      ${replica.pid}, ${replica.version}, ${NOW}, ${NOW})`.execute(db);
}

/** Records that the replica is alive; false when its row is gone (pruned while it was silent): register again. */
export async function recordHeartbeat(db: GoferDb, replicaId: string): Promise<boolean> {
  const result = await sql`update replicas set heartbeat = ${NOW} where replica_id = ${replicaId}`.execute(
    db,
  );
  return Number(result.numAffectedRows ?? 0) === 1;
}

export async function updateReplicaUrls(
  db: GoferDb,
  replicaId: string,
  urls: { url: string; external_events_url: string | null },
): Promise<void> {
  await db
    .updateTable("replicas")
    .set({ url: urls.url, external_events_url: urls.external_events_url })
    .where("replica_id", "=", replicaId)
    .execute();
}

export async function markReplicaStopped(db: GoferDb, replicaId: string): Promise<void> {
  await sql`update replicas set stopped = ${NOW} where replica_id = ${replicaId}`.execute(db);
}

/** Forgets replicas silent for longer than `silentMs`: their last heartbeat stays visible for that long. */
export async function pruneReplicas(db: GoferDb, silentMs: number): Promise<void> {
  await sql`delete from replicas where heartbeat < ${NOW} - ${silentMs}`.execute(db);
}

export async function listReplicas(db: GoferDb): Promise<ReplicaRecord[]> {
  return db.selectFrom("replicas").selectAll().orderBy("started").orderBy("replica_id").execute();
}

export async function getReplica(db: GoferDb, replicaId: string): Promise<ReplicaRecord | undefined> {
  return db.selectFrom("replicas").selectAll().where("replica_id", "=", replicaId).executeTakeFirst();
}

export async function databaseNow(db: GoferDb): Promise<number> {
  const result = await sql<{ now: number }>`select ${NOW} as now`.execute(db);
  return Number(result.rows[0]?.now);
}

/**
 * Takes the lease for `holder` when it is free, expired or already its own (a renewal), for `ttlMs` from now.
 * One statement, so two replicas racing for an expired lease cannot both win. Answers the lease when `holder`
 * holds it afterwards, undefined when another replica does. A new holder starts a new term, not serving yet.
 */
export async function claimLease(
  db: GoferDb,
  name: string,
  holder: string,
  ttlMs: number,
): Promise<Lease | undefined> {
  const result = await sql<LeaseRow>`
    insert into leases (name, holder, term, acquired, renewed, expires, serving)
    values (${name}, ${holder}, 1, ${NOW}, ${NOW}, ${NOW} + ${ttlMs}, 0)
    on conflict (name) do update set
      holder = excluded.holder,
      term = case when leases.holder = excluded.holder then leases.term else leases.term + 1 end,
      acquired = case when leases.holder = excluded.holder then leases.acquired else excluded.acquired end,
      serving = case when leases.holder = excluded.holder then leases.serving else 0 end,
      renewed = excluded.renewed,
      expires = excluded.expires
    where leases.holder = excluded.holder or leases.expires <= excluded.renewed
    returning *`.execute(db);
  const row = result.rows[0];
  return row ? leaseOf(row) : undefined;
}

/** Says the holder has taken over the work; false when it no longer holds the lease. */
export async function markLeaseServing(
  db: GoferDb,
  name: string,
  holder: string,
  term: number,
): Promise<boolean> {
  const result = await db
    .updateTable("leases")
    .set({ serving: 1 })
    .where("name", "=", name)
    .where("holder", "=", holder)
    .where("term", "=", term)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/** Ends the holder's lease at once (a clean stop), so another replica takes over without waiting for it. */
export async function releaseLease(db: GoferDb, name: string, holder: string): Promise<void> {
  await sql`update leases set expires = 0, serving = 0 where name = ${name} and holder = ${holder}`.execute(
    db,
  );
}

/** The lease with `expired` computed against the database's clock. */
export async function getLease(
  db: GoferDb,
  name: string,
): Promise<(Lease & { expired: boolean }) | undefined> {
  const result = await sql<LeaseRow & { expired: boolean }>`
    select *, expires <= ${NOW} as expired from leases where name = ${name}`.execute(db);
  const row = result.rows[0];
  return row ? { ...leaseOf(row), expired: row.expired === true } : undefined;
}

interface LeaseRow {
  name: string;
  holder: string;
  term: number | string;
  acquired: number | string;
  renewed: number | string;
  expires: number | string;
  serving: number | string;
}

function leaseOf(row: LeaseRow): Lease {
  return {
    name: row.name,
    holder: row.holder,
    term: Number(row.term),
    acquired: Number(row.acquired),
    renewed: Number(row.renewed),
    expires: Number(row.expires),
    serving: Number(row.serving) === 1,
  };
}

/** What the leader has in hand: runs and task executions in flight, and the extensions it supervises. */
export async function countLeaderWork(
  db: GoferDb,
): Promise<{ runs_in_flight: number; tasks_in_flight: number; extensions: number }> {
  const runs = await db
    .selectFrom("runs")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("state", "in", ["pending", "running"])
    .executeTakeFirst();
  const tasks = await countRunningTaskExecutions(db);
  const extensions = await db
    .selectFrom("extensions")
    .select((eb) => eb.fn.countAll<number>().as("count"))
    .where("status", "=", "enabled")
    .executeTakeFirst();
  return {
    runs_in_flight: Number(runs?.count ?? 0),
    tasks_in_flight: tasks,
    extensions: Number(extensions?.count ?? 0),
  };
}

/** Replicas other than `replicaId` still running: heard from within `silentMs`, not stopped. */
export async function countOtherLiveReplicas(
  db: GoferDb,
  replicaId: string,
  silentMs: number,
): Promise<number> {
  const result = await sql<{ count: number | string }>`select count(*) as count from replicas
    where replica_id <> ${replicaId} and stopped = 0 and heartbeat > ${NOW} - ${silentMs}`.execute(db);
  return Number(result.rows[0]?.count ?? 0);
}
