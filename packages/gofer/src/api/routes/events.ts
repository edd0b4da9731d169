import type { FastifyRequest } from "fastify";
import { Type } from "typebox";
import type { WebSocket } from "ws";
import { eventPayload } from "../../events/event-frames.ts";
import type { StreamOptions } from "../../services/event-service.ts";
import type { RoutePlugin } from "../api-context.ts";
import { errorResponses } from "../schemas/common.ts";
import { closeReason, refusePlainHttp } from "../websocket-routes.ts";

const EventParams = Type.Object({ event_id: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }) });
const StreamQuery = Type.Object({
  history: Type.Optional(Type.Boolean()),
  reverse: Type.Optional(Type.Boolean()),
});

const streamOptions = (query: unknown): StreamOptions => {
  const { history = false, reverse = false } = query as { history?: boolean; reverse?: boolean };
  return { history, reverse };
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
        "first with `reverse=true`, which then closes instead of following live events).",
      querystring: StreamQuery,
      response: { ...errorResponses },
    },
    preHandler: async (request) => events.checkStreamOptions(streamOptions(request.query)),
    handler: refusePlainHttp,
    wsHandler: (socket: WebSocket, request: FastifyRequest) => {
      const abort = new AbortController();
      socket.on("close", () => abort.abort());
      void events
        .stream(
          streamOptions(request.query),
          (event) => socket.send(eventPayload(event), { binary: false }),
          abort.signal,
        )
        .then(
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
