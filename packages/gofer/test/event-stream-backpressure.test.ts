/**
 * An event stream holds a bounded amount for a client that does not read: a long history is sent only as fast as
 * the client takes it (the server stops reading pages while the client is behind, then sends the rest once it
 * reads again), and a live follower that falls too far behind is closed with 1008 and a reason, instead of the
 * server buffering without end. Real sockets on loopback; the history on a real server and its SQLite file.
 */
import assert from "node:assert/strict";
import { once } from "node:events";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { WebSocket, WebSocketServer } from "ws";
import { eventSocketSink } from "../src/api/event-socket-sink.ts";
import type { GoferEvent } from "../src/domain/models.ts";
import { insertEvent } from "../src/storage/events-store.ts";
import { StatementCounter } from "./support/statement-counter.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";

/** 100 pages of the stream's 200 events, about 1 KiB each: 20 MiB, more than loopback's socket buffers hold. */
const STORED = 20_000;
const PADDING = "x".repeat(1_000);

async function settled(counter: StatementCounter): Promise<number> {
  for (let last = -1; last !== counter.statements; ) {
    last = counter.statements;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  return counter.statements;
}

describe("event streams and a client that does not read", () => {
  const counter = new StatementCounter();
  let server: TestServer;

  before(async () => {
    server = await startTestServer({}, { wrapDatabase: counter.wrap });
    await server.service.db.transaction().execute(async (tx) => {
      for (let index = 0; index < STORED; index += 1)
        await insertEvent(tx, "created_namespace", { namespace_id: `ns-${index}-${PADDING}` }, Date.now());
    });
  });
  after(async () => {
    await server?.stop();
  });

  it("sends history only as fast as the client reads it, and all of it once the client reads", async () => {
    const socket = new WebSocket(`${server.url.replace("http", "ws")}/api/events?history=true&reverse=true`, {
      headers: { "gofer-api-version": "v0", authorization: `Bearer ${server.token}` },
    });
    let received = 0;
    socket.on("message", () => {
      received += 1;
    });
    await once(socket, "open");
    counter.start();
    socket.pause();
    const whilePaused = await settled(counter);
    assert.ok(whilePaused < 70, `${whilePaused} pages read for a client that read nothing (100 stored)`);
    assert.ok(received < STORED / 2, `${received} events received while paused`);

    const closed = once(socket, "close");
    socket.resume();
    const [code] = (await closed) as [number];
    counter.stop();
    assert.equal(code, 1000);
    assert.ok(received >= STORED, `${received} of at least ${STORED} stored events received`);
  });

  it("closes a live follower that falls too far behind, saying why", async () => {
    const limits = { roomBytes: 16 * 1024, maxBytes: 256 * 1024 };
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    const { port } = wss.address() as AddressInfo;
    let peak = 0;
    let sent = 0;
    wss.on("connection", (serverSide) => {
      const sink = eventSocketSink(serverSide, limits);
      // Events as fast as the bus could deliver them, until the sink gives up on the client.
      const timer = setInterval(() => {
        for (let index = 0; index < 500 && serverSide.readyState === serverSide.OPEN; index += 1) {
          sink.send({
            id: String(++sent),
            emitted: Date.now(),
            kind: { created_namespace: { namespace_id: PADDING } },
          } as unknown as GoferEvent);
          peak = Math.max(peak, serverSide.bufferedAmount);
        }
        if (serverSide.readyState !== serverSide.OPEN) clearInterval(timer);
        // Bounded: 50 MB offered and still open is a failure, not a hang.
        else if (sent >= 50_000) {
          clearInterval(timer);
          serverSide.close(1000, "never closed for being behind");
        }
      }, 1);
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    await once(client, "open");
    client.pause();
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const closed = once(client, "close");
    client.resume();
    const [code, reason] = (await closed) as [number, Buffer];
    wss.close();
    assert.equal(code, 1008);
    assert.match(reason.toString(), /client too slow/);
    assert.ok(peak <= limits.maxBytes + 2 * 1024, `the server held at most ${peak} bytes for it`);
    assert.ok(sent > 1_000, `${sent} events offered before it was closed`);
  });
});
