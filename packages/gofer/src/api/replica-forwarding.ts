/**
 * On a follower replica, what only the leader may do is handed to it whole: every change (any method but GET,
 * HEAD and OPTIONS) and every read of the extensions, whose state lives in the leader's supervisor. The request
 * is streamed to the leader's `server.replica_url` untouched (the leader authenticates it as usual) and its
 * answer streamed back, as Vault's and Nomad's standby servers forward to their active one. So every rule the
 * services keep (a delete's check and the delete being one write, run admission, concurrency groups) is kept
 * by one process, exactly as on a single server. Reads, log follows and event streams are served where they
 * arrive.
 *
 * While no replica leads (a takeover under way), those requests are answered 503 LEADER_UNAVAILABLE with a
 * Retry-After; the leader itself refuses them the same way until its takeover is done.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GoferError } from "../domain/errors.ts";
import type { ReplicaView } from "../replicas/leadership.ts";
import { toErrorEnvelope } from "./error-envelope.ts";

/** Set on a forwarded request: the leader that receives one when it no longer leads refuses it, never forwards. */
export const FORWARDED_HEADER = "gofer-forwarded-by";
const READS = new Set(["GET", "HEAD", "OPTIONS"]);
/** Seconds a client is told to wait before trying again while a takeover is under way. */
const RETRY_AFTER_S = 2;
/** Connection-scoped headers a proxy must not pass on (RFC 9110 §7.6.1). */
const HOP_BY_HOP = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

export interface ForwardingOptions {
  replicas: ReplicaView;
  /** Which leader address to forward to: the API's or the external events listener's. */
  target: "api" | "external_events";
  /** Which requests only the leader may answer. */
  leaderOnly: (method: string, path: string) => boolean;
  /** Certificate authority for a leader served over HTTPS with a private certificate. */
  ca?: string;
}

/** Changes, and reads of extension state. */
export const apiNeedsLeader = (method: string, path: string): boolean =>
  !READS.has(method) || path === "/api/extensions" || path.startsWith("/api/extensions/");

export function forwardToLeader(app: FastifyInstance, options: ForwardingOptions): void {
  app.addHook("onRequest", async (request, reply) => {
    const path = request.url.split("?", 1)[0] ?? "";
    if (!options.leaderOnly(request.method, path)) return;
    const role = options.replicas.role();
    if (role === "leader") return;
    if (role === "taking-over" || request.headers[FORWARDED_HEADER] !== undefined) {
      throw unavailable(reply, "this replica is taking over the work; retry in a few seconds");
    }
    const leader = await options.replicas.leader();
    const base = options.target === "api" ? leader?.url : leader?.external_events_url;
    if (leader === undefined || !base) {
      throw unavailable(
        reply,
        "no replica leads right now (one is taking over the work); retry in a few seconds",
      );
    }
    await relay(request, reply, new URL(request.url, base), options);
  });
}

function unavailable(reply: FastifyReply, message: string): GoferError {
  reply.header("retry-after", String(RETRY_AFTER_S));
  return new GoferError("LEADER_UNAVAILABLE", message);
}

/** Streams the request to `target` and the answer back; a leader that does not answer becomes a 503. */
async function relay(
  request: FastifyRequest,
  reply: FastifyReply,
  target: URL,
  options: ForwardingOptions,
): Promise<void> {
  reply.hijack();
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  headers[FORWARDED_HEADER] = options.replicas.replicaId;
  const forwardedFor = request.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${request.ip}` : request.ip;
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  await new Promise<void>((resolve) => {
    const outgoing = send(target, {
      method: request.method,
      headers,
      ...(options.ca !== undefined && { ca: options.ca }),
    });
    const fail = (error: Error) => {
      options.replicas.forgetLeader();
      if (!reply.raw.headersSent) {
        const { status, body } = toErrorEnvelope(
          new GoferError(
            "LEADER_UNAVAILABLE",
            `the leading replica at ${target.origin} did not answer (${error.message}); retry in a few seconds`,
          ),
          String(request.id),
        );
        reply.raw.writeHead(status, {
          "content-type": "application/json; charset=utf-8",
          "retry-after": String(RETRY_AFTER_S),
          "x-request-id": String(request.id),
        });
        reply.raw.end(JSON.stringify(body));
      } else {
        reply.raw.destroy(error);
      }
      resolve();
    };
    outgoing.on("error", fail);
    outgoing.on("response", (answer: IncomingMessage) => {
      const answerHeaders: OutgoingHttpHeaders = {};
      for (const [name, value] of Object.entries(answer.headers)) {
        if (!HOP_BY_HOP.has(name) && value !== undefined) answerHeaders[name] = value;
      }
      reply.raw.writeHead(answer.statusCode ?? 502, answerHeaders);
      answer.pipe(reply.raw);
      answer.on("end", () => resolve());
      answer.on("error", (error) => {
        reply.raw.destroy(error);
        resolve();
      });
    });
    // A client that goes away takes the forwarded request with it (a log follow, a long upload).
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) outgoing.destroy();
      resolve();
    });
    request.raw.pipe(outgoing);
  });
}
