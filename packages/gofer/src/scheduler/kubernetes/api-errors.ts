/**
 * Failures of Kubernetes API calls as {@link SchedulerError}s. Pure, so it knows the client's errors by shape:
 * its `ApiException` carries the HTTP status as a numeric `code` and the answer (a `Status` object, or its
 * JSON text) as `body`; its `Watch` reports a refused watch as an Error with `statusCode`; a request that never
 * got an answer is a `TypeError("fetch failed")` whose `cause` has the socket's error code.
 */
import { SchedulerError } from "../scheduler.ts";

/** Errors of a connection that could not be made or broke: worth retrying, the API server may be restarting. */
const CONNECTION_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/** A status the API server answered with, and its message when it gave one. */
export class ApiStatusError extends Error {
  override name = "ApiStatusError";
  readonly status: number;

  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

/** The HTTP status of a failed call, when the API server answered. */
export function statusOf(error: unknown): number | undefined {
  if (error instanceof ApiStatusError) return error.status;
  if (typeof error !== "object" || error === null) return undefined;
  const { code, statusCode } = error as { code?: unknown; statusCode?: unknown };
  if (typeof code === "number") return code;
  if (typeof statusCode === "number") return statusCode;
  return undefined;
}

/** The message of a `Status` answer, given as an object or as its JSON text. */
export function statusMessage(body: unknown): string | undefined {
  let status = body;
  if (typeof body === "string") {
    try {
      status = JSON.parse(body);
    } catch {
      return body.trim() === "" ? undefined : body.trim();
    }
  }
  if (typeof status !== "object" || status === null) return undefined;
  const message = (status as { message?: unknown }).message;
  return typeof message === "string" && message !== "" ? message : undefined;
}

/** The socket error code somewhere down the cause chain, for a call that got no answer. */
function connectionCodeOf(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && typeof current === "object" && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === "string" && CONNECTION_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

const STATUS_TEXT: Record<number, string> = {
  401: "the cluster did not accept the credentials (401 Unauthorized)",
  403: "the credentials are not allowed to do this (403 Forbidden)",
  404: "not found",
  409: "it already exists",
  429: "the API server is throttling requests (429)",
};

/**
 * `what` failed because of `error`: `not_found` for 404, `unavailable` for no answer, a broken connection,
 * 429 or a server error, `failed` otherwise. The message keeps the API server's own words when it gave any.
 */
export function toSchedulerError(what: string, error: unknown): SchedulerError {
  if (error instanceof SchedulerError) return error;
  const status = statusOf(error);
  if (status !== undefined) {
    const body = error instanceof ApiStatusError ? error.message : (error as { body?: unknown }).body;
    const detail = statusMessage(body) ?? STATUS_TEXT[status] ?? `the API server answered ${status}`;
    const kind = status === 404 ? "not_found" : status === 429 || status >= 500 ? "unavailable" : "failed";
    return new SchedulerError(`${what}: ${detail}`, { cause: error, kind });
  }
  const code = connectionCodeOf(error);
  if (code !== undefined) {
    return new SchedulerError(`${what}: the Kubernetes API server did not answer (${code})`, {
      cause: error,
      kind: "unavailable",
    });
  }
  return new SchedulerError(`${what}: ${messagesOf(error)}`, { cause: error });
}

/** The messages down the cause chain: `fetch failed` alone says nothing, its cause (`bad port`) does. */
function messagesOf(error: unknown): string {
  const messages: string[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined && current !== null; depth++) {
    const message = current instanceof Error ? current.message : String(current);
    if (message !== "" && !messages.includes(message)) messages.push(message);
    current = current instanceof Error ? current.cause : undefined;
  }
  return messages.join(": ");
}
