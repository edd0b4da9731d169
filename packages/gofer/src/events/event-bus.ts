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

export interface EventBusOptions {
  /**
   * Tells other replicas an event was stored, in the same transaction as the event (PostgreSQL's NOTIFY is
   * delivered on commit), so they hear of it only once it is committed.
   */
  announce?: (db: GoferDb) => Promise<void>;
  /** Adds to an event's details before it is stored (the run's trace id, when tracing is on). */
  decorate?: (kind: EventKindName, details: object) => object;
  /** Told how long each transaction of {@link EventBus.transaction} took and whether it committed. */
  observeTransaction?: (seconds: number, committed: boolean) => void;
}

export interface SubscribeOptions {
  /**
   * Also hear events stored by another replica (the leader), relayed here: for listeners that only report
   * (event streams). Listeners that act on an event (removing files, expiring objects) hear only events of
   * this replica, so the work an event causes is done once, by the replica that did the change.
   */
  relayed?: boolean;
}

export class EventBus {
  readonly #db: GoferDb;
  readonly #options: EventBusOptions;
  readonly #listeners = new Map<EventListener, SubscribeOptions>();
  /** The newest event id delivered, so a relayed event already heard is not heard twice. */
  #lastDelivered = 0;
  /** The newest event id relayed: a listener of relayed events already heard those up to it. */
  #lastRelayed = 0;

  constructor(db: GoferDb, options: EventBusOptions = {}) {
    this.#db = db;
    this.#options = options;
  }

  get lastDeliveredId(): number {
    return this.#lastDelivered;
  }

  /** Persists the event (in the caller's transaction when `db` is one), then delivers it. */
  async publish<K extends EventKindName>(
    kind: K,
    details: EventDetailsByKind[K],
    db: GoferDb = this.#db,
  ): Promise<GoferEvent> {
    const decorated = (this.#options.decorate?.(kind, details) ?? details) as EventDetailsByKind[K];
    const event = await insertEvent(db, kind, decorated, Date.now());
    await this.#options.announce?.(db);
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
    const began = performance.now();
    let result: T;
    try {
      result = await this.#db.transaction().execute((tx) =>
        work(tx, async (kind, details) => {
          const event = await this.publish(kind, details, tx);
          events.push(event);
          return event;
        }),
      );
    } catch (error) {
      this.#options.observeTransaction?.((performance.now() - began) / 1000, false);
      throw error;
    }
    this.#options.observeTransaction?.((performance.now() - began) / 1000, true);
    for (const event of events) this.deliver(event);
    return result;
  }

  /** Delivers an event whose row was committed by a transaction the caller ran. */
  deliver(event: GoferEvent): void {
    const id = Number(event.id);
    this.#lastDelivered = Math.max(this.#lastDelivered, id);
    // While a replica takes over, the relay may have read this replica's own event first: streams heard it then.
    const relayedAlready = id <= this.#lastRelayed;
    this.#send(event, (options) => !(relayedAlready && options.relayed === true));
  }

  /** Delivers an event another replica stored, to listeners that asked for such, once and in id order. */
  relay(event: GoferEvent): void {
    const id = Number(event.id);
    if (id <= this.#lastDelivered) return;
    this.#lastDelivered = id;
    this.#lastRelayed = id;
    this.#send(event, (options) => options.relayed === true);
  }

  /** Relayed events count from `id` on: those stored before this replica started are history, not news. */
  relayAfter(id: number): void {
    this.#lastDelivered = Math.max(this.#lastDelivered, id);
  }

  /** Listeners that report (event streams), as opposed to those that act. */
  streamCount(): number {
    let count = 0;
    for (const options of this.#listeners.values()) if (options.relayed === true) count++;
    return count;
  }

  subscribe(listener: EventListener, options: SubscribeOptions = {}): () => void {
    this.#listeners.set(listener, options);
    return () => this.#listeners.delete(listener);
  }

  #send(event: GoferEvent, wants: (options: SubscribeOptions) => boolean): void {
    for (const [listener, options] of this.#listeners) {
      if (!wants(options)) continue;
      try {
        listener(event);
      } catch {
        // A broken listener (a closed socket) must not stop delivery to the others.
      }
    }
  }
}
