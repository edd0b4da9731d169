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
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type RequestOptions,
} from "node:http";
import { request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { rootCertificates } from "node:tls";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { GoferError } from "../domain/errors.ts";
import type { ReplicaView } from "../replicas/leadership.ts";
import { toErrorEnvelope } from "./error-envelope.ts";

/** Set on a forwarded request: the leader that receives one when it no longer leads refuses it, never forwards. */
export const FORWARDED_HEADER = "gofer-forwarded-by";
const READS = new Set(["GET", "HEAD", "OPTIONS"]);
/** How long the leader may take to accept the connection. */
const CONNECT_TIMEOUT_MS = 5_000;
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
    // Only a path is ever forwarded, to the leader's own origin: an absolute-form or `//host` target must not
    // turn a replica into a proxy to anywhere.
    if (!request.url.startsWith("/") || request.url.startsWith("//")) {
      throw new GoferError("BAD_REQUEST", "The request target must be a path starting with a single /");
    }
    const leader = await options.replicas.leader().catch(() => undefined);
    const base = options.target === "api" ? leader?.url : leader?.external_events_url;
    if (leader === undefined || !base) {
      throw unavailable(
        reply,
        "no replica leads right now (one is taking over the work); retry in a few seconds",
      );
    }
    const origin = new URL(base).origin;
    const target = new URL(`${origin}${request.url}`);
    if (target.origin !== origin) throw new GoferError("BAD_REQUEST", "The request target is not a path");
    if (request.headers.upgrade !== undefined) await tunnel(request, reply, target, options);
    else await relay(request, reply, target, options);
  });
}

function unavailable(reply: FastifyReply, message: string): GoferError {
  reply.header("retry-after", String(RETRY_AFTER_S));
  return new GoferError("LEADER_UNAVAILABLE", message);
}

/** The request's end-to-end headers, marked as forwarded by this replica. */
function forwardedHeaders(request: FastifyRequest, replicaId: string): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (!HOP_BY_HOP.has(name) && value !== undefined) headers[name] = value;
  }
  headers[FORWARDED_HEADER] = replicaId;
  const forwardedFor = request.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${forwardedFor}, ${request.ip}` : request.ip;
  return headers;
}

/**
 * Options for the request to the leader: a connection of its own (never shared between clients, so one
 * client's bytes can never be read as part of another's request), and TLS checked against the leader's own name with the system's CAs plus the server's certificate.
 */
function requestOptions(
  request: FastifyRequest,
  target: URL,
  headers: OutgoingHttpHeaders,
  options: ForwardingOptions,
): RequestOptions {
  return {
    method: request.method,
    headers,
    agent: false,
    ...(target.protocol === "https:" && {
      servername: target.hostname,
      ...(options.ca !== undefined && { ca: [...rootCertificates, options.ca] }),
    }),
  };
}

/**
 * Gives up on a leader that does not accept the connection within {@link CONNECT_TIMEOUT_MS}. Only the
 * connection is bounded: an answer may take long (an extension install waits for its first health check).
 */
function limitConnectTime(outgoing: ClientRequest): void {
  outgoing.on("socket", (socket) => {
    const timer = setTimeout(
      () => outgoing.destroy(new Error(`no connection within ${CONNECT_TIMEOUT_MS / 1000} s`)),
      CONNECT_TIMEOUT_MS,
    );
    socket.once("connect", () => clearTimeout(timer));
    socket.once("close", () => clearTimeout(timer));
  });
}

/** Answers 503 LEADER_UNAVAILABLE on a hijacked reply, when nothing was sent yet. */
function answerUnavailable(request: FastifyRequest, reply: FastifyReply, target: URL, error: Error): void {
  if (reply.raw.headersSent) {
    reply.raw.destroy(error);
    return;
  }
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
}

/** Streams the request to `target` and the answer back; a leader that does not answer becomes a 503. */
async function relay(
  request: FastifyRequest,
  reply: FastifyReply,
  target: URL,
  options: ForwardingOptions,
): Promise<void> {
  reply.hijack();
  const headers = forwardedHeaders(request, options.replicas.replicaId);
  // The body is framed again for the hop: chunked when the client sent it chunked (Node then encodes what is
  // written), by its length otherwise, and not at all when it had none.
  const chunked = request.headers["transfer-encoding"] !== undefined;
  if (chunked) headers["transfer-encoding"] = "chunked";
  const hasBody = chunked || Number(request.headers["content-length"] ?? 0) > 0;
  await new Promise<void>((resolve) => {
    const outgoing = openToLeader(request, reply, target, headers, options, resolve);
    // A client that goes away takes the forwarded request with it (a log follow, a long upload).
    reply.raw.on("close", () => {
      if (!reply.raw.writableFinished) outgoing.destroy();
      resolve();
    });
    if (hasBody) request.raw.pipe(outgoing);
    else outgoing.end();
  });
}

/**
 * Sends the request's head to the leader. Its answer is passed on as it comes (also a refused upgrade, with the
 * v0 envelope); a leader that cannot be reached is a 503. `done` is called once the exchange is over.
 */
function openToLeader(
  request: FastifyRequest,
  reply: FastifyReply,
  target: URL,
  headers: OutgoingHttpHeaders,
  options: ForwardingOptions,
  done: () => void,
): ClientRequest {
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  const outgoing = send(target, requestOptions(request, target, headers, options));
  limitConnectTime(outgoing);
  outgoing.on("error", (error) => {
    options.replicas.forgetLeader();
    answerUnavailable(request, reply, target, error);
    done();
  });
  outgoing.on("response", (answer: IncomingMessage) => {
    const answerHeaders: OutgoingHttpHeaders = {};
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!HOP_BY_HOP.has(name) && value !== undefined) answerHeaders[name] = value;
    }
    reply.raw.writeHead(answer.statusCode ?? 502, answerHeaders);
    answer.pipe(reply.raw);
    answer.on("end", done);
    answer.on("error", (error) => {
      reply.raw.destroy(error);
      done();
    });
  });
  return outgoing;
}

/**
 * A WebSocket upgrade (an extension's log followed live) is passed to the leader as the upgrade it is, and
 * the two connections are then joined byte for byte until either side closes.
 */
async function tunnel(
  request: FastifyRequest,
  reply: FastifyReply,
  target: URL,
  options: ForwardingOptions,
): Promise<void> {
  reply.hijack();
  const headers = forwardedHeaders(request, options.replicas.replicaId);
  headers.connection = "Upgrade";
  headers.upgrade = request.headers.upgrade;
  const client = request.raw.socket;
  await new Promise<void>((resolve) => {
    const outgoing = openToLeader(request, reply, target, headers, options, resolve);
    outgoing.on("upgrade", (answer: IncomingMessage, upstream: Socket, head: Buffer) => {
      const lines = [`HTTP/1.1 ${answer.statusCode ?? 101} ${answer.statusMessage ?? "Switching Protocols"}`];
      for (let index = 0; index < answer.rawHeaders.length; index += 2) {
        lines.push(`${answer.rawHeaders[index]}: ${answer.rawHeaders[index + 1]}`);
      }
      client.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length > 0) client.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
      const end = () => {
        upstream.destroy();
        client.destroy();
        resolve();
      };
      upstream.on("close", end);
      client.on("close", end);
      upstream.on("error", end);
      client.on("error", end);
    });
    outgoing.end();
  });
}
