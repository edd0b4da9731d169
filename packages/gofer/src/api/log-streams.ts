/**
 * Serving a stream of log lines both ways v0 does: one line per WebSocket text frame, or plain text over HTTP.
 * Task logs and extension logs share it.
 */
import { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import type { WebSocket } from "ws";
import { closeReason } from "./websocket-routes.ts";

/** WebSocket sends are awaited in batches: per-line acknowledgement would make large logs crawl. */
const WS_BATCH = 256;
const NEWLINE = Buffer.from("\n");

/** Sends lines as `text/plain`, each ended by a newline, as they come. */
export function sendPlainLines(reply: FastifyReply, lines: AsyncIterable<Buffer>): FastifyReply {
  return sendPlainText(
    reply,
    (async function* () {
      for await (const line of lines) yield Buffer.concat([line, NEWLINE]);
    })(),
  );
}

/** Sends text that already comes as whole lines, each ended by a newline, as it comes. */
export function sendPlainText(reply: FastifyReply, text: AsyncIterable<Buffer>): FastifyReply {
  return reply
    .type("text/plain; charset=utf-8")
    .header("cache-control", "no-store")
    .send(Readable.from(text));
}

/**
 * Aborts when the response closes: finished, or cut off by the client. Not the socket's close: a keep-alive
 * socket outlives many requests, and a listener per request would pile up on it.
 */
export function abortOnClose(reply: FastifyReply): AbortController {
  const controller = new AbortController();
  reply.raw.once("close", () => controller.abort());
  return controller;
}

export async function streamToSocket(
  socket: WebSocket,
  lines: AsyncIterable<Buffer>,
  signal: AbortSignal,
): Promise<void> {
  try {
    let sent = 0;
    let acknowledged: Promise<void> = Promise.resolve();
    for await (const line of lines) {
      // The client went away: stop reading, rather than queue sends that can only fail.
      if (socket.readyState !== socket.OPEN) return;
      acknowledged = new Promise((resolve, reject) =>
        socket.send(line.toString("utf8"), (error) => (error ? reject(error) : resolve())),
      );
      // Awaited only at batch boundaries; marked handled so a failure in between is not an unhandled rejection.
      acknowledged.catch(() => undefined);
      sent += 1;
      if (sent % WS_BATCH === 0) await acknowledged;
    }
    await acknowledged;
    socket.close(1000, "out of events");
  } catch (error) {
    if (!signal.aborted) socket.close(1011, closeReason(error, "log stream failed"));
  }
}
