/**
 * `GET .../tasks/{task_id}/attach` over the platform's WebSocket: a command running in a task's container,
 * its output as an async iterable and its input as `write`. Output frames are queued the moment they arrive,
 * so none is lost while the consumer is busy.
 */
import { GoferConnectionError } from "./errors.ts";
import type { SocketTarget } from "./http.ts";

export interface AttachOptions {
  /** The command line to run, split as a shell would (quotes work, nothing is expanded). Default `/bin/sh`. */
  command?: string;
  /** Run it with a terminal (default). Without one, output is plain and `endInput()` ends its stdin. */
  tty?: boolean;
  /** The terminal's starting size. */
  columns?: number;
  rows?: number;
}

export interface TaskTerminal {
  /** What the command prints, as it arrives; ends when the command exits or the connection closes. */
  readonly output: AsyncIterable<Uint8Array>;
  /** Resolves with the command's exit code once it ends (null if the server could not tell); rejects when the connection breaks. */
  readonly exited: Promise<number | null>;
  write(data: string | Uint8Array): void;
  resize(columns: number, rows: number): void;
  /** Closes the command's stdin (without a terminal; with one, send the terminal's end-of-file key, Ctrl-D). */
  endInput(): void;
  /** Leaves at once; a shell then sees its terminal hang up. */
  close(): void;
}

/** The slice of the WebSocket API used here, with the `headers` option Node's, Deno's and Bun's accept. */
interface TerminalSocket {
  binaryType: string;
  readonly readyState: number;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  send(data: string | Uint8Array): void;
  close(code?: number, reason?: string): void;
}

type TerminalSocketConstructor = new (
  url: string,
  init: { headers: Record<string, string> },
) => TerminalSocket;

export interface TerminalConnection extends SocketTarget {
  /** How long to wait for the upgrade to succeed. */
  handshakeTimeoutMs: number;
}

const OPEN = 1;
const CONTROL = "\u0000";
const EXITED = /^exited (\d+|unknown)$/;

/** Resolves once the server has accepted the connection; rejects with its refusal (status and message) if not. */
export function openTaskTerminal(connection: TerminalConnection): Promise<TaskTerminal> {
  const Socket = (globalThis as { WebSocket?: unknown }).WebSocket as TerminalSocketConstructor | undefined;
  if (!Socket) {
    return Promise.reject(
      new GoferConnectionError(
        "This JavaScript runtime has no global WebSocket; use Node 22 or later to attach",
        connection.baseUrl,
      ),
    );
  }
  const socket = new Socket(connection.url, { headers: connection.headers });
  socket.binaryType = "arraybuffer";
  const queue: Uint8Array[] = [];
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  let settleExit: { resolve: (code: number | null) => void; reject: (error: unknown) => void } | undefined;
  const exited = new Promise<number | null>((resolve, reject) => {
    settleExit = { resolve, reject };
  });
  // A caller that only reads output must not see an unhandled rejection from `exited`.
  exited.catch(() => undefined);

  const output: AsyncIterable<Uint8Array> = {
    async *[Symbol.asyncIterator]() {
      for (;;) {
        const chunk = queue.shift();
        if (chunk !== undefined) {
          yield chunk;
          continue;
        }
        if (finished) return;
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    },
  };
  const send = (data: string | Uint8Array) => {
    if (socket.readyState === OPEN) socket.send(data);
  };
  const terminal: TaskTerminal = {
    output,
    exited,
    write: (data) => send(typeof data === "string" ? new TextEncoder().encode(data) : data),
    resize: (columns, rows) => send(`${CONTROL}${JSON.stringify({ resize: { columns, rows } })}`),
    endInput: () => send(`${CONTROL}${JSON.stringify({ eof: true })}`),
    close: () => socket.close(1000),
  };

  return new Promise((resolve, reject) => {
    let opened = false;
    const handshake = setTimeout(() => {
      socket.close();
      reject(
        new GoferConnectionError(
          `The Gofer server at ${connection.baseUrl} did not accept the terminal within ${connection.handshakeTimeoutMs} ms`,
          connection.baseUrl,
          { timedOut: true },
        ),
      );
    }, connection.handshakeTimeoutMs);
    socket.onopen = () => {
      opened = true;
      clearTimeout(handshake);
      resolve(terminal);
    };
    socket.onmessage = ({ data }) => {
      queue.push(
        typeof data === "string" ? new TextEncoder().encode(data) : new Uint8Array(data as ArrayBuffer),
      );
      notify();
    };
    socket.onclose = ({ code, reason }) => {
      clearTimeout(handshake);
      finished = true;
      notify();
      if (!opened) {
        connection.explainRefusal().then(reject, reject);
        return;
      }
      const exit = EXITED.exec(reason);
      if (code === 1000 && exit) settleExit?.resolve(exit[1] === "unknown" ? null : Number(exit[1]));
      else if (code === 1000 || code === 1005) settleExit?.resolve(null);
      else {
        settleExit?.reject(
          new GoferConnectionError(
            `The terminal closed: ${reason || `WebSocket close code ${code}`}`,
            connection.baseUrl,
          ),
        );
      }
    };
  });
}
