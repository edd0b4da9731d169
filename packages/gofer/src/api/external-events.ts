// In api/: an HTTP listener like server.ts, sharing its envelope and options; only service/ builds it.
/**
 * The external events listener: a second HTTP server, apart from the API, where third parties (GitHub) deliver
 * webhooks. `POST /api/external/<extension_id>` forwards the headers and the exact body bytes to that
 * extension's `/api/external-event`, and answers with the extension's verdict, so a sender whose signature the
 * extension refused sees the refusal.
 *
 * It takes no Gofer token (a webhook sender has none): the extension authenticates the payload itself, e.g. by
 * its signature. It serves nothing else, so exposing it to the internet exposes only that route.
 */
import Fastify, { type FastifyInstance } from "fastify";
import type { TlsFiles } from "../config/config.ts";
import { GoferError } from "../domain/errors.ts";
import { ExtensionCallError } from "../extensions/extension-client.ts";
import type { ExtensionSupervisor } from "../extensions/extension-supervisor.ts";
import type { ReplicaView } from "../replicas/leadership.ts";
import { answerErrorsWithEnvelope } from "./error-envelope.ts";
import { listenerOptions } from "./listener-options.ts";
import { forwardToLeader } from "./replica-forwarding.ts";

export interface ExternalEventsOptions {
  supervisor: ExtensionSupervisor;
  /** Whether an extension is installed (404 otherwise, without revealing anything else). */
  isInstalled(extensionId: string): Promise<boolean>;
  bodyLimit: number;
  logger: boolean | { level: string; stream?: NodeJS.WritableStream };
  /** Serve HTTPS with this certificate and key (`external_events.use_tls`). */
  tls?: TlsFiles | undefined;
  /** With replicas, a follower hands every event to the leader's listener, where the extensions run. */
  replicas?: ReplicaView | undefined;
}

/** Headers that describe the hop to Gofer, not the event; the extension gets the sender's own headers. */
const HOP_HEADERS = new Set([
  "connection",
  "keep-alive",
  "transfer-encoding",
  "upgrade",
  "authorization",
  "cookie",
]);

export function buildExternalEventsServer(options: ExternalEventsOptions): FastifyInstance {
  const app = Fastify(listenerOptions(options));
  app.removeAllContentTypeParsers();
  // Signatures are computed over the exact bytes sent, so the body is never parsed or re-encoded here.
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_request, body, done) => done(null, body));

  answerErrorsWithEnvelope(app, () => "Not found; deliver events to POST /api/external/<extension_id>");
  if (options.replicas) {
    forwardToLeader(app, {
      replicas: options.replicas,
      target: "external_events",
      leaderOnly: () => true,
      ...(options.tls && { ca: options.tls.cert }),
    });
  }

  app.post<{ Params: { extension_id: string } }>("/api/external/:extension_id", async (request, reply) => {
    const id = request.params.extension_id;
    if (!(await options.isInstalled(id)))
      throw new GoferError("NOT_FOUND", `No extension "${id}" is installed`);
    let client: ReturnType<typeof options.supervisor.clientOf>;
    try {
      client = options.supervisor.clientOf(id);
    } catch {
      // Senders are anonymous: the extension's state and last output are for `gofer extension get`, not them.
      throw new GoferError("EXTENSION_UNAVAILABLE", `Extension "${id}" is not running; retry later`);
    }
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value === undefined || HOP_HEADERS.has(name)) continue;
      headers[name] = Array.isArray(value) ? value.join(", ") : value;
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    let answer: Awaited<ReturnType<typeof client.externalEvent>>;
    try {
      answer = await client.externalEvent(headers, body);
    } catch (error) {
      if (!(error instanceof ExtensionCallError)) throw error;
      throw new GoferError("EXTENSION_ERROR", `Extension "${id}" could not take the event: ${error.message}`);
    }
    if (answer.status >= 500) {
      throw new GoferError(
        "EXTENSION_ERROR",
        `Extension "${id}" failed on the event (status ${answer.status})`,
      );
    }
    if (answer.status === 204 || answer.body === "") return reply.code(answer.status).send();
    return reply
      .code(answer.status)
      .type(answer.contentType ?? "application/json")
      .send(answer.body);
  });
  return app;
}
