import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import type { StreamOptions } from "../../services/event-service.ts";
import type { RoutePlugin } from "../api-context.ts";
import { eventSocketSink } from "../event-socket-sink.ts";
import { errorResponses } from "../schemas/common.ts";
import { closeReason, refusePlainHttp } from "../websocket-routes.ts";

const EventParams = Type.Object({ event_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const StreamQuery = Type.Object({
  history: Type.Optional(Type.Boolean()),
  reverse: Type.Optional(Type.Boolean()),
  before: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        "An extension of v0: with `history=true&reverse=true`, send only stored events older than this event id " +
        "(the oldest a client holds), newest first.",
    }),
  ),
  after: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        "An extension of v0: with `history=true` (not reversed), send only stored events newer than this event " +
        "id, oldest first, then live ones.",
    }),
  ),
  limit: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: Number.MAX_SAFE_INTEGER,
      description:
        "An extension of v0: close the stream (code 1000) once this many events are sent, stored or live.",
    }),
  ),
});

interface StreamQueryValues {
  history?: boolean;
  reverse?: boolean;
  before?: number;
  after?: number;
  limit?: number;
}

const streamOptions = (query: unknown): StreamOptions => {
  const { history = false, reverse = false, before, after, limit } = query as StreamQueryValues;
  return { history, reverse, before, after, limit };
};

export const eventRoutes: RoutePlugin = (app, { events }) => {
  app.route({
    method: "GET",
    url: "/api/events",
    schema: {
      operationId: "stream_events",
      tags: ["Events"],
      summary:
        "WebSocket stream of events, one JSON text frame each. `history=true` first sends stored events (newest " +
        "first with `reverse=true`, which then closes instead of following live events). `before`, `after` and " +
        "`limit` (extensions of v0) read one page of history from an event id.",
      querystring: StreamQuery,
      response: { ...errorResponses },
    },
    preHandler: async (request) => events.checkStreamOptions(streamOptions(request.query)),
    handler: refusePlainHttp,
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const abort = new AbortController();
      socket.on("close", () => abort.abort());
      void events.stream(streamOptions(request.query), eventSocketSink(socket), abort.signal).then(
        (outcome) => {
          if (outcome === "ended") socket.close(1000, "out of events");
        },
        (error: unknown) => socket.close(1011, closeReason(error, "event stream failed")),
      );
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
    async (request) => ({ event: await events.get(request.params.event_id) }),
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
      await events.delete(request.params.event_id);
      return reply.code(204).send(null);
    },
  );
};
