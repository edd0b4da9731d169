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
}

/** How a stream's opening went: `ended` once a reversed history is sent, `following` once live events flow. */
export type StreamOutcome = "ended" | "following" | "aborted";

export class EventService {
  readonly #db: GoferDb;
  readonly #bus: EventBus;

  constructor({ db, bus }: { db: GoferDb; bus: EventBus }) {
    this.#db = db;
    this.#bus = bus;
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
  checkStreamOptions({ history, reverse }: StreamOptions): void {
    if (reverse && !history) {
      throw new GoferError(
        "BAD_REQUEST",
        "`reverse=true` needs `history=true`: live events only arrive in order",
      );
    }
  }

  /**
   * Sends history, then live events until `signal` aborts. Live events are buffered from the moment this is
   * called, and those already sent from history are skipped by id, so the switch from history to live loses
   * and repeats nothing. A failure stops the stream and rejects.
   */
  async stream(
    { history, reverse }: StreamOptions,
    send: (event: GoferEvent) => void,
    signal: AbortSignal,
  ): Promise<StreamOutcome> {
    const buffered: GoferEvent[] = [];
    let live: ((event: GoferEvent) => void) | undefined;
    const unsubscribe = reverse
      ? () => undefined
      : this.#bus.subscribe((event) => (live ? live(event) : buffered.push(event)), { relayed: true });
    if (signal.aborted) unsubscribe();
    else signal.addEventListener("abort", unsubscribe, { once: true });
    try {
      let lastId = 0;
      if (history) {
        let cursor: number | undefined;
        for (;;) {
          const page = await pageEvents(this.#db, {
            limit: HISTORY_PAGE,
            reverse,
            ...(cursor !== undefined && (reverse ? { beforeId: cursor } : { afterId: cursor })),
          });
          for (const event of page) {
            send(event);
            lastId = Math.max(lastId, Number(event.id));
          }
          if (page.length < HISTORY_PAGE) break;
          cursor = Number(page[page.length - 1]?.id);
          // SQLite answers within the same turn of the event loop, so without a turn given up per page a long
          // history held the whole server (and never saw its client leave) until every page was sent.
          await setImmediate();
          if (signal.aborted) return "aborted";
        }
        if (reverse) return "ended";
      }
      for (const event of buffered) if (Number(event.id) > lastId) send(event);
      live = (event) => {
        if (Number(event.id) > lastId) send(event);
      };
      return "following";
    } catch (error) {
      unsubscribe();
      throw error;
    }
  }
}
