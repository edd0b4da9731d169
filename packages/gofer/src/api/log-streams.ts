/**
 * Serving a log both ways v0 does: one line per WebSocket text frame, or plain text over HTTP. Task logs and
 * extension logs share it. Both take the log as blocks of whole lines, each line ending in "\n", as they are
 * stored: a large log is sent in a few large writes rather than a buffer, a promise and a write per line.
 */
import { isUtf8 } from "node:buffer";
import type { Socket } from "node:net";
import { Readable } from "node:stream";
import type { FastifyReply } from "fastify";
import type { WebSocket } from "ws";
import { closeReason } from "./websocket-routes.ts";

const NEWLINE = 0x0a;

/** Sends text that comes as blocks of whole lines as `text/plain`, as it comes. */
export function sendPlainText(reply: FastifyReply, blocks: AsyncIterable<Buffer>): FastifyReply {
  return reply
    .type("text/plain; charset=utf-8")
    .header("cache-control", "no-store")
    .send(Readable.from(blocks));
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

/**
 * Sends every line of `blocks` as one text frame (without its "\n"), then closes normally. `connection`, the
 * socket under the WebSocket, is corked for each block so that its frames leave in one write; each block is
 * written before the next is read, which keeps a slow client from making the server queue the whole log.
 */
export async function streamToSocket(
  socket: WebSocket,
  blocks: AsyncIterable<Buffer>,
  signal: AbortSignal,
  connection: Socket,
): Promise<void> {
  try {
    for await (const block of blocks) {
      // The client went away: stop reading, rather than queue sends that can only fail.
      if (socket.readyState !== socket.OPEN) return;
      await sendLines(socket, block, connection);
    }
    socket.close(1000, "out of events");
  } catch (error) {
    if (!signal.aborted) socket.close(1011, closeReason(error, "log stream failed"));
  }
}

/** Sends each line of `block` as a text frame; resolves once the last one is written. */
function sendLines(socket: WebSocket, block: Buffer, connection: Socket): Promise<void> {
  if (block.length === 0) return Promise.resolve();
  // Invalid UTF-8 is not allowed in a text frame: such lines go as text with replacement characters.
  const valid = isUtf8(block);
  return new Promise((resolve, reject) => {
    connection.cork();
    try {
      let start = 0;
      for (let end = block.indexOf(NEWLINE); end !== -1; end = block.indexOf(NEWLINE, start)) {
        const line = block.subarray(start, end);
        start = end + 1;
        const last = start >= block.length;
        const done = last ? (error?: Error) => (error ? reject(error) : resolve()) : undefined;
        socket.send(valid ? line : line.toString("utf8"), { binary: false }, done);
      }
      if (start < block.length) reject(new Error("a log block must end with a whole line"));
    } finally {
      connection.uncork();
    }
  });
}
