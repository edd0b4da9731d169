/**
 * The event history read a page at a time from an event id (`before`, `after`, `limit`: extensions of v0), on a
 * real server over SQLite and over PostgreSQL with a few thousand stored events: pages back from the newest and
 * forward from the oldest that together are exactly the stored history, with no gap and no repeat; a forward
 * page that waits for live events and closes at its limit; refusals of values and combinations that make no
 * sense, naming the parameter; and each page read as a range of the primary key, whatever its depth.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { sql } from "kysely";
import WebSocket from "ws";
import type { GoferDb } from "../src/storage/database.ts";
import { insertEvent, pageEvents } from "../src/storage/events-store.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./support/private-postgres.ts";
import { planOf } from "./support/query-plan.ts";
import { StatementCounter } from "./support/statement-counter.ts";
import { type StoredEvent, storedEvents } from "./support/stored-events.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import {
  assertEnvelopeBody,
  collectSocket,
  refusedSocket,
  socketHeaders,
  socketUrl,
} from "./support/websocket.ts";

/** Many pages of the history stream's 200 events, and of the pages asked for here. */
const STORED = 3_000;
const WAIT_MS = 20_000;

interface Page {
  events: StoredEvent[];
  code: number;
}

async function readPage(server: TestServer, query: string): Promise<Page> {
  const { frames, code } = await collectSocket(server, `/api/events?${query}`, WAIT_MS);
  return { events: frames.map((frame): StoredEvent => JSON.parse(frame)), code };
}

const idsOf = (events: StoredEvent[]) => events.map((event) => Number(event.id));

/** The SQL plan of the store's own page query below `beforeId` (or above `afterId`), as the store sends it. */
function planOfPage(
  db: GoferDb,
  backend: "sqlite" | "postgres",
  cursor: { beforeId: number; reverse: true } | { afterId: number; reverse: false },
): Promise<string> {
  return planOf(db, backend, (viewed) => pageEvents(viewed, { ...cursor, limit: 100 }));
}

let postgres: PrivatePostgres | undefined;
before(async () => {
  postgres = await startPrivatePostgres();
});
after(async () => {
  await postgres?.stop();
});

for (const backend of ["sqlite", "postgres"] as const) {
  describe(`event history from a cursor: ${backend}`, () => {
    const counter = new StatementCounter();
    let server: TestServer;
    /** Every stored event, oldest first, as the whole v0 history stream sends them. */
    let stored: StoredEvent[];

    before(async () => {
      const databaseUrl =
        backend === "postgres"
          ? await (postgres as PrivatePostgres).createDatabase(`gofer_event_cursor_${process.pid}`)
          : undefined;
      server = await startTestServer(
        {},
        { wrapDatabase: counter.wrap, ...(databaseUrl !== undefined && { databaseUrl }) },
      );
      await server.service.db.transaction().execute(async (tx) => {
        for (let index = 0; index < STORED; index += 1)
          await insertEvent(tx, "created_namespace", { namespace_id: `ns-${index}` }, Date.now());
      });
      if (backend === "postgres") await sql`ANALYZE events`.execute(server.service.db);
      stored = await storedEvents(server);
      assert.ok(stored.length >= STORED, `${stored.length} events stored`);
    });
    after(async () => {
      await server?.stop();
    });

    it("pages back from the newest to the oldest, each page exact, together the whole history", async () => {
      const size = 170;
      const pages: number[][] = [];
      let page = await readPage(server, `history=true&reverse=true&limit=${size}`);
      // Bounded, so a cursor that did not move fails here instead of paging forever.
      while (pages.length <= stored.length / size + 1) {
        assert.equal(page.code, 1000, "a page ends with a normal close");
        pages.push(idsOf(page.events));
        if (page.events.length < size) break;
        const oldest = page.events.at(-1)?.id;
        page = await readPage(server, `history=true&reverse=true&limit=${size}&before=${oldest}`);
      }
      assert.equal(pages.length, Math.ceil(stored.length / size) + (stored.length % size === 0 ? 1 : 0));
      for (const ids of pages.slice(0, -1)) assert.equal(ids.length, size);
      assert.deepEqual(pages.flat(), idsOf(stored).reverse(), "no gap and no repeat, newest first");

      // Below the oldest event there is nothing, and the stream says so by closing.
      const below = await readPage(server, `history=true&reverse=true&before=${stored[0]?.id}`);
      assert.deepEqual(below, { events: [], code: 1000 });
      // Without a limit, `before` sends everything older than it.
      const middle = stored[1000] as StoredEvent;
      const older = await readPage(server, `history=true&reverse=true&before=${middle.id}`);
      assert.deepEqual(idsOf(older.events), idsOf(stored.slice(0, 1000)).reverse());
      // Without a cursor, v0's whole history stream is unchanged.
      const whole = await readPage(server, "history=true&reverse=true");
      assert.deepEqual(idsOf(whole.events), idsOf(stored).reverse());
    });

    it("pages forward from the oldest with `after`, and ends a page that reaches the newest on live events", async () => {
      const size = 450;
      const pages: number[][] = [];
      let from = 0;
      while (from !== Number(stored.at(-1)?.id) && pages.length <= stored.length / size + 1) {
        // A forward page goes on with live events, so the last one asks for only what is left.
        const limit = Math.min(size, stored.length - pages.flat().length);
        const page = await readPage(server, `history=true&after=${from}&limit=${limit}`);
        assert.equal(page.code, 1000);
        assert.equal(page.events.length, limit);
        pages.push(idsOf(page.events));
        from = Number(page.events.at(-1)?.id);
      }
      assert.deepEqual(pages.flat(), idsOf(stored), "no gap and no repeat, oldest first");

      // A page that asks for more than is stored waits for live events and closes once it has them.
      const newest = Number(stored.at(-1)?.id);
      const waiting = readPage(server, `history=true&after=${newest - 1}&limit=3`);
      for (const id of ["live-1", "live-2", "live-3"]) {
        const created = await server.api("POST", "/api/namespaces", { id, name: id, description: "" });
        assert.equal(created.status, 201, created.text);
      }
      const { events, code } = await waiting;
      assert.equal(code, 1000);
      assert.equal(Number(events[0]?.id), newest);
      assert.deepEqual(
        events.slice(1).map((event) => event.kind.created_namespace?.namespace_id),
        ["live-1", "live-2"],
      );
      stored = await storedEvents(server);
    });

    it("reads one page at the cost of one page however deep it is, giving turns away between pages", async () => {
      const deep = stored[40] as StoredEvent;
      counter.start();
      const page = await readPage(server, `history=true&reverse=true&limit=25&before=${deep.id}`);
      counter.stop();
      assert.deepEqual(idsOf(page.events), idsOf(stored.slice(15, 40)).reverse());
      assert.equal(counter.rowsOf("events"), 25, "only the page's own rows are read");

      // A long read from a cursor yields between pages like the whole history does: a request asked once the
      // first event arrives is answered before the last one is sent.
      const newest = stored.at(-1) as StoredEvent;
      const socket = new WebSocket(
        socketUrl(server, `/api/events?history=true&reverse=true&before=${newest.id}`),
        { headers: socketHeaders(server) },
      );
      let received = 0;
      const answeredAfter = new Promise<number>((resolve, reject) => {
        socket.once("message", () => {
          server.api("GET", "/api/system").then((response) => {
            assert.equal(response.status, 200);
            resolve(received);
          }, reject);
        });
        socket.once("error", reject);
      });
      const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
      socket.on("message", () => {
        received += 1;
      });
      const framesBeforeAnswer = await answeredAfter;
      await closed;
      assert.equal(received, stored.length - 1);
      assert.ok(
        framesBeforeAnswer < received,
        `the request was answered only after all ${received} events were sent`,
      );
    });

    it("reads a page as a range of the primary key, not a scan or a sort of the whole log", async () => {
      const middle = Number(stored[STORED / 2]?.id);
      const db = server.service.db;
      const backward = await planOfPage(db, backend, { beforeId: middle, reverse: true });
      const forward = await planOfPage(db, backend, { afterId: middle, reverse: false });
      for (const plan of [backward, forward]) {
        if (backend === "sqlite") {
          assert.match(plan, /SEARCH events USING INTEGER PRIMARY KEY \(rowid[<>]\?\)/, plan);
          assert.doesNotMatch(plan, /TEMP B-TREE/, plan);
        } else {
          assert.match(plan, /Index Scan (Backward )?using events_pkey on events/, plan);
          assert.doesNotMatch(plan, /Sort|Seq Scan/, plan);
        }
      }
      if (backend === "postgres") assert.match(backward, /Index Scan Backward/, backward);
    });

    it("refuses values and combinations that make no sense, naming the parameter", async () => {
      const refusals: [string, RegExp][] = [
        ["history=true&reverse=true&before=0", /before/],
        ["history=true&reverse=true&before=newest", /before/],
        ["history=true&reverse=true&before=1.5", /before/],
        ["history=true&after=-1", /after/],
        ["history=true&limit=0", /limit/],
        ["history=true&limit=many", /limit/],
        ["history=true&before=5", /`before` needs `history=true&reverse=true`/],
        ["before=5", /`before` needs/],
        ["history=true&reverse=true&after=5", /`after` needs `history=true` without `reverse=true`/],
        ["after=5", /`after` needs/],
        ["history=true&reverse=true&before=9&after=5", /`before` and `after` cannot be combined/],
      ];
      for (const [query, message] of refusals) {
        const refused = await refusedSocket(server, `/api/events?${query}`, WAIT_MS);
        assert.equal(refused.status, 400, `${query}: ${refused.body}`);
        assertEnvelopeBody(refused.body, "BAD_REQUEST");
        assert.match(JSON.parse(refused.body).message, message, query);
      }
    });
  });
}
