/**
 * Carries a terminal session over a WebSocket: the client's frames are the process's stdin, the process's
 * output goes back as binary frames, and the socket closes with the exit code when the process ends.
 *
 * A text frame that starts with NUL is a control message rather than input: `\0{"resize":{"columns":C,"rows":R}}`,
 * or `\0{"eof":true}`, which closes the process's stdin (how piped input ends without a terminal).
 * No keystroke produces a lone leading NUL in a text frame, so typing can never be mistaken for one.
 */
import type { RawData, WebSocket } from "ws";
import { ERROR_CODES, GoferError } from "../domain/errors.ts";
import type { ExecSession } from "../scheduler/scheduler.ts";
import { closeReason } from "./websocket-routes.ts";

const CONTROL = 0;
/** Output waits while this much is queued for a slow client, rather than grow without bound. */
const HIGH_WATER = 1024 * 1024;

export interface TerminalSize {
  columns: number;
  rows: number;
}

/**
 * Relays until the process ends or the client leaves. Listening starts at once, before the session exists, so
 * input a client sends right after the upgrade waits for the process instead of being lost.
 */
export async function relayTerminal(socket: WebSocket, starting: Promise<ExecSession>): Promise<void> {
  const early: { data: RawData; isBinary: boolean }[] = [];
  let session: ExecSession | undefined;
  let ended = false;
  const receive = (data: RawData, isBinary: boolean) => {
    if (!session) {
      early.push({ data, isBinary });
      return;
    }
    const bytes = toBuffer(data);
    if (!isBinary && bytes[0] === CONTROL) {
      const control = parseControl(bytes.subarray(1).toString("utf8"));
      if (control?.eof) session.input.end();
      // A resize of a session without a terminal is refused by the engine; nothing to tell the client.
      if (control?.resize) session.resize(control.resize.columns, control.resize.rows).catch(() => undefined);
      return;
    }
    if (session.input.writable) session.input.write(bytes);
  };
  socket.on("message", receive);
  socket.on("close", () => {
    if (!ended) session?.close();
  });
  try {
    session = await starting;
    if (socket.readyState !== socket.OPEN) {
      session.close();
      return;
    }
    for (const message of early.splice(0)) receive(message.data, message.isBinary);
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
    session?.close();
    if (socket.readyState === socket.OPEN)
      socket.close(closeCodeOf(error), closeReason(error, "the terminal failed"));
  }
}

/** WebSocket close codes 4000-4999 are the application's: 4000 + the HTTP status the error would have had. */
const closeCodeOf = (error: unknown): number =>
  4000 + (error instanceof GoferError ? ERROR_CODES[error.code].status : 500);

export interface TerminalControl {
  resize?: TerminalSize;
  eof?: boolean;
}

/** What a control message asks for, or undefined when it is not one this server knows (it is then ignored). */
export function parseControl(text: string): TerminalControl | undefined {
  let message: { resize?: { columns?: unknown; rows?: unknown }; eof?: unknown };
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof message !== "object" || message === null) return undefined;
  const { columns, rows } = message.resize ?? {};
  return {
    ...(isDimension(columns) && isDimension(rows) && { resize: { columns, rows } }),
    ...(message.eof === true && { eof: true }),
  };
}

const isDimension = (value: unknown): value is number =>
  typeof value === "number" && Number.isInteger(value) && value >= 1 && value <= 1000;

const toBuffer = (data: RawData): Buffer =>
  Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
