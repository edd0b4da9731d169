/**
 * The one registry of Gofer's error codes. Every failure a caller can see carries one of these codes; the API
 * maps the code to an HTTP status in one place (`api/error-envelope.ts`), so the same condition always
 * answers the same way. Each code has exactly one status and a `doc` (what it means, what to do), which the
 * OpenAPI document publishes beside the `error_code` enum. `test/error-codes.test.ts` fails when a code is used
 * nowhere, or an answer's status differs from its code's.
 */
export const ERROR_CODES = {
  BAD_REQUEST: {
    status: 400,
    doc: "The request is malformed or fails validation; the message says which field.",
  },
  INVALID_IDENTIFIER: {
    status: 400,
    doc: "An id in the path or body breaks the identifier rule, which the message states; fix the id.",
  },
  INVALID_SECRET_KEY: {
    status: 400,
    doc: "A secret key breaks the key rule (1-128 letters, digits, `_`, `-`); the message states the rule.",
  },
  INVALID_PIPELINE_CONFIG: {
    status: 400,
    doc: "A registered pipeline config is invalid; the message names the task and the problem to fix.",
  },
  BODY_TOO_LARGE: { status: 413, doc: "The request body is larger than `api.request_body_limit`." },
  INVALID_OBJECT_KEY: { status: 400, doc: "An object key breaks the key rule; the message names the rule." },
  OBJECT_TOO_LARGE: { status: 413, doc: "An object is larger than `object_store.max_object_size`." },
  UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    doc: "The body is not JSON where JSON is required; send it with `Content-Type: application/json`.",
  },
  MISSING_API_VERSION: {
    status: 400,
    doc: "The `gofer-api-version: v0` header is missing or names another version.",
  },
  UNAUTHENTICATED: {
    status: 401,
    doc: "No token, or a token the server does not know; send `Authorization: Bearer <token>`.",
  },
  TOKEN_DISABLED: { status: 401, doc: "The token was disabled by an admin; it may be enabled again." },
  TOKEN_EXPIRED: { status: 401, doc: "The token's expiry has passed; ask for a new one." },
  FORBIDDEN: {
    status: 403,
    doc: "The token is valid but none of its roles grants this; the message names the action and resources.",
  },
  INVALID_PERMISSION: {
    status: 400,
    doc: "A role's permission names an unknown resource, lacks a target, or has an invalid target regex.",
  },
  NOT_FOUND: {
    status: 404,
    doc: "The resource (or a parent of it) does not exist; the message names it. Check the ids in the path.",
  },
  LOGS_REMOVED: {
    status: 410,
    doc: "The task's logs were deleted (by request or retention) and cannot be read again.",
  },
  ALREADY_EXISTS: {
    status: 409,
    doc: "A resource with this id already exists; choose another id, or send `force` where the route takes it.",
  },
  CONFLICT: {
    status: 409,
    doc: "The resource is in a state that forbids the request; the message says which. Retry once it has changed.",
  },
  ATTACH_DISABLED: {
    status: 403,
    doc: "Attaching to tasks is turned off on this server (`api.task_attach = false`).",
  },
  NOT_SUPPORTED: {
    status: 501,
    doc: "The configured container backend cannot do this (e.g. attach on Kubernetes).",
  },
  PIPELINE_INACTIVE: { status: 503, doc: "The pipeline is disabled; enable it to start runs." },
  RUNS_PAUSED: {
    status: 503,
    doc: "New runs are paused server-wide; an admin resumes them with `gofer system resume`.",
  },
  EXTENSION_START_FAILED: {
    status: 400,
    doc: "An extension being installed did not start or did not answer; nothing was installed. The message says why.",
  },
  EXTENSION_UNAVAILABLE: {
    status: 503,
    doc: "The extension is not running (starting, failed or disabled); `gofer extension get` shows why.",
  },
  EXTENSION_REFUSED: {
    status: 400,
    doc: "The extension refused the request (e.g. an invalid subscription setting); the message is the extension's.",
  },
  EXTENSION_ERROR: {
    status: 502,
    doc: "The extension failed or did not answer; the message says how. `gofer extension logs` shows its side.",
  },
  LEADER_UNAVAILABLE: {
    status: 503,
    doc: "No replica leads right now (one is taking over the work, within `server.lease_timeout`); retry in a few seconds.",
  },
  INTERNAL: {
    status: 500,
    doc: "An unexpected failure; the server log holds the details under the request id. Report it with that id.",
  },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** A failure with a stable code and a message written for the person who made the request. */
export class GoferError extends Error {
  override name = "GoferError";
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

export const notFound = (what: string): GoferError => new GoferError("NOT_FOUND", `${what} not found`);
export const badRequest = (message: string): GoferError => new GoferError("BAD_REQUEST", message);
