/**
 * What `GET /api/system/replicas` shows an admin: every server sharing the database, its last heartbeat and
 * state, which one leads (with its lease's term and expiry) and what the leader has in hand. On SQLite there is
 * one server, always leading.
 */
import { hostname } from "node:os";
import type { ReplicaListing, ReplicaSummary } from "@gofer/sdk/client";
import type { ReplicaView } from "../replicas/leadership.ts";
import type { GoferDb } from "../storage/database.ts";
import { countLeaderWork, databaseNow, getLease, listReplicas } from "../storage/replicas-store.ts";

/** The answer's shapes are the SDK's: one definition for server and clients. */
export type { ReplicaListing, ReplicaSummary };

type ReplicaState = ReplicaSummary["state"];

export interface ReplicaServiceOptions {
  db: GoferDb;
  replicated: boolean;
  replicas: () => ReplicaView;
  leaseTimeoutMs: number;
  version: string;
  /** This server's own address, for the one-server listing of SQLite. */
  url: () => string;
  started: number;
}

export class ReplicaService {
  readonly #options: ReplicaServiceOptions;

  constructor(options: ReplicaServiceOptions) {
    this.#options = options;
  }

  async list(): Promise<ReplicaListing> {
    const { db, replicated, leaseTimeoutMs } = this.#options;
    const self = this.#options.replicas().replicaId;
    if (!replicated) {
      const now = Date.now();
      return {
        storage: "sqlite",
        lease_timeout_ms: leaseTimeoutMs,
        lease: null,
        replicas: [
          {
            id: self,
            url: this.#options.url(),
            hostname: hostname(),
            pid: process.pid,
            version: this.#options.version,
            started: this.#options.started,
            heartbeat: now,
            state: "leader",
            self: true,
            owns: await countLeaderWork(db),
          },
        ],
      };
    }
    const [now, lease, rows] = await Promise.all([databaseNow(db), getLease(db, "work"), listReplicas(db)]);
    const leaderId = lease && !lease.expired ? lease.holder : undefined;
    const owns = leaderId !== undefined ? await countLeaderWork(db) : undefined;
    return {
      storage: "postgres",
      lease_timeout_ms: leaseTimeoutMs,
      lease: lease
        ? {
            holder: lease.holder,
            term: lease.term,
            acquired: lease.acquired,
            expires: lease.expires,
            serving: lease.serving && !lease.expired,
          }
        : null,
      replicas: rows.map((row) => {
        const leads = row.replica_id === leaderId;
        const state: ReplicaState =
          row.stopped > 0
            ? "stopped"
            : now - row.heartbeat > leaseTimeoutMs
              ? "silent"
              : leads
                ? lease?.serving
                  ? "leader"
                  : "taking_over"
                : "follower";
        return {
          id: row.replica_id,
          url: row.url,
          hostname: row.hostname,
          pid: row.pid,
          version: row.version,
          started: row.started,
          heartbeat: row.heartbeat,
          state,
          self: row.replica_id === self,
          ...(leads && owns && { owns }),
        };
      }),
    };
  }
}
