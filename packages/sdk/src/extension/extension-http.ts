/**
 * The HTTP side of an extension on node:http: routing, the shared-secret check, bounded JSON bodies and the
 * error envelope `{message, request_id, error_code}`. This is the one place where errors become statuses.
 */

import { createHash, randomUUID, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, RequestListener, ServerResponse } from "node:http";
import { ExtensionError, errorMessage, kitError } from "./extension-error.ts";
import type { ExtensionLogger } from "./extension-logger.ts";

export type Reply =
  | { status: 200; body: unknown }
  /** `afterSend` runs once the answer has been handed to the connection. */
  | { status: 204; afterSend?: () => void };

export interface Route {
  method: "GET" | "POST" | "DELETE";
  path: string;
  /** Served without the secret: only the health check, which the container runtime probes. */
  public?: boolean;
  /** Read the body as JSON of at most this many bytes; without it the body is not read. */
  bodyLimit?: number;
  handle(body: unknown): Promise<Reply>;
}

export interface ListenerOptions {
  routes: readonly Route[];
  secret: string;
  log: ExtensionLogger;
  /** While true, every answer closes its connection, so a stopping server is not held open by keep-alive. */
  closing(): boolean;
}

export function createRequestListener(options: ListenerOptions): RequestListener {
  const { routes, log } = options;
  const secretDigest = digest(options.secret);
  return (request, response) => {
    const requestId = randomUUID();
    const started = performance.now();
    const path = pathOf(request);
    response.setHeader("x-request-id", requestId);
    if (options.closing()) response.setHeader("connection", "close");
    void serve(request, response, path, requestId).then((status) => {
      log.debug("request", {
        method: request.method,
        path,
        status,
        request_id: requestId,
        duration_ms: Math.round(performance.now() - started),
      });
    });
  };

  /** Answers the request and resolves with the status sent; never rejects. */
  async function serve(request: IncomingMessage, response: ServerResponse, path: string, requestId: string) {
    try {
      const candidates = routes.filter((route) => route.path === path);
      const route = candidates.find((candidate) => candidate.method === request.method);
      if (candidates.length === 0) throw kitError("NOT_FOUND", `Not Found: no route ${path}`);
      if (route === undefined) {
        const allowed = candidates.map((candidate) => candidate.method).join(", ");
        response.setHeader("allow", allowed);
        throw kitError(
          "METHOD_NOT_ALLOWED",
          `Method ${request.method} is not allowed on ${path}; use ${allowed}`,
        );
      }
      if (!route.public) authenticate(request.headers.authorization, secretDigest);
      const body = route.bodyLimit === undefined ? undefined : await readJson(request, route.bodyLimit);
      const reply = await route.handle(body);
      if (reply.status === 200) {
        sendJson(response, 200, reply.body);
      } else {
        if (reply.afterSend) response.once("finish", reply.afterSend);
        response.writeHead(204).end();
      }
      return reply.status;
    } catch (error) {
      const answer = toAnswer(error);
      if (answer.status >= 500) {
        log.error("request failed", {
          method: request.method,
          path,
          request_id: requestId,
          error: answer.message,
        });
      }
      // A refused body was not read to its end; closing is what stops the client sending the rest.
      if (answer.status === 413) response.setHeader("connection", "close");
      sendJson(response, answer.status, {
        message: answer.message,
        request_id: requestId,
        error_code: answer.code,
      });
      return answer.status;
    }
  }
}

function pathOf(request: IncomingMessage): string {
  try {
    return new URL(request.url ?? "/", "http://extension").pathname;
  } catch {
    return request.url ?? "/";
  }
}

// Comparing fixed-length digests keeps the comparison constant-time without revealing the secret's length.
function digest(text: string): Buffer {
  return createHash("sha256").update(text).digest();
}

function authenticate(header: string | undefined, secretDigest: Buffer): void {
  if (header === undefined || header === "") {
    throw kitError(
      "INVALID_AUTHORIZATION",
      "Missing Authorization header; send `Authorization: Bearer <secret>`",
    );
  }
  if (!header.startsWith("Bearer ")) {
    throw kitError(
      "INVALID_AUTHORIZATION",
      "Malformed Authorization header; send `Authorization: Bearer <secret>`",
    );
  }
  if (!timingSafeEqual(digest(header.slice("Bearer ".length)), secretDigest)) {
    throw kitError("UNAUTHENTICATED", "The bearer token is not this extension's secret");
  }
}

function formatBytes(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/**
 * Reads the body, refusing it as soon as it passes `limit` bytes: a declared length over the limit is refused
 * before anything is read, and a streamed one stops being read at the limit.
 */
async function readJson(request: IncomingMessage, limit: number): Promise<unknown> {
  const tooLarge = () => kitError("BODY_TOO_LARGE", `The body is larger than ${formatBytes(limit)}`);
  const declared = Number(request.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();

  const bytes = await new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (settle: () => void) => {
      request.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
      settle();
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        // Paused rather than destroyed: the socket must stay open for the 413 answer.
        request.pause();
        finish(() => reject(tooLarge()));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => finish(() => resolve(Buffer.concat(chunks, size)));
    const onError = (error: Error) => finish(() => reject(error));
    // A client that goes away mid-body leaves nothing to answer; without this the read would wait forever.
    const onClose = () => finish(() => reject(new Error("The request was closed before its body ended")));
    request.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });

  const text = bytes.toString("utf8");
  if (text.trim() === "") throw kitError("BAD_REQUEST", "The body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (error) {
    throw kitError("BAD_REQUEST", `The body is not valid JSON: ${errorMessage(error)}`);
  }
}

function toAnswer(error: unknown): { status: number; code: string; message: string } {
  if (error instanceof ExtensionError)
    return { status: error.status, code: error.code, message: error.message };
  return { status: 500, code: "INTERNAL", message: errorMessage(error) };
}

function sendJson(response: ServerResponse, status: number, body: unknown): void {
  if (response.headersSent) return;
  const text = JSON.stringify(body);
  response
    .writeHead(status, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(text),
    })
    .end(text);
}
