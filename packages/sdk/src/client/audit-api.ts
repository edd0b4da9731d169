/** The `audit` group of the client (an extension of v0): the record of every API call that could change something. */
import type { HttpClient } from "./http.ts";
import type { AuditRecord } from "./wire-types.ts";

export interface ListAuditOptions {
  /** Only this user's calls (the user of the token that made them; `anonymous` without one). */
  user?: string;
  /** Only calls on this target or below it, e.g. `namespaces/default/pipelines/build`. */
  target?: string;
  /** Only calls at or after this time, epoch ms. */
  since?: number;
  /** Only calls before this time, epoch ms. */
  until?: number;
  /** Only rows older than this id: the last id of the previous page. */
  before?: number;
  /** At most this many rows, 1–1000; the server's default is 100. */
  limit?: number;
}

export interface AuditApi {
  /** Admin only. One page of the audit trail, newest first. */
  list(options?: ListAuditOptions): Promise<AuditRecord[]>;
}

export function auditApi(http: HttpClient): AuditApi {
  return {
    list: async (options = {}) =>
      http.json("GET", "/api/audit", "audit", {
        query: {
          user: options.user,
          target: options.target,
          since: options.since,
          until: options.until,
          before: options.before,
          limit: options.limit,
        },
      }),
  };
}
