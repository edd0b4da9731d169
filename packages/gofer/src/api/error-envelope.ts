/**
 * Maps every failure to the v0 error envelope `{request_id, message, error_code}` and its HTTP status.
 * This is the one place where codes become statuses: routes throw `GoferError`s and never set a status for
 * an error themselves.
 */
import { STATUS_CODES } from "node:http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode, GoferError } from "../domain/errors.ts";

export interface ErrorEnvelope {
  request_id: string;
  message: string;
  error_code: ErrorCode;
}

/** Fastify's own request errors, translated to our codes with messages that say how to fix the request. */
const FASTIFY_ERRORS: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: "BODY_TOO_LARGE", message: "Request body is too large" },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: "UNSUPPORTED_MEDIA_TYPE",
    message: "Unsupported Content-Type; send the body as application/json",
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: {
    code: "BAD_REQUEST",
    message: "Content-Length does not match the body",
  },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: "BAD_REQUEST" },
  FST_ERR_BAD_URL: {
    code: "BAD_REQUEST",
    message: "The URL is not valid: a percent-encoding does not decode",
  },
  FST_ERR_MAX_PARAM_LENGTH: { code: "BAD_REQUEST", message: "A path parameter is too long" },
};

/**
 * The code for any other client error that carries a status (a plugin's, or Fastify's own): one whose registered
 * status is that status, so the envelope never contradicts it. A status without an entry is answered as a 400.
 */
export const CODE_FOR_STATUS: Readonly<Partial<Record<number, ErrorCode>>> = {
  400: "BAD_REQUEST",
  401: "UNAUTHENTICATED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  409: "CONFLICT",
  413: "BODY_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

/**
 * The status and envelope answering `error`. The status is always the one registered for the envelope's code:
 * an error is never answered with a status its code contradicts.
 */
export function toErrorEnvelope(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorEnvelope; internal: boolean } {
  if (error instanceof GoferError) return envelope(error.code, error.message, requestId);
  const candidate = (typeof error === "object" && error !== null ? error : {}) as FastifyLikeError;
  if (candidate.validation) {
    return envelope("BAD_REQUEST", `Invalid request: ${candidate.message ?? "validation failed"}`, requestId);
  }
  const known = candidate.code ? FASTIFY_ERRORS[candidate.code] : undefined;
  if (known) return envelope(known.code, known.message ?? `Invalid request: ${candidate.message}`, requestId);
  const status = candidate.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = CODE_FOR_STATUS[status] ?? "BAD_REQUEST";
    const message = candidate.message || STATUS_CODES[status] || "Bad request";
    return envelope(code, code === "BAD_REQUEST" ? `Malformed request: ${message}` : message, requestId);
  }
  return envelope("INTERNAL", "Internal Server Error", requestId);
}

/** `internal`: the failure is the server's, so its details go to the log under the request id (INTERNAL's doc). */
function envelope(code: ErrorCode, message: string, requestId: string) {
  return {
    status: ERROR_CODES[code].status,
    body: { request_id: requestId, message, error_code: code },
    internal: code === "INTERNAL",
  };
}

/**
 * Answers the errors Fastify raises before a request reaches a route (a URL that does not decode, a path
 * parameter over the router's limit) with the envelope too; pass it as Fastify's `frameworkErrors` option.
 */
export function answerFrameworkError(error: unknown, request: FastifyRequest, reply: FastifyReply): void {
  const { status, body } = toErrorEnvelope(error, request.id);
  void reply
    .code(status)
    .header("x-request-id", request.id)
    .type("application/json")
    .send(JSON.stringify(body));
}

/**
 * Makes every failure and unknown route of `app` answer with the envelope; unexpected failures are logged under
 * the request id the envelope carries.
 */
export function answerErrorsWithEnvelope(
  // biome-ignore lint/suspicious/noExplicitAny: any type provider; only the handlers are set
  app: FastifyInstance<any, any, any, any, any>,
  notFoundMessage: (request: FastifyRequest) => string,
): void {
  app.setErrorHandler((error, request, reply) => {
    const { status, body, internal } = toErrorEnvelope(error, request.id);
    if (internal) request.log.error({ err: error }, "request failed");
    void reply.code(status).type("application/json").send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    const { status, body } = toErrorEnvelope(
      new GoferError("NOT_FOUND", notFoundMessage(request)),
      request.id,
    );
    void reply.code(status).type("application/json").send(body);
  });
}
