/** The event log: reading and deleting stored events, and streams of history followed by live events. */
import { setImmediate } from "node:timers/promises";
import { GoferError, notFound } from "../domain/errors.ts";
import type { GoferEvent } from "../domain/models.ts";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { deleteEvent, getEvent, pageEvents } from "../storage/events-store.ts";

/** History is read in pages, so a long log never sits in memory whole. */
const HISTORY_PAGE = 200;

export interface StreamOptions {
  /** Send stored events first. */
  history: boolean;
  /** History newest first; the stream then ends with the oldest event instead of following live ones. */
  reverse: boolean;
  /** With a reversed history: start below this event id, so a client pages back from the oldest it holds. */
  before?: number | undefined;
  /** With a forward history: start above this event id, then follow live events as usual. */
  after?: number | undefined;
  /** End the stream once this many events are sent, from history or live. */
  limit?: number | undefined;
}

/**
 * How a stream went: `ended` once a reversed history or `limit` events are sent (a limited stream's promise
 * settles only then, or on abort), `following` once live events flow without a limit.
 */
export type StreamOutcome = "ended" | "following" | "aborted";

/** Where a stream's events go. */
export interface EventSink {
  send(event: GoferEvent): void;
  /** Resolves once the receiver can take more: history waits on it between pages. */
  room?(): Promise<void>;
  /** The receiver fell too far behind to be kept: end the stream, saying `reason`. */
  fellBehind(reason: string): void;
}

/**
 * Live events a stream holds while it still sends history. A client that reads the history slower than events
 * come would make this grow without end; past it the stream is closed as behind, to reconnect from its last id.
 */
const MAX_HELD_LIVE_EVENTS = 50_000;

export class EventService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;
  readonly #maxHeld: number;

  constructor({ db, bus, maxHeld = MAX_HELD_LIVE_EVENTS }: { db: GoferDb; bus: EventBus; maxHeld?: number }) {
    this.#db = db;
    this.#bus = bus;
    this.#maxHeld = maxHeld;
  }

  async get(id: number): Promise<GoferEvent> {
    const event = await getEvent(this.#db, id);
    if (!event) throw notFound(`Event ${id}`);
    return event;
  }

  async delete(id: number): Promise<void> {
    if (!(await deleteEvent(this.#db, id))) throw notFound(`Event ${id}`);
  }

  /** Refuses options no stream can honour, before a WebSocket is opened for it. */
  checkStreamOptions({ history, reverse, before, after }: StreamOptions): void {
    if (reverse && !history) {
      throw new GoferError(
        "BAD_REQUEST",
        "`reverse=true` needs `history=true`: live events only arrive in order",
      );
    }
    if (before !== undefined && after !== undefined) {
      throw new GoferError(
        "BAD_REQUEST",
        "`before` and `after` cannot be combined: page back with `before` and `reverse=true`, or forward with `after`",
      );
    }
    if (before !== undefined && !(history && reverse)) {
      throw new GoferError(
        "BAD_REQUEST",
        "`before` needs `history=true&reverse=true`: it pages back through stored events, newest first; " +
          "to read forward from an event use `after`",
      );
    }
    if (after !== undefined && (!history || reverse)) {
      throw new GoferError(
        "BAD_REQUEST",
        "`after` needs `history=true` without `reverse=true`: it reads stored events forward from an event, " +
          "then live ones; to page back use `before`",
      );
    }
  }

  /**
   * Sends history, then live events until `signal` aborts or `limit` events are sent. Live events are buffered
   * from the moment this is called, and those already sent from history are skipped by id, so the switch from
   * history to live loses and repeats nothing. A failure stops the stream and rejects.
   */
  async stream(
    { history, reverse, before, after, limit = Number.POSITIVE_INFINITY }: StreamOptions,
    sink: EventSink,
    signal: AbortSignal,
  ): Promise<StreamOutcome> {
    const send = (event: GoferEvent) => sink.send(event);
    const buffered: GoferEvent[] = [];
    let behind = false;
    const hold = (event: GoferEvent) => {
      if (behind) return;
      if (buffered.length < this.#maxHeld) {
        buffered.push(event);
        return;
      }
      behind = true;
      unsubscribe();
      buffered.length = 0;
      sink.fellBehind(
        `more than ${this.#maxHeld} live events came while history was being read; reconnect with after=<last id>`,
      );
    };
    let live: ((event: GoferEvent) => void) | undefined;
    const unsubscribe = reverse
      ? () => undefined
      : this.#bus.subscribe((event) => (live ? live(event) : hold(event)), { relayed: true });
    if (signal.aborted) unsubscribe();
    else signal.addEventListener("abort", unsubscribe, { once: true });
    let sent = 0;
    try {
      let lastId = after ?? 0;
      if (history) {
        // The cursor is an id, so each page is a range of the primary key: the same cost on the millionth page.
        let cursor = reverse ? before : after;
        for (;;) {
          const size = Math.min(HISTORY_PAGE, limit - sent);
          const page = await pageEvents(this.#db, {
            limit: size,
            reverse,
            ...(cursor !== undefined && (reverse ? { beforeId: cursor } : { afterId: cursor })),
          });
          for (const event of page) {
            send(event);
            lastId = Math.max(lastId, Number(event.id));
          }
          sent += page.length;
          if (sent >= limit) {
            unsubscribe();
            return "ended";
          }
          if (page.length < size) break;
          cursor = Number(page[page.length - 1]?.id);
          // SQLite answers within the same turn of the event loop, so without a turn given up per page a long
          // history held the whole server (and never saw its client leave) until every page was sent.
          await setImmediate();
          // And the next page waits until the client has taken most of this one.
          await sink.room?.();
          if (signal.aborted || behind) return "aborted";
        }
        if (reverse) return "ended";
      }
      if (limit === Number.POSITIVE_INFINITY) {
        for (const event of buffered) if (Number(event.id) > lastId) send(event);
        live = (event) => {
          if (Number(event.id) > lastId) send(event);
        };
        return "following";
      }
      return await new Promise<StreamOutcome>((resolve) => {
        let done = false;
        const deliver = (event: GoferEvent) => {
          if (done || Number(event.id) <= lastId) return;
          send(event);
          lastId = Number(event.id);
          sent += 1;
          if (sent < limit) return;
          done = true;
          unsubscribe();
          resolve("ended");
        };
        if (signal.aborted) resolve("aborted");
        else signal.addEventListener("abort", () => resolve("aborted"), { once: true });
        for (const event of buffered.splice(0)) deliver(event);
        live = deliver;
      });
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }
}
