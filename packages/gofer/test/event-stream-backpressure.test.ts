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
import { EventBus } from "../src/events/event-bus.ts";
import { EventService } from "../src/services/event-service.ts";
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
    const limits = { roomBytes: 16 * 1024, maxBytes: 256 * 1024, stalledMs: 60_000 };
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

  it("closes a client that takes nothing for the stalled time while history waits for it", {
    timeout: 30_000,
  }, async () => {
    const limits = { roomBytes: 16 * 1024, maxBytes: 64 * 1024 * 1024, stalledMs: 1_000 };
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await once(wss, "listening");
    const { port } = wss.address() as AddressInfo;
    const waited = new Promise<number>((resolve) => {
      wss.on("connection", async (serverSide) => {
        const sink = eventSocketSink(serverSide, limits);
        // More than loopback's socket buffers hold, so something stays unsent while the client does not read.
        for (let index = 0; index < 20_000; index += 1)
          sink.send({
            id: String(index),
            emitted: 0,
            kind: { created_namespace: { namespace_id: PADDING } },
          } as unknown as GoferEvent);
        const started = Date.now();
        await sink.room?.();
        resolve(Date.now() - started);
      });
    });
    const client = new WebSocket(`ws://127.0.0.1:${port}`);
    await once(client, "open");
    client.pause();
    const ms = await waited;
    const closed = once(client, "close");
    client.resume();
    const [code, reason] = (await closed) as [number, Buffer];
    wss.close();
    assert.ok(ms >= 1_000 && ms < 10_000, `history gave up on the client after ${ms} ms`);
    assert.equal(code, 1008);
    assert.match(reason.toString(), /stopped reading/);
  });

  it("ends a history stream that falls more than the held live events behind, saying why", {
    timeout: 30_000,
  }, async () => {
    const bus = new EventBus(server.service.db);
    const events = new EventService({ db: server.service.db, bus, maxHeld: 100 });
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let reason = "";
    let sent = 0;
    const sink = {
      send: () => {
        sent += 1;
      },
      // The client takes nothing until told: history stops after its first page.
      room: () => held,
      fellBehind: (why: string) => {
        reason = why;
        release();
      },
    };
    const outcome = events.stream({ history: true, reverse: false }, sink, new AbortController().signal);
    while (sent === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    for (let index = 0; index < 150 && reason === ""; index += 1)
      await bus.publish("created_namespace", { namespace_id: `live-${index}` });
    assert.equal(await outcome, "aborted");
    assert.match(reason, /more than 100 live events/);
  });
});
