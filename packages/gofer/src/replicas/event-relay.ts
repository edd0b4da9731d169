/**
 * Events stored by another replica reach this one's event streams: the leader's transactions NOTIFY on
 * `gofer_events` as they store events (delivered by PostgreSQL on commit), and every other replica LISTENs on a
 * connection of its own and then reads what is new from the `events` table, which stays the truth. A lost
 * connection is opened again with backoff, and the events stored meanwhile are read on return, so a stream on a
 * follower misses nothing; it hears each event once and in id order (the leader commits one transaction at a
 * time, so ids commit in order).
 */
import pg from "pg";
import type { EventBus } from "../events/event-bus.ts";
import type { GoferDb } from "../storage/database.ts";
import { pageEvents } from "../storage/events-store.ts";
import { maskSecret } from "../support/database-url.ts";

import { EVENTS_CHANNEL as CHANNEL } from "./event-announce.ts";

const PAGE = 500;
const FIRST_RETRY_MS = 250;
const MAX_RETRY_MS = 5_000;

export interface EventRelayOptions {
  url: string;
  db: GoferDb;
  bus: EventBus;
  /** While true (this replica leads), its own events are delivered where they are stored: nothing to relay. */
  leads: () => boolean;
  warn: (message: string) => void;
}

export class EventRelay {
  readonly #options: EventRelayOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #reading: Promise<void> = Promise.resolve();
  #again = false;
  #busy = false;

  constructor(options: EventRelayOptions) {
    this.#options = options;
  }

  /** Listens from now on; events already stored are history (the event API serves them). */
  async start(): Promise<void> {
    const [newest] = await pageEvents(this.#options.db, { limit: 1, reverse: true });
    this.#options.bus.relayAfter(Number(newest?.id ?? 0));
    await this.#listen();
  }

  /** Reads and relays what is new; called on each notification and after a reconnect. */
  catchUp(): Promise<void> {
    if (this.#busy) {
      this.#again = true;
      return this.#reading;
    }
    this.#busy = true;
    this.#reading = (async () => {
      try {
        do {
          this.#again = false;
          await this.#readNew();
        } while (this.#again && !this.#closed);
      } catch (error) {
        this.#options.warn(`could not read new events to relay: ${messageOf(error)}; trying again in 1 s`);
        // Not left for the next notification, which may be long in coming.
        setTimeout(() => void this.catchUp(), 1_000).unref();
      } finally {
        this.#busy = false;
      }
    })();
    return this.#reading;
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#client?.end().catch(() => undefined);
    await this.#reading;
  }

  async #readNew(): Promise<void> {
    const { db, bus, leads } = this.#options;
    for (;;) {
      if (leads() || this.#closed) return;
      const page = await pageEvents(db, { afterId: bus.lastDeliveredId, limit: PAGE, reverse: false });
      for (const event of page) bus.relay(event);
      if (page.length < PAGE) return;
    }
  }

  async #listen(): Promise<void> {
    const { url, warn } = this.#options;
    let delay = FIRST_RETRY_MS;
    while (!this.#closed) {
      const client = new pg.Client({
        connectionString: url,
        keepAlive: true,
        keepAliveInitialDelayMillis: 10_000,
      });
      client.on("error", () => undefined);
      try {
        await client.connect();
        await client.query(`listen ${CHANNEL}`);
      } catch (error) {
        await client.end().catch(() => undefined);
        warn(
          `could not listen for other replicas' events: ${maskSecret(messageOf(error), url)}; trying again`,
        );
        await sleep(delay);
        delay = Math.min(delay * 2, MAX_RETRY_MS);
        continue;
      }
      if (this.#closed) {
        await client.end().catch(() => undefined);
        return;
      }
      this.#client = client;
      client.on("notification", () => void this.catchUp());
      let lost = false;
      const reconnect = (error?: Error) => {
        if (this.#closed || lost) return;
        lost = true;
        warn(
          `lost the connection listening for other replicas' events` +
            `${error ? `: ${maskSecret(error.message, url)}` : ""}; listening again`,
        );
        client.end().catch(() => undefined);
        void sleep(FIRST_RETRY_MS).then(() => this.#listen());
      };
      client.on("error", reconnect);
      client.on("end", () => reconnect());
      // What was stored while nobody listened.
      void this.catchUp();
      return;
    }
  }
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
