/**
 * The NOTIFY half of the event relay (event-relay.ts holds the LISTEN half): kept apart so that the server
 * assembles without loading the PostgreSQL driver when it runs on SQLite.
 */
import { sql } from "kysely";
import type { GoferDb } from "../storage/database.ts";

export const EVENTS_CHANNEL = "gofer_events";

/** The statement the leader's event-storing transaction runs after each event: see EventBus's `announce`. */
export async function announceEvent(db: GoferDb): Promise<void> {
  await sql`select pg_notify(${EVENTS_CHANNEL}, '')`.execute(db);
}
