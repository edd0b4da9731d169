/** Fastify options every Gofer listener shares (the API and the external events listener). */
import { randomUUID } from "node:crypto";
import type { TlsFiles } from "../config/config.ts";
import { answerFrameworkError } from "./error-envelope.ts";

export function listenerOptions(options: {
  logger: boolean | { level: string; stream?: NodeJS.WritableStream };
  bodyLimit: number;
  /** Serve HTTPS with this certificate and key. */
  tls?: TlsFiles | undefined;
}) {
  return {
    // Fastify then builds an https.Server; the routes and hooks see the same request and reply either way.
    ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}),
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    // Request ids are ours (a UUID per request, echoed in the envelope), never taken from a client header.
    genReqId: () => randomUUID(),
    requestIdHeader: false as const,
    // Clients that disconnect mid-request must not leave handlers writing into a closed socket.
    return503OnClosing: true,
    // A URL that does not decode never reaches a route or the error handler; it still gets the envelope.
    frameworkErrors: answerFrameworkError,
  };
}
