/**
 * Serving a log both ways v0 does: one line per WebSocket text frame, or plain text over HTTP; and, for task logs
 * asked with `format=lines`, one JSON object per line instead (NDJSON over HTTP, a frame each over WebSocket).
 * Task logs and extension logs share it. Both take the log as blocks of whole lines, each line ending in "\n", as they are
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

/** Sends line objects that come as blocks of NDJSON (see logs/line-objects.ts), as they come. */
export function sendLineObjects(reply: FastifyReply, blocks: AsyncIterable<Buffer>): FastifyReply {
  return reply
    .type("application/x-ndjson; charset=utf-8")
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
 * Lines are framed and written this many bytes of them at a time (a longer line alone), into one buffer each
 * client reuses: a block can be megabytes, and a buffer of its size for every client and block would keep the
 * garbage collector busy.
 */
const SLICE_BYTES = 256 * 1024;

/**
 * Sends every line of `blocks` as one text frame (without its "\n"), then closes normally. The frames are built
 * here (see {@link textFrames}) and written to `connection`, the socket under the WebSocket, a slice of a block
 * at a time; each is written before the next is built or the next block read, which keeps a slow client from
 * making the server queue the whole log. The WebSocket's own frames (a pong, the close) are written whole to
 * the same socket, so none can land inside these.
 */
export async function streamToSocket(
  socket: WebSocket,
  blocks: AsyncIterable<Buffer>,
  signal: AbortSignal,
  connection: Socket,
): Promise<void> {
  // The largest frames written so far, up to a slice's worth (empty lines make the most: two bytes for one), so
  // that a client of a quiet log holds a small buffer and one of a busy log no more than that.
  let reused: Buffer | undefined;
  try {
    for await (const block of blocks) {
      for (let start = 0; start < block.length; ) {
        const end = sliceEnd(block, start);
        // The client went away or began closing: stop, rather than send frames that can only fail. Checked right
        // before each write: once the WebSocket has sent its close frame, no data frame may follow.
        if (socket.readyState !== socket.OPEN) return;
        const frames = textFrames(block.subarray(start, end), reused);
        await write(connection, frames);
        if (frames.length <= 2 * SLICE_BYTES && frames.length > (reused?.length ?? 0)) reused = frames;
        start = end;
      }
    }
    socket.close(1000, "out of events");
  } catch (error) {
    if (!signal.aborted) socket.close(1011, closeReason(error, "log stream failed"));
  }
}

/** Where the slice of `block` that starts at `start` ends: after its last whole line within SLICE_BYTES. */
function sliceEnd(block: Buffer, start: number): number {
  if (block.length - start <= SLICE_BYTES) return block.length;
  const last = block.lastIndexOf(NEWLINE, start + SLICE_BYTES - 1);
  if (last >= start) return last + 1;
  const first = block.indexOf(NEWLINE, start);
  return first === -1 ? block.length : first + 1;
}

/** Resolves once `data` is written, so that its buffer may be used again. */
function write(connection: Socket, data: Buffer): Promise<void> {
  if (data.length === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    connection.write(data, (error) => (error ? reject(error) : resolve()));
  });
}

const FIN_TEXT = 0x81;

/**
 * A text frame for each line of `block` (lines end in "\n"), back to back, in `into` when it has room, else in a
 * new buffer. A server's frames are unmasked (RFC 6455, 5.1), so a frame is a 2-, 4- or 10-byte header and the
 * line as it is: building them here costs a copy of the block, where `WebSocket.send` costs a header buffer, a
 * callback and two socket writes a line, most of what a follower of a busy log costs the server. Invalid UTF-8
 * is not allowed in a text frame: a block holding some goes as text with replacement characters, which never
 * replace a "\n".
 */
export function textFrames(block: Buffer, into?: Buffer): Buffer {
  if (block.length > 0 && block[block.length - 1] !== NEWLINE) {
    throw new Error("a log block must end with a whole line");
  }
  const text = isUtf8(block) ? block : Buffer.from(block.toString("utf8"));
  let size = 0;
  for (
    let start = 0, end = text.indexOf(NEWLINE);
    end !== -1;
    start = end + 1, end = text.indexOf(NEWLINE, start)
  ) {
    size += headerSize(end - start) + end - start;
  }
  const frames = into && into.length >= size ? into.subarray(0, size) : Buffer.allocUnsafe(size);
  let at = 0;
  for (
    let start = 0, end = text.indexOf(NEWLINE);
    end !== -1;
    start = end + 1, end = text.indexOf(NEWLINE, start)
  ) {
    const length = end - start;
    frames[at++] = FIN_TEXT;
    if (length < 126) {
      frames[at++] = length;
    } else if (length < 0x10000) {
      frames[at++] = 126;
      at = frames.writeUInt16BE(length, at);
    } else {
      frames[at++] = 127;
      at = frames.writeUInt32BE(Math.floor(length / 0x100000000), at);
      at = frames.writeUInt32BE(length >>> 0, at);
    }
    at += text.copy(frames, at, start, end);
  }
  return frames;
}

function headerSize(length: number): number {
  return length < 126 ? 2 : length < 0x10000 ? 4 : 10;
}
