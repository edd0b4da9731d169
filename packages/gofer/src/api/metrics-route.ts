/**
 * `GET /metrics`: Prometheus' text exposition, on the API's listener or on a listener of its own
 * (`metrics.bind_address`). It answers without a token only when `metrics.public` says so; otherwise a scrape
 * needs an admin token (Prometheus' `authorization` setting), since the metrics name every namespace and pipeline.
 */
import Fastify, { type FastifyInstance } from "fastify";
import { authorizeRequest } from "../auth/authorize.ts";
import type { TlsFiles } from "../config/config.ts";
import type { GoferMetrics } from "../metrics/gofer-metrics.ts";
import type { GoferDb } from "../storage/database.ts";
import { answerErrorsWithEnvelope } from "./error-envelope.ts";
import { listenerOptions } from "./listener-options.ts";

export interface MetricsRouteOptions {
  metrics: GoferMetrics;
  db: GoferDb;
  public: boolean;
  bypassAuth: boolean;
}

export function metricsRoute(app: FastifyInstance, options: MetricsRouteOptions): void {
  app.get("/metrics", { schema: { hide: true } }, async (request, reply) => {
    if (!options.public) {
      await authorizeRequest(options.db, {
        access: { kind: "admin" },
        authorization: request.headers.authorization,
        params: {},
        bypassAuth: options.bypassAuth,
      });
    }
    return reply.type(options.metrics.contentType).send(await options.metrics.exposition());
  });
}

/** The listener of `metrics.bind_address`: /metrics and nothing else. */
export function buildMetricsServer(
  options: MetricsRouteOptions & {
    tls?: TlsFiles | undefined;
    logger: boolean | { level: string; stream?: NodeJS.WritableStream };
  },
): FastifyInstance {
  const app = Fastify(listenerOptions({ logger: options.logger, bodyLimit: 1024, tls: options.tls }));
  answerErrorsWithEnvelope(app, () => "Not found; metrics are at GET /metrics");
  metricsRoute(app, options);
  return app;
}
