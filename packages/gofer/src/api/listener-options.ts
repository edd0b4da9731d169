/** Fastify options every Gofer listener shares (the API and the external events listener). */
import { randomUUID } from "node:crypto";

export function listenerOptions(options: { logger: boolean | { level: string }; bodyLimit: number }) {
  return {
    logger: options.logger,
    bodyLimit: options.bodyLimit,
    // Request ids are ours (a UUID per request, echoed in the envelope), never taken from a client header.
    genReqId: () => randomUUID(),
    requestIdHeader: false as const,
    // Clients that disconnect mid-request must not leave handlers writing into a closed socket.
    return503OnClosing: true,
  };
}
