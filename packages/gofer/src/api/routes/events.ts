import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import { GoferError, notFound } from "../../domain/errors.ts";
import type { GoferEvent } from "../../domain/models.ts";
import type { EventBus } from "../../events/event-bus.ts";
import type { GoferDb } from "../../storage/database.ts";
import { deleteEvent, getEvent, pageEvents } from "../../storage/events-store.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";
import { closeReason, refusePlainHttp } from "../websocket-routes.ts";

const HISTORY_PAGE = 200;
const EventParams = Type.Object({ event_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const StreamQuery = Type.Object({
  history: Type.Optional(Type.Boolean()),
  reverse: Type.Optional(Type.Boolean()),
});

export const eventRoutes: RoutePlugin = (app, { db, bus }) => {
  app.route({
    method: "GET",
    url: "/api/events",
    schema: {
      operationId: "stream_events",
      tags: ["Events"],
      summary:
        "WebSocket stream of events, one JSON text frame each. `history=true` first sends stored events (newest " +
        "first with `reverse=true`, which then closes instead of following live events).",
      querystring: StreamQuery,
      response: { ...errorResponses },
    },
    preHandler: async (request) => {
      const { history = false, reverse = false } = request.query as { history?: boolean; reverse?: boolean };
      if (reverse && !history) {
        throw new GoferError(
          "BAD_REQUEST",
          "`reverse=true` needs `history=true`: live events only arrive in order",
        );
      }
    },
    handler: refusePlainHttp,
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const { history = false, reverse = false } = request.query as { history?: boolean; reverse?: boolean };
      void streamEvents(socket, db, bus, history, reverse);
    },
  });

  app.get(
    "/api/events/:event_id",
    {
      schema: {
        operationId: "get_event",
        tags: ["Events"],
        summary: "Get one event.",
        params: EventParams,
        response: { 200: Type.Object({ event: Type.Ref("Event") }), ...errorResponses },
      },
    },
    async (request) => {
      const event = await getEvent(db, request.params.event_id);
      if (!event) throw notFound(`Event ${request.params.event_id}`);
      return { event };
    },
  );

  app.delete(
    "/api/events/:event_id",
    {
      schema: {
        operationId: "delete_event",
        tags: ["Events"],
        summary: "Delete one event.",
        params: EventParams,
        response: { 204: Type.Null(), ...errorResponses },
      },
    },
    async (request, reply) => {
      if (!(await deleteEvent(db, request.params.event_id)))
        throw notFound(`Event ${request.params.event_id}`);
      return reply.code(204).send(null);
    },
  );
};

/**
 * History first, then live. Live events are buffered from the moment the socket opens, and those already
 * sent from history are skipped by id, so the switch from history to live loses and repeats nothing.
 */
async function streamEvents(
  socket: WebSocket,
  db: GoferDb,
  bus: EventBus,
  history: boolean,
  reverse: boolean,
) {
  const buffered: GoferEvent[] = [];
  let live: ((event: GoferEvent) => void) | undefined;
  const unsubscribe = reverse
    ? () => undefined
    : bus.subscribe((event) => (live ? live(event) : buffered.push(event)));
  socket.on("close", unsubscribe);
  const send = (event: GoferEvent) => socket.send(JSON.stringify(event));
  try {
    let lastId = 0;
    if (history) {
      let cursor: number | undefined;
      for (;;) {
        const page = await pageEvents(db, {
          limit: HISTORY_PAGE,
          reverse,
          ...(cursor !== undefined && (reverse ? { beforeId: cursor } : { afterId: cursor })),
        });
        for (const event of page) {
          send(event);
          lastId = Math.max(lastId, Number(event.id));
        }
        if (page.length < HISTORY_PAGE) break;
        cursor = Number(page[page.length - 1]?.id);
        if (socket.readyState !== socket.OPEN) return;
      }
      if (reverse) {
        socket.close(1000, "out of events");
        return;
      }
    }
    for (const event of buffered) if (Number(event.id) > lastId) send(event);
    live = (event) => {
      if (Number(event.id) > lastId) send(event);
    };
  } catch (error) {
    unsubscribe();
    socket.close(1011, closeReason(error, "event stream failed"));
  }
}
