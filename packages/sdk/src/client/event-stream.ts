/**
 * `GET /api/events` as an async iterable over the platform's WebSocket. Frames are queued the moment they
 * arrive, so none is lost while the consumer is busy between iterations; the socket is closed whenever the
 * iteration ends, however it ends.
 */

import { GoferConnectionError } from "./errors.ts";
import type { Query, SocketTarget } from "./http.ts";
import type { GoferEvent } from "./wire-types.ts";

/**
 * The slice of the WebSocket API used here, plus the `headers` option that Node's (undici's), Deno's and Bun's
 * WebSocket accept (whatwg/websockets#42). The server requires its version and auth headers on the upgrade.
 */
interface HeaderSendingWebSocket {
  readonly readyState: number;
  binaryType: string;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  close(code?: number, reason?: string): void;
}

type HeaderSendingWebSocketConstructor = new (
  url: string,
  init: { headers: Record<string, string> },
) => HeaderSendingWebSocket;

const CONNECTING = 0;
const OPEN = 1;
/** Closes that end the stream normally: 1000, or a close frame without a code (1005). */
const NORMAL_CLOSE_CODES = new Set([1000, 1005]);

export interface EventStreamOptions extends SocketTarget {
  /** How long to wait for the upgrade to succeed. */
  handshakeTimeoutMs: number;
  signal?: AbortSignal | undefined;
}

type Outcome = { kind: "ended" } | { kind: "failed"; error: unknown } | { kind: "refused" };

/** Where in the event log a stream starts and how much of it it sends. */
export interface EventStreamWindow {
  /** Start with the stored events before following new ones. */
  history?: boolean;
  /** With `history`: newest first, and end after the stored events instead of following new ones. */
  reverse?: boolean;
  /**
   * With `history` and `reverse`: only events older than this event id, so a reader pages back from the oldest
   * it holds. An extension of v0.
   */
  before?: string;
  /** With `history`, not `reverse`: only events newer than this event id, then live ones. An extension of v0. */
  after?: string;
  /** End the stream after this many events, stored or live. An extension of v0. */
  limit?: number;
}

/** The query string of `GET /api/events` for a window; what is not asked for is left out, as v0 expects. */
export function eventStreamQuery(window: EventStreamWindow): Query {
  return {
    history: window.history ? true : undefined,
    reverse: window.reverse ? true : undefined,
    before: window.before,
    after: window.after,
    limit: window.limit,
  };
}

export async function* streamEvents(
  options: EventStreamOptions,
): AsyncGenerator<GoferEvent, void, undefined> {
  const { signal, baseUrl } = options;
  signal?.throwIfAborted();
  const Socket = (globalThis as { WebSocket?: unknown }).WebSocket as
    | HeaderSendingWebSocketConstructor
    | undefined;
  if (!Socket) {
    throw new GoferConnectionError(
      "This JavaScript runtime has no global WebSocket; use Node 22 or later to stream events",
      baseUrl,
    );
  }

  const frames: GoferEvent[] = [];
  let outcome: Outcome | undefined;
  let opened = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const resolve = wake;
    wake = undefined;
    resolve?.();
  };
  const settle = (next: Outcome) => {
    outcome ??= next;
    notify();
  };

  const socket = new Socket(options.url, { headers: options.headers });
  socket.binaryType = "arraybuffer";
  const handshakeTimer = setTimeout(() => {
    settle({
      kind: "failed",
      error: new GoferConnectionError(
        `The Gofer server at ${baseUrl} did not accept the event stream within ${options.handshakeTimeoutMs} ms; ` +
          "check that it is running and reachable",
        baseUrl,
        { timedOut: true },
      ),
    });
    socket.close();
  }, options.handshakeTimeoutMs);
  socket.onopen = () => {
    opened = true;
    clearTimeout(handshakeTimer);
  };
  socket.onmessage = (message) => {
    if (outcome) return;
    const event = parseEvent(message.data);
    if (event) {
      frames.push(event);
      notify();
    } else {
      settle({
        kind: "failed",
        error: new GoferConnectionError(
          `The event stream from ${baseUrl} sent a frame that is not a Gofer event; check that the URL points ` +
            "at a Gofer server",
          baseUrl,
        ),
      });
    }
  };
  socket.onclose = ({ code, reason }) => {
    clearTimeout(handshakeTimer);
    if (!opened) settle({ kind: "refused" });
    else if (NORMAL_CLOSE_CODES.has(code)) settle({ kind: "ended" });
    else {
      settle({
        kind: "failed",
        error: new GoferConnectionError(
          `The event stream from ${baseUrl} broke off (WebSocket close code ${code}${reason ? `: ${reason}` : ""})`,
          baseUrl,
        ),
      });
    }
  };
  const onAbort = () => {
    notify();
    socket.close();
  };
  signal?.addEventListener("abort", onAbort, { once: true });

  try {
    for (;;) {
      signal?.throwIfAborted();
      const frame = frames.shift();
      if (frame !== undefined) {
        yield frame;
        continue;
      }
      // Frames that arrived before the end are delivered first; only then does the end show.
      if (outcome?.kind === "ended") return;
      if (outcome?.kind === "failed") throw outcome.error;
      if (outcome?.kind === "refused") throw await options.explainRefusal();
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    }
  } finally {
    clearTimeout(handshakeTimer);
    signal?.removeEventListener("abort", onAbort);
    socket.onopen = null;
    socket.onmessage = null;
    socket.onclose = null;
    if (socket.readyState === CONNECTING || socket.readyState === OPEN) socket.close(1000);
  }
}

function parseEvent(data: unknown): GoferEvent | undefined {
  const text =
    typeof data === "string" ? data : data instanceof ArrayBuffer ? new TextDecoder().decode(data) : "";
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof parsed !== "object" || parsed === null) return undefined;
  const { id, kind } = parsed as Record<string, unknown>;
  if (typeof id !== "string" || typeof kind !== "object" || kind === null) return undefined;
  return parsed as GoferEvent;
}
