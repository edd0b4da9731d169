/**
 * Every state change becomes an event: committed to the `events` table first, then fanned out to live
 * listeners (WebSocket streams). Listeners never block publishers; a listener that throws is dropped from
 * that one delivery, not from the bus.
 */
import type { EventDetailsByKind, EventKindName, GoferEvent } from "../domain/models.ts";
import type { GoferDb } from "../storage/database.ts";
import { insertEvent } from "../storage/events-store.ts";

export type EventListener = (event: GoferEvent) => void;

/** Publishes within the transaction of {@link EventBus.transaction}. */
export type PublishInTransaction = <K extends EventKindName>(
  kind: K,
  details: EventDetailsByKind[K],
) => Promise<GoferEvent>;

export class EventBus {
  readonly #db: GoferDb;
  readonly #listeners = new Set<EventListener>();

  constructor(db: GoferDb) {
    this.#db = db;
  }

  /** Persists the event (in the caller's transaction when `db` is one), then delivers it. */
  async publish<K extends EventKindName>(
    kind: K,
    details: EventDetailsByKind[K],
    db: GoferDb = this.#db,
  ): Promise<GoferEvent> {
    const event = await insertEvent(db, kind, details, Date.now());
    if (db === this.#db) this.deliver(event);
    return event;
  }

  /**
   * Runs `work` in one transaction: the events it publishes are stored with its changes and delivered to
   * listeners once it commits, so a listener never hears of a change that was rolled back, and a crash never
   * keeps a change without its event.
   */
  async transaction<T>(work: (tx: GoferDb, publish: PublishInTransaction) => Promise<T>): Promise<T> {
    const events: GoferEvent[] = [];
    const result = await this.#db.transaction().execute((tx) =>
      work(tx, async (kind, details) => {
        const event = await this.publish(kind, details, tx);
        events.push(event);
        return event;
      }),
    );
    for (const event of events) this.deliver(event);
    return result;
  }

  /** Delivers an event whose row was committed by a transaction the caller ran. */
  deliver(event: GoferEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch {
        // A broken listener (a closed socket) must not stop delivery to the others.
      }
    }
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
