/**
 * The failure an extension's handlers throw to choose the HTTP answer, and the registry of the codes the kit
 * answers with itself. Statuses are set in one place: `extension-http.ts` turns these errors into envelopes.
 */

/** Thrown by handlers: becomes the HTTP answer (status, error_code, message). */
export class ExtensionError extends Error {
  override name = "ExtensionError";
  /** The HTTP status of the answer, 400–599. */
  readonly status: number;
  /** The stable `error_code` of the answer, e.g. `INVALID_SUBSCRIPTION`. */
  readonly code: string;

  constructor(status: number, code: string, message: string) {
    // A 2xx or 3xx "error" would tell Gofer a refused request succeeded, so it fails where it is written.
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`ExtensionError status must be an integer from 400 to 599, got ${status}`);
    }
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** The codes the kit itself answers with, each with its status and what it means. */
export const KIT_ERRORS = {
  BAD_REQUEST: {
    status: 400,
    doc: "The body is not JSON or has the wrong shape; the message names the field.",
  },
  INVALID_AUTHORIZATION: {
    status: 400,
    doc: "The Authorization header is missing or not `Bearer <secret>`.",
  },
  INVALID_SUBSCRIPTION: {
    status: 400,
    doc: "A subscription lacks a required parameter or has a value the extension refuses.",
  },
  UNAUTHENTICATED: { status: 401, doc: "The bearer token is not the extension's system secret." },
  NOT_FOUND: {
    status: 404,
    doc: "No such path (external-event when the extension takes no external events).",
  },
  METHOD_NOT_ALLOWED: {
    status: 405,
    doc: "The path exists but not with this method; `Allow` lists the ones it has.",
  },
  BODY_TOO_LARGE: { status: 413, doc: "The body is over 1 MiB (48 MiB of JSON for external events)." },
  INTERNAL: { status: 500, doc: "A handler failed with something other than an ExtensionError." },
} as const;

export type KitErrorCode = keyof typeof KIT_ERRORS;

export function kitError(code: KitErrorCode, message: string): ExtensionError {
  return new ExtensionError(KIT_ERRORS[code].status, code, message);
}

/** The message of anything thrown, for logs and envelopes. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
