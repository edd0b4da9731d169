/** How the replicas listing reads: the lease line above the table, what the leader owns, a replica's short id. */
import type { ReplicaListing, ReplicaSummary } from "../api/types.ts";
import { duration, fromNow } from "../format.ts";

/** Replica ids are UUIDs: the first eight characters tell them apart, as `gofer service replicas` shows them. */
export const shortId = (id: string): string => id.slice(0, 8);

const count = (n: number, word: string): string => `${n} ${word}${n === 1 ? "" : "s"}`;

/** What the leader has in hand; "–" for the others, which own nothing. */
export function ownsText(owns: ReplicaSummary["owns"]): string {
  if (!owns) return "–";
  return [
    count(owns.runs_in_flight, "run"),
    count(owns.tasks_in_flight, "task"),
    count(owns.extensions, "extension"),
  ].join(", ");
}

/** The state's words: `taking_over` reads "taking over". */
export const stateText = (state: ReplicaSummary["state"]): string => state.replace("_", " ");

/** Silent (likely dead) and stopped replicas do nothing: the table dims them. */
export const isGone = (state: ReplicaSummary["state"]): boolean => state === "silent" || state === "stopped";

/** The facts above the table: storage, then the lease's holder, term, whether it serves and when it expires. */
export function leaseFacts(listing: ReplicaListing, now = Date.now()): string[] {
  if (listing.storage === "sqlite") {
    return ["Storage: SQLite", "one server, always leading (replicas need PostgreSQL)"];
  }
  const facts = ["Storage: PostgreSQL"];
  const lease = listing.lease;
  if (!lease) return [...facts, "lease never taken", `lease timeout ${duration(listing.lease_timeout_ms)}`];
  const expired = lease.expires <= now;
  return [
    ...facts,
    `lease term ${lease.term}, held by ${shortId(lease.holder)}`,
    lease.serving ? "serving" : expired ? "not serving (lease vacant)" : "not serving yet (being taken over)",
    `${expired ? "expired" : "expires"} ${fromNow(lease.expires, now)}`,
    `lease timeout ${duration(listing.lease_timeout_ms)}`,
  ];
}

const ORDER: Record<ReplicaSummary["state"], number> = {
  leader: 0,
  taking_over: 1,
  follower: 2,
  silent: 3,
  stopped: 4,
};

/** The leader first, then followers, then the ones gone; the oldest first within each. */
export function orderReplicas(replicas: ReplicaSummary[]): ReplicaSummary[] {
  return [...replicas].sort(
    (a, b) => ORDER[a.state] - ORDER[b.state] || a.started - b.started || a.id.localeCompare(b.id),
  );
}
