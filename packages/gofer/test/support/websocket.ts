import assert from "node:assert/strict";
import WebSocket from "ws";
import type { TestServer } from "./test-server.ts";

/** The headers every v0 request needs, for clients (like `ws`) that do not go through `server.api`. */
export const socketHeaders = (server: TestServer) => ({
  "gofer-api-version": "v0",
  authorization: `Bearer ${server.token}`,
});

export const socketUrl = (server: TestServer, path: string): string =>
  server.url.replace(/^http/, "ws") + path;

export interface SocketOutcome {
  frames: string[];
  /** `Date.now()` when each frame arrived. */
  arrivals: number[];
  code: number;
  reason: string;
  closedAt: number;
}

/** Opens a WebSocket and collects its text frames until the server closes it; fails after `timeoutMs`. */
export function collectSocket(server: TestServer, path: string, timeoutMs: number): Promise<SocketOutcome> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketUrl(server, path), { headers: socketHeaders(server) });
    const frames: string[] = [];
    const arrivals: number[] = [];
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`WebSocket ${path} still open after ${timeoutMs} ms (${frames.length} frames)`));
    }, timeoutMs);
    socket.on("message", (data, isBinary) => {
      arrivals.push(Date.now());
      frames.push(isBinary ? `<binary ${String(data)}>` : String(data));
    });
    socket.on("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`WebSocket ${path} refused with HTTP ${response.statusCode}`));
    });
    socket.on("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.on("close", (code, reason) => {
      clearTimeout(timer);
      resolve({ frames, arrivals, code, reason: String(reason), closedAt: Date.now() });
    });
  });
}

/** Attempts a WebSocket upgrade that the server must refuse; returns the HTTP status and the body it sent. */
export function refusedSocket(
  server: TestServer,
  path: string,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(socketUrl(server, path), { headers: socketHeaders(server) });
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new Error(`no answer to the upgrade of ${path} within ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on("open", () => {
      clearTimeout(timer);
      socket.terminate();
      reject(new Error(`the upgrade of ${path} was accepted`));
    });
    // Terminating a refused handshake reports an error; the refusal itself is the outcome under test.
    socket.on("error", () => undefined);
    socket.on("unexpected-response", (_request, response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () => {
        clearTimeout(timer);
        socket.terminate();
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") });
      });
    });
  });
}

/** Checks that a raw response body is the v0 error envelope with the given code. */
export function assertEnvelopeBody(body: string, errorCode: string): void {
  const envelope = JSON.parse(body);
  assert.equal(envelope.error_code, errorCode, body);
  assert.equal(typeof envelope.request_id, "string");
  assert.ok(envelope.request_id.length > 0);
  assert.equal(typeof envelope.message, "string");
  assert.ok(envelope.message.length > 0);
}
