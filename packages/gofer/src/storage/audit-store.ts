/**
 * The audit trail's rows: written once per API call that may change something (by the audited dialect inside
 * the change's transaction, or by the API when no write came), read newest first with filters, and pruned by
 * age with the events.
 */
import type { Insertable, Kysely } from "kysely";
import type { AuditRecord } from "../domain/models.ts";
import type { AuditDraft } from "../support/audit-scope.ts";
import type { GoferDb } from "./database.ts";
import type { AuditTable, Database } from "./schema.ts";

/** How a call ended: the status it was answered with, and the error code of a failure. */
export interface AuditOutcome {
  outcome: "succeeded" | "failed";
  status: number;
  error_code: string | null;
}

export interface AuditFilter {
  /** Only calls made by this user (exactly). */
  user?: string | undefined;
  /** Only calls whose target is this path or lies below it (`namespaces/default` also finds its pipelines). */
  target?: string | undefined;
  /** Only calls made at or after this time (epoch ms). */
  since?: number | undefined;
  /** Only calls made before this time (epoch ms). */
  until?: number | undefined;
  /** Only rows older than this id: the next page after a page that ended with it. */
  before?: number | undefined;
  limit: number;
}

/** The row of a call, as written. */
export function auditRow(draft: AuditDraft, outcome: AuditOutcome, time: number): Insertable<AuditTable> {
  const { success_status: _success, ...described } = draft;
  return { ...described, ...outcome, time };
}

/** The insert of a row; the audited dialect compiles it for the connection of the transaction it joins. */
export const auditInsert = (db: Kysely<Database>, row: Insertable<AuditTable>) =>
  db.insertInto("audit").values(row);

export async function insertAuditRecord(db: GoferDb, row: Insertable<AuditTable>): Promise<void> {
  await auditInsert(db, row).execute();
}

/**
 * Sets the outcome of a call whose row was written with its change and which then failed before answering, so
 * the row says what the caller was told. The only change a row ever sees, made before the answer is sent.
 */
export async function correctAuditOutcome(
  db: GoferDb,
  requestId: string,
  outcome: AuditOutcome,
): Promise<void> {
  await db.updateTable("audit").set(outcome).where("request_id", "=", requestId).execute();
}

/** Newest first. */
export async function listAuditRecords(db: GoferDb, filter: AuditFilter): Promise<AuditRecord[]> {
  let query = db.selectFrom("audit").selectAll();
  if (filter.user !== undefined) query = query.where("user", "=", filter.user);
  const target = filter.target?.replace(/\/+$/, "");
  if (target) {
    // Byte-wise (BINARY on SQLite, collate "C" on PostgreSQL): every string that starts with `target/` sorts
    // from `target/` up to, not including, `target0` ('0' follows '/'), and an index on `target` serves it.
    query = query.where((eb) =>
      eb.or([
        eb("target", "=", target),
        eb.and([eb("target", ">=", `${target}/`), eb("target", "<", `${target}0`)]),
      ]),
    );
  }
  if (filter.since !== undefined) query = query.where("time", ">=", filter.since);
  if (filter.until !== undefined) query = query.where("time", "<", filter.until);
  if (filter.before !== undefined) query = query.where("id", "<", filter.before);
  const rows = await query.orderBy("id", "desc").limit(filter.limit).execute();
  return rows.map((row) => ({ ...row, outcome: row.outcome as AuditRecord["outcome"] }));
}

/**
 * Deletes up to `limit` of the oldest rows written before `cutoff`; returns how many went. Oldest by `time`,
 * the order of `audit_by_time`: ordered by id, SQLite walked the whole trail looking for old rows when there
 * were none.
 */
export async function deleteAuditRecordsBefore(db: GoferDb, cutoff: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("audit")
    .where(
      "id",
      "in",
      db.selectFrom("audit").select("id").where("time", "<", cutoff).orderBy("time").limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
