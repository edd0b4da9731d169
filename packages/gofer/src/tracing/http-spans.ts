/**
 * A server span per API request, joined to the caller's trace when it sends a `traceparent` header (a task
 * calling the API with the `TRACEPARENT` it was given lands in its run's trace).
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { parseTraceparent } from "../domain/trace-ids.ts";
import { newSpanId, newTraceId, type OtlpExporter } from "./otlp-exporter.ts";

const began = new WeakMap<FastifyRequest, number>();

export function traceRequests(app: FastifyInstance, exporter: OtlpExporter): void {
  app.addHook("onRequest", async (request) => {
    began.set(request, Date.now());
  });
  app.addHook("onResponse", async (request, reply) => {
    const parent = parseTraceparent(
      typeof request.headers.traceparent === "string" ? request.headers.traceparent : undefined,
    );
    const route = request.routeOptions.url ?? "unmatched";
    exporter.export({
      traceId: parent?.traceId ?? newTraceId(),
      spanId: newSpanId(),
      ...(parent && { parentSpanId: parent.spanId }),
      name: `${request.method} ${route}`,
      kind: 2,
      startMs: began.get(request) ?? Date.now() - reply.elapsedTime,
      endMs: Date.now(),
      attributes: {
        "http.request.method": request.method,
        "http.route": route,
        "http.response.status_code": reply.statusCode,
        "gofer.request_id": String(request.id),
      },
      ...(reply.statusCode >= 500 && { error: `HTTP ${reply.statusCode}` }),
    });
  });
}
