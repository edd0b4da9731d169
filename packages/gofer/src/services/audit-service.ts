/**
 * The audit trail: reading it, and the row of a call that answered without a committed write (a refusal, a
 * failure, a change that needed none). Rows of calls that did write are committed with the write itself
 * (storage/audited-dialect.ts).
 */
import type { AuditRecord } from "../domain/models.ts";
import {
  type AuditFilter,
  type AuditOutcome,
  auditRow,
  correctAuditOutcome,
  insertAuditRecord,
  listAuditRecords,
} from "../storage/audit-store.ts";
import type { GoferDb } from "../storage/database.ts";
import type { AuditScope } from "../support/audit-scope.ts";

export class AuditService {
  readonly #db: GoferDb;

  constructor({ db }: { db: GoferDb }) {
    this.#db = db;
  }

  /** Newest first. */
  list(filter: AuditFilter): Promise<AuditRecord[]> {
    return listAuditRecords(this.#db, filter);
  }

  /**
   * Settles the call's row as it is answered, and ends its scope: writes the row when no write of the call
   * committed one, or corrects the outcome of a row committed with a change when the call then failed.
   */
  async answered(scope: AuditScope, outcome: AuditOutcome): Promise<void> {
    try {
      // A write of the call may claim the row between one settling and this claim: wait until none is writing.
      let release = scope.claim();
      while (release === undefined && scope.writing) {
        await scope.settled();
        release = scope.claim();
      }
      if (release) {
        try {
          await insertAuditRecord(this.#db, auditRow(scope.draft, outcome, Date.now()));
        } catch (error) {
          release(false);
          throw error;
        }
        release(true);
      } else if (
        scope.written &&
        (outcome.outcome !== "succeeded" || outcome.status !== scope.draft.success_status)
      ) {
        await correctAuditOutcome(this.#db, scope.draft.request_id, outcome);
      }
    } finally {
      scope.close();
    }
  }
}
