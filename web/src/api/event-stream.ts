/**
 * One WebSocket to `/api/events` per page session, shared by every view: a view subscribes with a filter and
 * refetches only what an event touches, instead of polling the API. The socket reconnects with backoff when it
 * drops, and reopens when the token changes.
 */
import { session } from "../state/session.ts";
import { Signal } from "../state/signal.ts";
import { openApiSocket } from "./client.ts";
import type { EventDetailsByKind, EventKindName, EventOf, GoferEvent } from "./types.ts";

type Listener = (event: GoferEvent) => void;

const listeners = new Set<Listener>();
/** "live" while events arrive; otherwise why not, for a small indicator. */
export const streamState = new Signal<"connecting" | "live" | "offline" | "forbidden">("connecting");

let socket: WebSocket | undefined;
let retryDelay = 1000;
let retryTimer: ReturnType<typeof setTimeout> | undefined;

function connect(): void {
  clearTimeout(retryTimer);
  socket?.close();
  streamState.value = "connecting";
  const current = openApiSocket("/api/events");
  socket = current;
  let opened = false;
  current.onopen = () => {
    opened = true;
    retryDelay = 1000;
    streamState.value = "live";
  };
  current.onmessage = (message) => {
    if (typeof message.data !== "string") return;
    let event: GoferEvent;
    try {
      event = JSON.parse(message.data) as GoferEvent;
    } catch {
      return;
    }
    for (const listener of [...listeners]) listener(event);
  };
  current.onclose = () => {
    if (socket !== current) return;
    // Refused before opening is most often a token without `events` read: retrying slowly is enough.
    streamState.value = opened ? "offline" : "forbidden";
    retryTimer = setTimeout(connect, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 30_000);
  };
}

/** Calls `listener` with every live event until the returned function is called. */
export function onEvent(listener: Listener): () => void {
  listeners.add(listener);
  if (!socket) connect();
  return () => listeners.delete(listener);
}

session.token.subscribe(() => {
  if (socket) connect();
});

/**
 * The event's name (`started_run`…) and its details, typed by the SDK's one map of kinds (as the SDK's `eventOf`,
 * which is not imported so that none of the SDK's runtime reaches the bundle): `name` narrows `details`.
 */
export function eventKind(event: GoferEvent): EventOf {
  const [name, details] = Object.entries(event.kind)[0] as [EventKindName, EventDetailsByKind[EventKindName]];
  return { name, details } as EventOf;
}

/** Whether the event names this pipeline (and this run, when given). */
export function concerns(event: GoferEvent, namespace: string, pipeline: string, run?: number): boolean {
  const { details } = eventKind(event);
  if (!("pipeline_id" in details) || details.namespace_id !== namespace || details.pipeline_id !== pipeline)
    return false;
  return run === undefined || !("run_id" in details) || details.run_id === run;
}
