import type { EventDetailsByKind, EventKind, EventKindName, GoferEvent } from "../domain/models.ts";
import type { GoferDb } from "./database.ts";
import { parseJson, toJson } from "./json-columns.ts";
import type { EventsTable } from "./schema.ts";

type EventRow = Omit<EventsTable, "id"> & { id: number };

const toEvent = (row: EventRow): GoferEvent => ({
  id: String(row.id),
  kind: { [row.kind]: parseJson<Record<string, unknown>>(row.details_json) } as EventKind,
  emitted: row.emitted,
});

export async function insertEvent<K extends EventKindName>(
  db: GoferDb,
  kind: K,
  details: EventDetailsByKind[K],
  emitted: number,
): Promise<GoferEvent> {
  const row = await db
    .insertInto("events")
    .values({ kind, details_json: toJson(details), emitted })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: String(row.id), kind: { [kind]: details } as unknown as EventKind, emitted };
}

export async function getEvent(db: GoferDb, id: number): Promise<GoferEvent | undefined> {
  const row = await db.selectFrom("events").selectAll().where("id", "=", id).executeTakeFirst();
  return row && toEvent(row);
}

export async function deleteEvent(db: GoferDb, id: number): Promise<boolean> {
  const result = await db.deleteFrom("events").where("id", "=", id).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/**
 * Deletes up to `limit` of the oldest events emitted before `cutoff`; returns how many went. Bounded so a large
 * backlog is deleted in short statements that let other queries in between. Oldest by `emitted`, the order of
 * `events_by_emitted`: ordered by id, SQLite walked the whole log looking for old events when there were none.
 */
export async function deleteEventsEmittedBefore(db: GoferDb, cutoff: number, limit: number): Promise<number> {
  const result = await db
    .deleteFrom("events")
    .where(
      "id",
      "in",
      db.selectFrom("events").select("id").where("emitted", "<", cutoff).orderBy("emitted").limit(limit),
    )
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

/**
 * One page of history, strictly after (or, reversed, before) the given id: a range of the primary key read in
 * its own order, so a page deep in a long log costs what the first one does (no scan, no sort).
 */
export async function pageEvents(
  db: GoferDb,
  options: { afterId?: number; beforeId?: number; limit: number; reverse: boolean },
): Promise<GoferEvent[]> {
  let query = db.selectFrom("events").selectAll();
  if (options.afterId !== undefined) query = query.where("id", ">", options.afterId);
  if (options.beforeId !== undefined) query = query.where("id", "<", options.beforeId);
  const rows = await query
    .orderBy("id", options.reverse ? "desc" : "asc")
    .limit(options.limit)
    .execute();
  return rows.map(toEvent);
}
