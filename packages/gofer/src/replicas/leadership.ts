/**
 * Which replica runs the work. On SQLite there is one server and it always does. On PostgreSQL every server
 * (replica) registers itself and heartbeats, and the one holding the `work` lease runs the run loop, the
 * extensions and retention; the others serve the API and hand it what only the leader may do (forwarding.ts).
 *
 * The lease lasts `leaseTimeoutMs` from each renewal, by the database's clock; the leader renews it every third
 * of that. A leader that has not renewed within two thirds of it (a lost database, a paused process) stops
 * being one before the lease can end, by its own monotonic clock, so two replicas never run the work at once:
 * the database refuses its queries from then on (see {@link Leadership.fenced}) and `onLost` ends the process,
 * which its supervisor restarts as a follower (as Kubernetes' own controllers do when they lose their lease).
 * A follower takes an expired lease at its next heartbeat, takes over the work exactly as a restart does
 * (recovery adopts the running containers), and only then serves as leader: adoption within the lease timeout
 * plus one heartbeat.
 */
import { hostname } from "node:os";
import type { GoferDb } from "../storage/database.ts";
import {
  claimLease,
  countOtherLiveReplicas,
  getLease,
  getReplica,
  type Lease,
  markLeaseServing,
  markReplicaStopped,
  pruneReplicas,
  recordHeartbeat,
  registerReplica,
  releaseLease,
} from "../storage/replicas-store.ts";

export const WORK_LEASE = "work";

/** `taking-over`: holds the lease, recovery under way; what only the leader serves is refused until it ends. */
export type ReplicaRole = "leader" | "taking-over" | "follower";

export interface LeaderAddress {
  replica_id: string;
  url: string;
  external_events_url: string | null;
  term: number;
}

/** What the API needs to know about leadership; the single server of SQLite is always the leader. */
export interface ReplicaView {
  readonly replicaId: string;
  role(): ReplicaRole;
  /** The serving leader, when there is one; undefined while a lease is vacant or its holder is taking over. */
  leader(): Promise<LeaderAddress | undefined>;
  /** Forgets the cached leader after a forward to it failed. */
  forgetLeader(): void;
}

export const SINGLE_SERVER: ReplicaView = {
  replicaId: "single",
  role: () => "leader",
  leader: async () => undefined,
  forgetLeader: () => undefined,
};

export interface LeadershipOptions {
  /** The main database, for reads. */
  db: GoferDb;
  /**
   * The connection for the heartbeat and the lease (storage/postgres-database.ts openControlConnection), so a
   * renewal never waits behind the main connection's queue. The main one when not given.
   */
  control?: GoferDb;
  replicaId: string;
  version: string;
  leaseTimeoutMs: number;
  /** Takes over the work (recovery, run loop, extensions); the replica serves as leader once it resolves. */
  takeOver: (term: number) => Promise<void>;
  /** The lease is lost or cannot be kept: the work must stop now. Ends the process unless a caller says else. */
  onLost: (reason: string) => void;
  log: { info: (message: string) => void; error: (message: string, error?: unknown) => void };
}

/** How long a silent replica's row stays listed (with its last heartbeat) before it is forgotten. */
const FORGET_SILENT_MS = 24 * 60 * 60 * 1000;
/** How long a looked-up leader is trusted before the lease is read again. */
const LEADER_CACHE_MS = 1_000;

export class Leadership implements ReplicaView {
  readonly replicaId: string;
  readonly #options: LeadershipOptions;
  readonly #control: GoferDb;
  #role: ReplicaRole = "follower";
  #term = 0;
  /** Monotonic time the last successful renewal was sent; the lease is ours until this + 2/3 of the timeout. */
  #renewedAt = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #beating = false;
  #acceptsWork = false;
  #lost: string | undefined;
  #stopped = false;
  #cachedLeader: { at: number; leader: LeaderAddress | undefined } | undefined;

  constructor(options: LeadershipOptions) {
    this.#options = options;
    this.replicaId = options.replicaId;
    this.#control = options.control ?? options.db;
  }

  /** Registers this replica; `urls` say where the others reach it. */
  async register(urls: { url: string; external_events_url: string | null }): Promise<void> {
    await registerReplica(this.#control, {
      replica_id: this.replicaId,
      url: urls.url,
      external_events_url: urls.external_events_url,
      hostname: hostname(),
      pid: process.pid,
      version: this.#options.version,
    });
  }

  role(): ReplicaRole {
    return this.#role;
  }

  get term(): number {
    return this.#term;
  }

  /**
   * Why this replica's queries must be refused, if they must: it led and its lease may have passed to another.
   * Checked before every database connection is handed out, so a leader waking from a long pause writes nothing.
   */
  fenced(): string | undefined {
    if (this.#lost !== undefined) return this.#lost;
    if (this.#role !== "follower" && this.#leaseRunningOut()) {
      this.#lose("its lease was not renewed in time");
      return this.#lost;
    }
    return undefined;
  }

  /** Tries once to become the leader; true when it did (the caller then takes over and calls {@link serve}). */
  async tryLead(): Promise<boolean> {
    const sentAt = performance.now();
    const lease = await claimLease(this.#control, WORK_LEASE, this.replicaId, this.#options.leaseTimeoutMs);
    if (lease === undefined) return false;
    this.#renewedAt = sentAt;
    this.#term = lease.term;
    this.#role = "taking-over";
    this.#options.log.info(
      `this replica (${this.replicaId}) leads, term ${lease.term}: taking over the work`,
    );
    return true;
  }

  /** The work is taken over: serve as leader. */
  async serve(): Promise<void> {
    if (!(await markLeaseServing(this.#control, WORK_LEASE, this.replicaId, this.#term))) {
      this.#lose("another replica took the lease while this one was taking over");
      return;
    }
    this.#role = "leader";
    this.#cachedLeader = undefined;
    this.#options.log.info(`this replica (${this.replicaId}) serves as leader, term ${this.#term}`);
  }

  /**
   * Heartbeats from now on, renewing the lease if this replica holds it (so a long start does not lose it). A
   * follower takes the lease when it falls vacant only once {@link acceptWork} has been called.
   */
  startHeartbeat(): void {
    const every = Math.max(250, Math.floor(this.#options.leaseTimeoutMs / 3));
    this.#heartbeat = setInterval(() => void this.#beat(), every);
    this.#heartbeat.unref();
    this.#watchdog = setInterval(() => this.fenced(), Math.min(500, every));
    this.#watchdog.unref();
  }

  async leader(): Promise<LeaderAddress | undefined> {
    const now = performance.now();
    if (this.#cachedLeader && now - this.#cachedLeader.at < LEADER_CACHE_MS) return this.#cachedLeader.leader;
    const lease = await getLease(this.#options.db, WORK_LEASE);
    let leader: LeaderAddress | undefined;
    if (lease && !lease.expired && lease.serving) {
      const replica = await getReplica(this.#options.db, lease.holder);
      if (replica)
        leader = {
          replica_id: replica.replica_id,
          url: replica.url,
          external_events_url: replica.external_events_url,
          term: lease.term,
        };
    }
    this.#cachedLeader = { at: now, leader };
    return leader;
  }

  /** The replica is up (listening, relaying events): from now on it may take the work over. */
  acceptWork(): void {
    this.#acceptsWork = true;
  }

  forgetLeader(): void {
    this.#cachedLeader = undefined;
  }

  /** Whether another replica is up to take the work over (heard from within the lease timeout). */
  async othersAlive(): Promise<boolean> {
    const others = await countOtherLiveReplicas(
      this.#options.db,
      this.replicaId,
      this.#options.leaseTimeoutMs,
    );
    return others > 0;
  }

  /** Stops heartbeating; a leader hands its lease back so a follower takes over at its next heartbeat. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#heartbeat);
    clearInterval(this.#watchdog);
    const db = this.#control;
    if (this.#role !== "follower" && this.#lost === undefined) {
      await releaseLease(db, WORK_LEASE, this.replicaId).catch((error: unknown) =>
        this.#options.log.error(
          "could not hand the lease back; another replica takes it when it expires",
          error,
        ),
      );
    }
    await markReplicaStopped(db, this.replicaId).catch(() => undefined);
  }

  async #beat(): Promise<void> {
    if (this.#beating || this.#stopped || this.#lost !== undefined) return;
    this.#beating = true;
    const { leaseTimeoutMs, log } = this.#options;
    const db = this.#control;
    try {
      if (!(await recordHeartbeat(db, this.replicaId))) {
        log.error(`this replica's (${this.replicaId}) record was gone; it was silent for a long time`);
      }
      if (this.#role === "follower") {
        if (!this.#acceptsWork) return;
        await pruneReplicas(db, FORGET_SILENT_MS);
        // Not awaited: the heartbeats go on renewing the lease while the takeover runs.
        if (await this.tryLead()) void this.#takeOver();
        return;
      }
      // A leader past its deadline must not renew: another replica may already be taking over.
      if (this.fenced() !== undefined) return;
      const sentAt = performance.now();
      const lease = await claimLease(db, WORK_LEASE, this.replicaId, leaseTimeoutMs);
      if (lease === undefined || lease.term !== this.#term) {
        this.#lose("another replica holds the lease");
        return;
      }
      this.#renewedAt = sentAt;
    } catch (error) {
      // The watchdog decides when a leader that cannot renew must stop; a follower just tries again.
      log.error("the replica heartbeat failed; trying again at the next one", error);
    } finally {
      this.#beating = false;
    }
  }

  async #takeOver(): Promise<void> {
    try {
      await this.#options.takeOver(this.#term);
      if (this.#lost === undefined) await this.serve();
    } catch (error) {
      this.#options.log.error("taking over the work failed", error);
      this.#lose(`taking over the work failed: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  #leaseRunningOut(): boolean {
    return performance.now() - this.#renewedAt > (this.#options.leaseTimeoutMs * 2) / 3;
  }

  #lose(reason: string): void {
    if (this.#lost !== undefined || this.#stopped) return;
    this.#lost = `this replica (${this.replicaId}) stopped leading: ${reason}`;
    clearInterval(this.#heartbeat);
    clearInterval(this.#watchdog);
    this.#options.onLost(this.#lost);
  }
}

export type { Lease };
