import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { Duplex } from "node:stream";
import { after, before, beforeEach, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { type WebSocket, WebSocketServer } from "ws";
import { GoferApiError, GoferClient, GoferConnectionError, type GoferEvent } from "../src/client/index.ts";
import { closeServer, listenLocally, refusingUrl } from "./support/fake-server.ts";

const TOKEN = "stream-token";

function event(id: number): GoferEvent {
  return {
    id: String(id),
    kind: { started_run: { namespace_id: "ns", pipeline_id: "p", run_id: id } },
    emitted: id,
  };
}

/**
 * A stand-in for `/api/events`: checks the v0 headers on the upgrade like the Gofer server does, refuses a bad
 * upgrade with the error envelope, answers the same request without an upgrade with the envelope too, and hands
 * each accepted socket to the test.
 */
describe("events.stream over WebSocket", () => {
  let http: Server;
  const wss = new WebSocketServer({ noServer: true });
  let baseUrl = "";
  let onSocket: (socket: WebSocket, request: IncomingMessage) => void = () => undefined;
  const upgrades: IncomingMessage[] = [];
  let stallUpgrades = false;
  // Upgraded and stalled sockets leave the HTTP server's bookkeeping, so they are closed by hand at the end.
  const rawSockets = new Set<Duplex>();

  const refusal = (request: IncomingMessage) =>
    request.headers["gofer-api-version"] !== "v0"
      ? { status: 400, message: "Missing or unsupported API version", code: "MISSING_API_VERSION" }
      : request.headers.authorization !== `Bearer ${TOKEN}`
        ? { status: 401, message: "Unknown token", code: "UNAUTHENTICATED" }
        : undefined;

  before(async () => {
    http = createServer((request, response) => {
      const refused = refusal(request) ?? {
        status: 400,
        message: "This route is a WebSocket; connect with an Upgrade: websocket request",
        code: "BAD_REQUEST",
      };
      response.writeHead(refused.status, { "content-type": "application/json" });
      response.end(
        JSON.stringify({ request_id: "probe-1", message: refused.message, error_code: refused.code }),
      );
    });
    http.on("upgrade", (request: IncomingMessage, socket, head) => {
      upgrades.push(request);
      rawSockets.add(socket);
      if (stallUpgrades) return;
      const refused = refusal(request);
      if (refused) {
        const body = JSON.stringify({
          request_id: "up-1",
          message: refused.message,
          error_code: refused.code,
        });
        socket.end(
          `HTTP/1.1 ${refused.status} Refused\r\ncontent-type: application/json\r\n` +
            `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
        );
        return;
      }
      wss.handleUpgrade(request, socket, head, (ws) => onSocket(ws, request));
    });
    baseUrl = await listenLocally(http);
  });
  after(async () => {
    for (const client of wss.clients) client.terminate();
    for (const socket of rawSockets) socket.destroy();
    wss.close();
    await closeServer(http);
  });
  beforeEach(() => {
    upgrades.length = 0;
    stallUpgrades = false;
    onSocket = () => undefined;
  });

  const client = () =>
    new GoferClient({ baseUrl, token: TOKEN, userAgent: "gofer-test/2", timeoutMs: 2_000 });

  test("sends the v0 headers on the upgrade and ends when the server closes after the history", async () => {
    onSocket = (socket) => {
      for (const id of [3, 2, 1]) socket.send(JSON.stringify(event(id)));
      socket.close(1000, "out of events");
    };
    const received: GoferEvent[] = [];
    for await (const item of client().events.stream({ history: true, reverse: true })) received.push(item);
    assert.deepEqual(received, [event(3), event(2), event(1)]);
    const [upgrade] = upgrades;
    assert.equal(upgrade?.url, "/api/events?history=true&reverse=true");
    assert.equal(upgrade?.headers["gofer-api-version"], "v0");
    assert.equal(upgrade?.headers.authorization, `Bearer ${TOKEN}`);
    assert.equal(upgrade?.headers["user-agent"], "gofer-test/2");
  });

  test("sends no query when neither history nor reverse is asked for", async () => {
    onSocket = (socket) => socket.close(1000);
    for await (const _item of client().events.stream()) assert.fail("no events expected");
    assert.equal(upgrades[0]?.url, "/api/events");
  });

  test("loses no frame that arrives while the consumer is busy", async () => {
    const count = 500;
    onSocket = (socket) => {
      for (let id = 1; id <= count; id += 1) socket.send(JSON.stringify(event(id)));
      socket.close(1000);
    };
    const ids: string[] = [];
    for await (const item of client().events.stream({ history: true })) {
      ids.push(item.id);
      if (ids.length % 50 === 0) await sleep(5);
    }
    assert.deepEqual(
      ids,
      Array.from({ length: count }, (_, index) => String(index + 1)),
    );
  });

  test("breaking out of the loop closes the socket", async () => {
    let serverSide: WebSocket | undefined;
    const closed = new Promise<number>((resolve) => {
      onSocket = (socket) => {
        serverSide = socket;
        let id = 0;
        const timer = setInterval(() => socket.send(JSON.stringify(event(++id))), 5);
        socket.on("close", (code) => {
          clearInterval(timer);
          resolve(code);
        });
      };
    });
    const received: string[] = [];
    for await (const item of client().events.stream()) {
      received.push(item.id);
      if (received.length === 2) break;
    }
    assert.deepEqual(received, ["1", "2"]);
    assert.equal(await closed, 1000);
    assert.ok(serverSide);
  });

  test("aborting the signal ends the iteration with the abort reason and closes the socket", async () => {
    const closed = new Promise<void>((resolve) => {
      onSocket = (socket) => {
        socket.send(JSON.stringify(event(1)));
        socket.on("close", () => resolve());
      };
    });
    const controller = new AbortController();
    const received: string[] = [];
    await assert.rejects(
      async () => {
        for await (const item of client().events.stream({ signal: controller.signal })) {
          received.push(item.id);
          setTimeout(() => controller.abort(), 20);
        }
      },
      { name: "AbortError" },
    );
    assert.deepEqual(received, ["1"]);
    await closed;
  });

  test("an already aborted signal fails without connecting", async () => {
    const controller = new AbortController();
    controller.abort();
    await assert.rejects(
      async () => {
        for await (const _item of client().events.stream({ signal: controller.signal })) assert.fail();
      },
      { name: "AbortError" },
    );
    assert.equal(upgrades.length, 0);
  });

  test("a close with an error code surfaces as a GoferConnectionError after the frames before it", async () => {
    onSocket = (socket) => {
      socket.send(JSON.stringify(event(1)));
      socket.close(1011, "database is locked");
    };
    const received: string[] = [];
    await assert.rejects(
      async () => {
        for await (const item of client().events.stream()) received.push(item.id);
      },
      (error: unknown) => {
        assert.ok(error instanceof GoferConnectionError);
        assert.match(error.message, /1011: database is locked/);
        return true;
      },
    );
    assert.deepEqual(received, ["1"]);
  });

  test("a dropped connection surfaces as a GoferConnectionError", async () => {
    onSocket = (socket) => setTimeout(() => socket.terminate(), 10);
    await assert.rejects(async () => {
      for await (const _item of client().events.stream()) assert.fail();
    }, GoferConnectionError);
  });

  test("a frame that is not an event surfaces as a GoferConnectionError", async () => {
    onSocket = (socket) => socket.send("not json");
    await assert.rejects(async () => {
      for await (const _item of client().events.stream()) assert.fail();
    }, /not a Gofer event/);
  });

  test("a refused upgrade is a GoferApiError carrying the server's envelope", async () => {
    const badClient = new GoferClient({ baseUrl, token: "wrong" });
    const error = await (async () => {
      for await (const _item of badClient.events.stream()) assert.fail();
    })().catch((caught: unknown) => caught);
    assert.ok(error instanceof GoferApiError);
    assert.equal(error.status, 401);
    assert.equal(error.errorCode, "UNAUTHENTICATED");
    assert.equal(error.message, "Unknown token");
    // Node's WebSocket repeats a handshake answered 401 once, as fetch does for authentication; either way the
    // upgrade was refused before any frame.
    assert.ok(upgrades.length >= 1);
  });

  test("an unreachable server is a GoferConnectionError", async () => {
    const unreachable = new GoferClient({ baseUrl: await refusingUrl(), token: TOKEN });
    await assert.rejects(
      async () => {
        for await (const _item of unreachable.events.stream()) assert.fail();
      },
      (error: unknown) => error instanceof GoferConnectionError && /ECONNREFUSED/.test(error.message),
    );
  });

  test("an upgrade left unanswered fails after timeoutMs", async () => {
    stallUpgrades = true;
    const impatient = new GoferClient({ baseUrl, token: TOKEN, timeoutMs: 150 });
    const started = Date.now();
    await assert.rejects(
      async () => {
        for await (const _item of impatient.events.stream()) assert.fail();
      },
      (error: unknown) => error instanceof GoferConnectionError && error.timedOut,
    );
    assert.ok(Date.now() - started < 2_000);
  });

  test("each iteration opens its own connection", async () => {
    onSocket = (socket) => {
      socket.send(JSON.stringify(event(1)));
      socket.close(1000);
    };
    const stream = client().events.stream({ history: true, reverse: true });
    for (let round = 0; round < 2; round += 1) {
      const ids: string[] = [];
      for await (const item of stream) ids.push(item.id);
      assert.deepEqual(ids, ["1"]);
    }
    assert.equal(upgrades.length, 2);
  });
});
