/**
 * Carries a terminal session over a WebSocket: the client's frames are the process's stdin, the process's
 * output goes back as binary frames, and the socket closes with the exit code when the process ends.
 *
 * A text frame that starts with NUL is a control message rather than input: `\0{"resize":{"columns":C,"rows":R}}`.
 * No keystroke produces a lone leading NUL in a text frame, so typing can never be mistaken for one.
 */
import type { RawData, WebSocket } from "ws";
import type { ExecSession } from "../scheduler/scheduler.ts";

const CONTROL = 0;
/** Output waits while this much is queued for a slow client, rather than grow without bound. */
const HIGH_WATER = 1024 * 1024;
/** A close reason may hold at most 123 bytes. */
const MAX_REASON_BYTES = 123;

export interface TerminalSize {
  columns: number;
  rows: number;
}

export async function relayTerminal(socket: WebSocket, session: ExecSession): Promise<void> {
  let ended = false;
  socket.on("message", (data: RawData, isBinary: boolean) => {
    const bytes = toBuffer(data);
    if (!isBinary && bytes[0] === CONTROL) {
      const size = parseResize(bytes.subarray(1).toString("utf8"));
      if (size) session.resize(size.columns, size.rows).catch(() => undefined);
      return;
    }
    session.input.write(bytes);
  });
  socket.on("close", () => {
    if (!ended) session.close();
  });
  try {
    for await (const chunk of session.output) {
      if (socket.readyState !== socket.OPEN) return;
      socket.send(chunk.data, { binary: true });
      while (socket.bufferedAmount > HIGH_WATER && socket.readyState === socket.OPEN) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    const code = await session.exit();
    ended = true;
    session.close();
    socket.close(1000, `exited ${code ?? "unknown"}`);
  } catch (error) {
    ended = true;
    session.close();
    socket.close(1011, closeReason(error instanceof Error ? error.message : "the terminal failed"));
  }
}

/** Cuts a message to what a close frame can carry, on a character boundary. */
export function closeReason(message: string): string {
  let reason = message;
  while (Buffer.byteLength(reason) > MAX_REASON_BYTES) reason = reason.slice(0, -1);
  return reason;
}

/** A resize request, or undefined when the message is not one (it is then ignored). */
export function parseResize(text: string): TerminalSize | undefined {
  try {
    const message = JSON.parse(text) as { resize?: { columns?: unknown; rows?: unknown } };
    const { columns, rows } = message.resize ?? {};
    if (isDimension(columns) && isDimension(rows)) return { columns, rows };
  } catch {
    // Not JSON: not a control message this server knows.
  }
  return undefined;
}

const isDimension = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 1000;

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
