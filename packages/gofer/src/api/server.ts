/**
 * Fastify wiring for the v0 API: the version header, authentication, the error envelope, request ids,
 * validation that refuses what the contract does not allow, and the generated OpenAPI document.
 */

import swagger from "@fastify/swagger";
import type { TypeBoxTypeProvider } from "@fastify/type-provider-typebox";
import websocket from "@fastify/websocket";
import { Ajv } from "ajv";
import Fastify, { type FastifyRequest } from "fastify";
import { authorizeRequest } from "../auth/authorize.ts";
import { accessFor } from "../auth/route-access.ts";
import { ANONYMOUS, type Principal } from "../auth/tokens.ts";
import type { TlsFiles } from "../config/config.ts";
import { GoferError } from "../domain/errors.ts";
import type { GoferMetrics } from "../metrics/gofer-metrics.ts";
import type { ReplicaView } from "../replicas/leadership.ts";
import type { GoferDb } from "../storage/database.ts";
import { traceRequests } from "../tracing/http-spans.ts";
import type { OtlpExporter } from "../tracing/otlp-exporter.ts";
import type { ApiServices, GoferApp } from "./api-context.ts";
import { auditCalls } from "./audit-trail.ts";
import { answerErrorsWithEnvelope } from "./error-envelope.ts";
import { listenerOptions } from "./listener-options.ts";
import { metricsRoute } from "./metrics-route.ts";
import { apiNeedsLeader, forwardToLeader } from "./replica-forwarding.ts";
import { readBodies } from "./request-bodies.ts";
import { auditRoutes } from "./routes/audit.ts";
import { configRoutes } from "./routes/configs.ts";
import { deploymentRoutes } from "./routes/deployments.ts";
import { eventRoutes } from "./routes/events.ts";
import { namespaceRoutes } from "./routes/namespaces.ts";
import { objectRoutes } from "./routes/objects.ts";
import { pipelineRoutes } from "./routes/pipelines.ts";
import { roleRoutes } from "./routes/roles.ts";
import { runRoutes } from "./routes/runs.ts";
import { systemRoutes } from "./routes/system.ts";
import { taskAttachRoutes } from "./routes/task-attach.ts";
import { taskExecutionRoutes } from "./routes/task-executions.ts";
import { tokenRoutes } from "./routes/tokens.ts";
import { ErrorResponse } from "./schemas/common.ts";
import { SHARED_SCHEMAS } from "./schemas/models.ts";
import { registerWebUi } from "./web-ui.ts";
import { applySubprotocolCredentials, chooseSubprotocol } from "./websocket-credentials.ts";

declare module "fastify" {
  interface FastifyRequest {
    principal: Principal;
  }
}

export interface ServerOptions extends ApiServices {
  /** Where the authorisation hook looks tokens up. */
  db: GoferDb;
  version: { semver: string; commit: string };
  bypassAuth: boolean;
  bodyLimit: number;
  tls?: TlsFiles | undefined;
  logger: boolean | { level: string; stream?: NodeJS.WritableStream };
  /** The web UI at `/`: off, or served from `path` ("" for the one shipped with Gofer). */
  web: { enable: boolean; path: string };
  /** Which replica leads, when several share a PostgreSQL database: followers forward to it. */
  replicaView?: ReplicaView;
  /** OpenTelemetry: a span per request, when tracing is on. */
  traces?: OtlpExporter;
  /** Prometheus metrics: request durations are recorded, and /metrics served here unless `elsewhere`. */
  metrics?: { registry: GoferMetrics; public: boolean; elsewhere: boolean };
}

/** Paths that answer without the version header: the API's own description. */
const VERSIONLESS = new Set(["/api/openapi.json"]);

export async function buildServer(options: ServerOptions): Promise<GoferApp> {
  const app = Fastify({
    ...listenerOptions(options),
    // Object keys are path parameters up to 256 UTF-8 bytes, percent-encoded; longer ones get a 400 naming the rule.
    routerOptions: { maxParamLength: 2048 },
  }).withTypeProvider<TypeBoxTypeProvider>();

  installValidators(app);
  readBodies(app);
  for (const schema of [ErrorResponse, ...SHARED_SCHEMAS]) app.addSchema(schema);

  await app.register(swagger, {
    openapi: {
      openapi: "3.0.3",
      info: {
        title: "Gofer",
        description:
          "Gofer's v0 REST API: run pipelines of containers. Send `gofer-api-version: v0` on every request.",
        version: options.version.semver,
      },
      components: {
        securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      },
    },
    refResolver: {
      buildLocalReference: (json, _base, _fragment, index) => String(json.$id ?? `def-${index}`),
    },
  });
  await app.register(websocket, {
    options: { maxPayload: 1024 * 1024, handleProtocols: (protocols) => chooseSubprotocol(protocols) },
  });

  // A route without an access entry must fail startup, not answer open.
  app.addHook("onRoute", (route) => {
    const operationId = (route.schema as { operationId?: string } | undefined)?.operationId;
    if (operationId) accessFor(operationId);
    // Authorization is looked up by operationId, so an API route without one would be served unchecked.
    else if (route.url.startsWith("/api/") && !OPEN_WITHOUT_OPERATION.has(route.url))
      throw new Error(`route ${route.method} ${route.url} has no operationId, so no access entry`);
  });
  app.decorateRequest("principal", null as unknown as Principal);
  if (options.traces) traceRequests(app, options.traces);
  const metrics = options.metrics;
  if (metrics) {
    // The route pattern, never the path: a path names runs and tasks, which would make the series unbounded.
    app.addHook("onResponse", async (request, reply) => {
      metrics.registry.httpRequest.observe(
        {
          method: request.method,
          route: request.routeOptions.url ?? "unmatched",
          status: String(reply.statusCode),
        },
        reply.elapsedTime / 1000,
      );
    });
  }
  // First, so a forwarded request is authenticated once, by the leader that answers it.
  if (options.replicaView) {
    forwardToLeader(app, {
      replicas: options.replicaView,
      target: "api",
      leaderOnly: apiNeedsLeader,
      ...(options.tls && { ca: options.tls.cert }),
    });
  }
  app.addHook("onRequest", async (request, reply) => {
    reply.header("x-request-id", request.id);
    request.principal = ANONYMOUS;
    const path = request.url.split("?", 1)[0] ?? "";
    if (!path.startsWith("/api/") || VERSIONLESS.has(path)) return;
    applySubprotocolCredentials(request.headers);
    if (request.headers["gofer-api-version"] !== "v0") {
      throw new GoferError(
        "MISSING_API_VERSION",
        "Missing or unsupported API version; send the header `gofer-api-version: v0`",
      );
    }
    await authorize(request, options);
  });
  // After authorisation: only calls let through are audited, under the user that made them.
  auditCalls(app, { audit: options.audit, replicated: options.replicaView !== undefined });

  answerErrorsWithEnvelope(
    app,
    (request) => `No route for ${request.method} ${request.url.split("?", 1)[0]}`,
  );

  for (const routes of [
    systemRoutes,
    tokenRoutes,
    roleRoutes,
    namespaceRoutes,
    pipelineRoutes,
    configRoutes,
    deploymentRoutes,
    runRoutes,
    taskExecutionRoutes,
    taskAttachRoutes,
    eventRoutes,
    objectRoutes,
    auditRoutes,
  ]) {
    routes(app, options);
  }
  app.get("/api/openapi.json", { schema: { hide: true } }, async () => app.swagger());
  if (metrics && !metrics.elsewhere) {
    metricsRoute(app, {
      metrics: metrics.registry,
      db: options.db,
      public: metrics.public,
      bypassAuth: options.bypassAuth,
    });
  }
  if (options.web.enable) registerWebUi(app, { path: options.web.path });
  return app;
}

/** The only API routes served without an operationId: the contract itself, readable by anyone. */
const OPEN_WITHOUT_OPERATION: ReadonlySet<string> = new Set(["/api/openapi.json"]);

async function authorize(request: FastifyRequest, options: ServerOptions): Promise<void> {
  const operationId = request.routeOptions.schema?.operationId;
  // Unknown routes fall through to the 404 handler, which reveals nothing.
  if (!operationId) return;
  request.principal = await authorizeRequest(options.db, {
    access: accessFor(operationId),
    authorization: request.headers.authorization,
    params: request.params as Record<string, string | undefined>,
    bypassAuth: options.bypassAuth,
  });
}

/**
 * Bodies are validated strictly (no type coercion, unknown fields refused where a schema closes them);
 * path and query parameters arrive as strings and are coerced to their declared types.
 */
function installValidators(app: GoferApp): void {
  const common = { allErrors: false, removeAdditional: false, useDefaults: true, strict: false } as const;
  const bodies = new Ajv({ ...common, coerceTypes: false });
  const parameters = new Ajv({ ...common, coerceTypes: "array" });
  for (const schema of [ErrorResponse, ...SHARED_SCHEMAS]) {
    bodies.addSchema(schema);
    parameters.addSchema(schema);
  }
  app.setValidatorCompiler(({ schema, httpPart }) =>
    (httpPart === "body" ? bodies : parameters).compile(schema as object),
  );
}
