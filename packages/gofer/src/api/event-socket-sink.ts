/**
 * Where an event stream's frames go: one WebSocket, with a bound on what the server holds for it. A client that
 * reads slower than events come would otherwise make the server buffer without end: a history of millions of
 * events is sent only as fast as the client takes it (the stream waits for room between pages), and a live
 * follower that falls more than {@link EventSinkLimits.maxBytes} behind is closed with 1008 and a reason saying
 * so, to reconnect from the last event it has (`after=<id>`), rather than hold the server's memory.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { WebSocket } from "ws";
import type { GoferEvent } from "../domain/models.ts";
import { eventPayload } from "../events/event-frames.ts";
import type { EventSink } from "../services/event-service.ts";

export interface EventSinkLimits {
  /** History waits while more than this is unsent. */
  roomBytes: number;
  /** A live follower with more than this unsent is closed. */
  maxBytes: number;
  /** A client that takes nothing of what waits for it for this long is closed: it stopped reading. */
  stalledMs: number;
}

export const EVENT_SINK_LIMITS: EventSinkLimits = {
  roomBytes: 1024 * 1024,
  maxBytes: 16 * 1024 * 1024,
  stalledMs: 60_000,
};

/** How often a waiting history looks whether the client has read; ws announces no drain of its own. */
const ROOM_POLL_MS = 10;

export function eventSocketSink(socket: WebSocket, limits: EventSinkLimits = EVENT_SINK_LIMITS): EventSink {
  const behind = (reason: string) => {
    if (socket.readyState === socket.OPEN) socket.close(1008, reason);
  };
  return {
    send(event: GoferEvent) {
      if (socket.readyState !== socket.OPEN) return;
      if (socket.bufferedAmount > limits.maxBytes) {
        const mib = Math.round(limits.maxBytes / (1024 * 1024));
        socket.close(
          1008,
          `client too slow: more than ${mib} MiB of events unread; reconnect with after=<last id>`,
        );
        return;
      }
      socket.send(eventPayload(event), { binary: false });
    },
    async room() {
      let unsent = socket.bufferedAmount;
      let since = Date.now();
      while (socket.readyState === socket.OPEN && socket.bufferedAmount > limits.roomBytes) {
        await sleep(ROOM_POLL_MS);
        if (socket.bufferedAmount < unsent) {
          unsent = socket.bufferedAmount;
          since = Date.now();
        } else if (Date.now() - since > limits.stalledMs) {
          behind(`client stopped reading: nothing taken for ${Math.round(limits.stalledMs / 1000)} s`);
          return;
        }
      }
    },
    fellBehind: behind,
  };
}
