/**
 * Maps every failure to the v0 error envelope `{request_id, message, error_code}` and its HTTP status.
 * This is the one place where codes become statuses: routes throw `GoferError`s and never set a status for
 * an error themselves.
 */
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ERROR_CODES, type ErrorCode, GoferError } from "../domain/errors.ts";

export interface ErrorEnvelope {
  request_id: string;
  message: string;
  error_code: string;
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
};

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
  validation?: unknown;
}

export function toErrorEnvelope(
  error: unknown,
  requestId: string,
): { status: number; body: ErrorEnvelope; internal: boolean } {
  if (error instanceof GoferError) {
    return envelope(error.code, error.message, requestId);
  }
  const candidate = (typeof error === "object" && error !== null ? error : {}) as FastifyLikeError;
  if (candidate.validation) {
    return envelope("BAD_REQUEST", `Invalid request: ${candidate.message ?? "validation failed"}`, requestId);
  }
  const known = candidate.code ? FASTIFY_ERRORS[candidate.code] : undefined;
  if (known) return envelope(known.code, known.message ?? `Invalid request: ${candidate.message}`, requestId);
  if (error instanceof SyntaxError || (candidate.statusCode === 400 && candidate.message)) {
    return envelope("BAD_REQUEST", `Malformed request: ${candidate.message}`, requestId);
  }
  const status = candidate.statusCode;
  if (status !== undefined && status >= 400 && status < 500 && candidate.message) {
    return {
      status,
      body: { request_id: requestId, message: candidate.message, error_code: "BAD_REQUEST" },
      internal: false,
    };
  }
  return { ...envelope("INTERNAL", "Internal Server Error", requestId), internal: true };
}

function envelope(code: ErrorCode, message: string, requestId: string) {
  return {
    status: ERROR_CODES[code].status,
    body: { request_id: requestId, message, error_code: code },
    internal: false,
  };
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
