import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import WebSocket from "ws";
import type { GoferEvent } from "../src/domain/models.ts";
import { eventPayload } from "../src/events/event-frames.ts";
import { startTestServer, type TestServer } from "./support/test-server.ts";
import { socketHeaders, socketUrl } from "./support/websocket.ts";

const STREAMS = 3;
const WAIT_MS = 10_000;

describe("event frames", () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer();
  });

  after(async () => {
    await server.stop();
  });

  it("are the event's JSON, encoded once and the same buffer each time it is asked for", () => {
    const event = {
      id: "7",
      kind: { created_namespace: { namespace_id: "ünïcode" } },
      emitted: 1_700_000_000_000,
    } as unknown as GoferEvent;
    const payload = eventPayload(event);
    assert.equal(eventPayload(event), payload);
    assert.equal(payload.toString("utf8"), JSON.stringify(event));
  });

  it("serialise an event once for every stream that carries it, and arrive as text frames", async () => {
    const namespace = "frames-once";
    const sockets = await Promise.all(
      Array.from(
        { length: STREAMS },
        () =>
          new Promise<WebSocket>((resolve, reject) => {
            const socket = new WebSocket(socketUrl(server, "/api/events"), {
              headers: socketHeaders(server),
            });
            socket.once("open", () => resolve(socket));
            socket.once("error", reject);
          }),
      ),
    );
    const heard = sockets.map(
      (socket) =>
        new Promise<{ text: string; binary: boolean }>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error("no created_namespace event")), WAIT_MS);
          socket.on("message", (data, binary) => {
            if (!String(data).includes(`"namespace_id":"${namespace}"`)) return;
            clearTimeout(timer);
            resolve({ text: String(data), binary });
          });
        }),
    );
    // Counts serialisations of the event itself (not of its details, which storage serialises once).
    let serialised = 0;
    const stringify = JSON.stringify;
    JSON.stringify = function (this: unknown, ...args: Parameters<typeof stringify>) {
      const value = args[0] as {
        kind?: { created_namespace?: { namespace_id?: string } };
        emitted?: unknown;
      };
      if (value?.emitted !== undefined && value.kind?.created_namespace?.namespace_id === namespace)
        serialised += 1;
      return stringify.apply(this, args);
    } as typeof stringify;
    try {
      const created = await server.api("POST", "/api/namespaces", {
        id: namespace,
        name: namespace,
        description: "",
      });
      assert.equal(created.status, 201, created.text);
      const frames = await Promise.all(heard);
      for (const frame of frames) {
        assert.equal(frame.binary, false, "a text frame");
        assert.equal(JSON.parse(frame.text).kind.created_namespace.namespace_id, namespace);
      }
      assert.equal(serialised, 1, `serialised ${serialised} times for ${STREAMS} streams`);
    } finally {
      JSON.stringify = stringify;
      for (const socket of sockets) socket.close();
    }
  });
});
