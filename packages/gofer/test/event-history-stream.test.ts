/**
 * A long event history is streamed a page at a time, giving the rest of the server a turn between pages: SQLite
 * answers within one turn of the event loop, so a stream that did not yield held every other request, and never
 * saw its client leave, until the last of possibly millions of events was sent. Counted, not timed: the pages of
 * history the server reads for a client that leaves after the first event.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { WebSocket } from "ws";
import { insertEvent } from "../src/storage/events-store.ts";
import { StatementCounter } from "./support/statement-counter.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** 30 pages of the stream's 200 events. */
const STORED = 6_000;

describe("event history streams", () => {
  const counter = new StatementCounter();
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, { wrapDatabase: counter.wrap });
    const { db } = server.service;
    await db.transaction().execute(async (tx) => {
      for (let index = 0; index < STORED; index += 1)
        await insertEvent(tx, "created_namespace", { namespace_id: `ns-${index}` }, Date.now());
    });
  });
  after(async () => {
    await server?.stop();
  });

  it("stop reading history soon after the client leaves, and let other requests through meanwhile", async () => {
    counter.start();
    const socket = new WebSocket(`${server.url.replace("http", "ws")}/api/events?history=true`, {
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
    });
    let received = 0;
    const answered = new Promise<number>((resolve, reject) => {
      socket.once("message", () => {
        received += 1;
        // Asked while the history is being sent: answered before it ends only if the stream gives turns away.
        server.api("GET", "/api/system").then((response) => resolve(response.status), reject);
        socket.terminate();
      });
      socket.once("error", reject);
    });
    assert.equal(await answered, 200);
    // The stream notices the closed socket at its next page; then nothing more is read.
    for (let last = -1; last !== counter.statements; ) {
      last = counter.statements;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    counter.stop();
    const pages = counter.statements;
    assert.equal(received, 1);
    assert.ok(
      pages < 10,
      `${pages} statements for a client that left after the first event (30 pages stored)`,
    );
  });
});
